// Row: 1,000 input records delivered twice (sent again byte for byte, as a producer retry or a replayed
// source would): one finding id per document, one DLQ copy per poison record, no alert id twice.
import { describe, it } from 'vitest';
import { waitUntil } from '../runtime/helpers.js';
import { resend } from './pipeline.js';
import { pipelineRow, PORTS } from './rows.js';

describe('fault suite', () => {
  it('duplicate delivery of 1,000 records', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.shared,
      // Enough for 1,000 records (a kept document is two), sent twice as fast as the outage rows' load.
      plan: { lost: 800, kept: 250, poison: 10 },
      load: { rate: 320 },
      faultAfterMs: 0,
      fault: async ({ load }) => {
        await waitUntil('1,000 records sent', () => load.sent >= 1_000, 60_000);
        await resend(load, 1_000);
      },
    });
  });
});
