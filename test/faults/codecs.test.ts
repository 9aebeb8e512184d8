// Row: compressed input. The broker stores the content topic lz4- and the sync topic zstd-compressed
// (compression.type makes it recompress whatever the producer sent), so the checker fetches only lz4 and
// zstd batches: every record must be read, none dead-lettered for its codec, no crash loop.
import { describe, it } from 'vitest';
import { pipelineRow, PORTS, SMALL_PLAN } from './rows.js';

describe('fault suite', () => {
  it('lz4 + zstd compressed input', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.shared,
      plan: SMALL_PLAN,
      faultAfterMs: 0,
      options: {
        inputConfig: {
          content: { 'compression.type': 'lz4' },
          sync: { 'compression.type': 'zstd' },
        },
      },
      fault: async () => {},
    });
  });
});
