import { TidemarkError } from '@tidemark/core';

/** Input a drift statistic cannot work with (empty sample, mismatched lengths, non-finite value); never retriable. */
export class DriftInputError extends TidemarkError {
  constructor(
    message: string,
    context: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retriable: false, context });
  }
}

/** Serialized drift state (from the changelog or a partial) that does not have the expected shape; never retriable. */
export class DriftStateError extends TidemarkError {
  constructor(
    message: string,
    context: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retriable: false, context });
  }
}
