// Row: the broker frozen with SIGSTOP for 30 s under load (open sockets, no answers: requests time out
// instead of being refused), then SIGCONT.
import { describe, it } from 'vitest';
import { pipelineRow, PORTS } from './rows.js';

describe('fault suite', () => {
  it('broker SIGSTOP 30 s then SIGCONT', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.sigstop,
      fault: async ({ broker }) => {
        broker.pause();
        await new Promise((r) => setTimeout(r, 30_000));
        broker.resume();
      },
    });
  });
});
