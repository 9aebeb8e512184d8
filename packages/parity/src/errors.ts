import { TidemarkError } from '@tidemark/core';

/** An inventory chunk that contradicts the chunks already received for its snapshot; never retriable. */
export class InventoryChunkError extends TidemarkError {
  constructor(
    message: string,
    context: { system: string; side: string; snapshotId: string; chunk: number },
  ) {
    super(message, { retriable: false, context });
  }
}

/**
 * An event dated more than MAX_FUTURE_SKEW ahead of its partition's watermark (a producer with a broken clock). Never
 * retriable: the record goes to the DLQ and moves no clock, watermark, ledger time or recent-changes entry.
 */
export class FutureEventError extends TidemarkError {
  constructor(
    message: string,
    context: { eventTime: string; watermark: string; maxFutureSkewMs: number },
  ) {
    super(message, { retriable: false, context });
  }
}
