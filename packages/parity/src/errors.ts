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
