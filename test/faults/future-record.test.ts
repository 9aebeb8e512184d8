// Row: one change dated 2099 (a producer with a broken clock) in the middle of the load. It is dead-lettered
// (more than MAX_FUTURE_SKEW ahead of the host clock), fires nothing, and moves no clock: every other
// document's deadline fires at its own time.
import { DLQ_HEADERS } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { upserted } from '../freshness/helpers.js';
import { unique } from '../runtime/helpers.js';
import { reportCounts } from './report.js';
import { pipelineRow, PORTS, SMALL_PLAN } from './rows.js';

describe('fault suite', () => {
  it('a record dated 2099', async (ctx) => {
    const doc = unique('from-2099');
    await pipelineRow(ctx, {
      port: PORTS.shared,
      plan: SMALL_PLAN,
      faultAfterMs: 1_000,
      fault: async ({ cluster, pipeline, load }) => {
        load.deadDocs.add(doc);
        await cluster.produce(pipeline.t.content, [
          upserted(doc, 'faq', Date.parse('2099-01-01T00:00:00Z')),
        ]);
      },
      verify: async ({ cluster, pipeline }) => {
        const copies = (await cluster.readAll(pipeline.t.dlq)).filter((r) =>
          r.value?.toString().includes(doc),
        );
        reportCounts(ctx, { futureCopies: copies.length });
        expect(copies).toHaveLength(1);
        expect(copies[0]!.headers[DLQ_HEADERS.errorMessage]).toMatch(/future/i);
      },
    });
  });
});
