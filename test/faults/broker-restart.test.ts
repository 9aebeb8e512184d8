// Row: a clean broker restart (SIGTERM, controlled shutdown, start again) while the pipeline is under load.
import { describe, it } from 'vitest';
import { pipelineRow, PORTS, routerRodeItOut } from './rows.js';

describe('fault suite', () => {
  it('clean broker restart mid-stream', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.restart,
      fault: async ({ broker }) => {
        await broker.stop();
        await broker.start();
      },
      verify: routerRodeItOut,
    });
  });
});
