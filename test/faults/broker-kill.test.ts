// Row: the broker killed with SIGKILL (no controlled shutdown) under load, then started again on its data.
import { describe, it } from 'vitest';
import { pipelineRow, PORTS, routerRodeItOut } from './rows.js';

describe('fault suite', () => {
  it('broker kill -9 + restart', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.kill9,
      fault: async ({ broker }) => {
        await broker.kill9();
        await broker.start();
      },
      verify: routerRodeItOut,
    });
  });
});
