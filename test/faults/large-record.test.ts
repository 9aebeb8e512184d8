// Row: a 900 KB record that is not an event, in the middle of the load. Its DLQ copy (original bytes plus
// the tidemark.dlq.* headers) is one record close to the broker's 1 MB limit: it must be produced whole,
// not truncated, and not crash-loop the checker; the rest of the stream goes on.
import { DLQ_HEADERS } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { reportCounts } from './report.js';
import { pipelineRow, PORTS, SMALL_PLAN } from './rows.js';

const SIZE = 900 * 1024;

describe('fault suite', () => {
  it('a 900 KB record and its DLQ copy', async (ctx) => {
    // Not JSON: starts like an event, then 900 KB of filler.
    const big = Buffer.alloc(SIZE, 'x');
    big.write('{"specversion": "1.0", "data": ');
    await pipelineRow(ctx, {
      port: PORTS.shared,
      plan: SMALL_PLAN,
      faultAfterMs: 1_000,
      fault: async ({ cluster, pipeline }) => {
        await cluster.produce(pipeline.t.content, [{ key: 'big-record', value: big }]);
      },
      verify: async ({ cluster, pipeline }) => {
        const [input] = (await cluster.readAll(pipeline.t.content)).filter(
          (r) => r.key === 'big-record',
        );
        const copies = (await cluster.readAll(pipeline.t.dlq)).filter(
          (r) =>
            r.headers[DLQ_HEADERS.partition] === String(input!.partition) &&
            r.headers[DLQ_HEADERS.offset] === input!.offset,
        );
        reportCounts(ctx, {
          bigCopies: copies.length,
          bigCopyBytes: copies[0]?.value?.length ?? 0,
        });
        expect(copies).toHaveLength(1);
        expect(copies[0]!.headers['tidemark.dlq.truncated']).toBeUndefined();
        expect(copies[0]!.value!.equals(big)).toBe(true);
        expect(copies[0]!.headers[DLQ_HEADERS.errorClass]).toBe('EnvelopeError');
      },
    });
  });
});
