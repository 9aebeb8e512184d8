// Row: 5,000 documents changed at one instant and never indexed, so 5,000 sync-lag deadlines fall due in
// one tick. That tick's findings (~5 MB) are more than one produce request the broker accepts: the flush
// must be split, never crash-loop on MESSAGE_TOO_LARGE.
import { describe, it } from 'vitest';
import { BULK_CLASS } from './pipeline.js';
import { pipelineRow, PORTS } from './rows.js';

describe('fault suite', () => {
  it('5,000 deadlines due in one tick', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.shared,
      plan: { lost: 5_000, kept: 0, poison: 0 },
      load: { lostClass: BULK_CLASS, oneInstant: true, chunk: 500, rate: 5_000 },
      faultAfterMs: 0,
      fault: async () => {},
    });
  });
});
