// Row: two freshness-monitor instances share the load; a third joins under load (rebalance: partitions
// move, state is restored from the changelog) and leaves again (another rebalance).
import { describe, it } from 'vitest';
import { pipelineRow, PORTS } from './rows.js';

describe('fault suite', () => {
  it('two freshness-monitors, a third joins and leaves under load', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.shared,
      checkers: 2,
      faultAfterMs: 2_000,
      fault: async ({ pipeline }) => {
        const third = await pipeline.startChecker();
        // Let it own partitions and process some of the stream before it leaves.
        await new Promise((r) => setTimeout(r, 4_000));
        await third.stop();
      },
    });
  });
});
