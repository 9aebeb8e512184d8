// Row: the broker frozen with SIGSTOP for 30 s under load (open sockets, no answers: requests time out
// instead of being refused), then SIGCONT.
import { describe, it } from 'vitest';
import { pipelineRow, PORTS, routerRodeItOut } from './rows.js';

describe('fault suite', () => {
  // Each produce request that timed out during the freeze may still be appended when the broker wakes;
  // kafkajs takes its sequence numbers back all the same, so until the runtime sent one batch at a time
  // (SerialProducer) another batch reused them: OUT_OF_ORDER_SEQUENCE_NUMBER (the router exited 1) or,
  // with the same record count, a "duplicate" the broker acknowledged without writing (findings missing).
  it('broker SIGSTOP 30 s then SIGCONT', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.sigstop,
      fault: async ({ broker }) => {
        broker.pause();
        await new Promise((r) => setTimeout(r, 30_000));
        broker.resume();
      },
      verify: routerRodeItOut,
    });
  });
});
