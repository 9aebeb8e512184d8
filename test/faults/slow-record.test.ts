// Row: one record whose handling takes longer than the group's session timeout, among fast ones. Without a
// bound the member is dropped from the group mid-record, the record is redelivered, is slow again: a livelock.
// The runtime's per-record time budget (RECORD_TIME_BUDGET) dead-letters it instead, heartbeating meanwhile,
// and the partition goes on. Hosted by the runtime's echo fixture (packages/runtime/dist/testing), whose
// ECHO_SLOW_TITLE record sleeps ECHO_SLOW_MS: no real checker has a knob for one slow record.
import { DLQ_HEADERS } from '@tidemark/core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { contentEvent, ServiceProcess, unique } from '../runtime/helpers.js';
import { poll } from './cluster.js';
import { reportCounts } from './report.js';
import { PORTS, withBroker } from './rows.js';

const SLOW_TITLE = 'the slow one';

describe('fault suite', () => {
  it('one slow record past the session timeout', async (ctx) => {
    await withBroker(PORTS.shared, async ({ cluster }) => {
      const t = {
        input: unique('in'),
        output: unique('out'),
        dlq: unique('dlq'),
        findings: unique('findings'),
        service: unique('echo'),
      };
      await cluster.createTopics([t.input, t.output, t.dlq, t.findings]);
      const service = new ServiceProcess({
        KAFKA_BROKERS: cluster.brokers.join(','),
        ECHO_SERVICE: t.service,
        ECHO_INPUTS: t.input,
        ECHO_OUTPUT: t.output,
        TOPIC_DLQ: t.dlq,
        TOPIC_FINDINGS: t.findings,
        ECHO_SLOW_TITLE: SLOW_TITLE,
        // Four times the session timeout: a member that waits it out silently is long gone.
        ECHO_SLOW_MS: '24000',
        KAFKA_SESSION_TIMEOUT: '6s',
        RECORD_TIME_BUDGET: '4s',
      });
      onTestFailed(() => service.dump());
      try {
        await service.waitReady();
        const key = 'one-partition'; // every record on one partition: the slow one is in their way
        const messages = Array.from({ length: 301 }, (_, i) =>
          i === 150
            ? { ...contentEvent('slow', 'slow-doc', { title: SLOW_TITLE }), key }
            : { ...contentEvent(`fast-${i}`, `doc-${i}`), key },
        );
        const started = Date.now();
        await cluster.produce(t.input, messages);
        await poll(
          'every record committed',
          () => cluster.consumedAll(`tidemark-${t.service}`, t.input),
          90_000,
          500,
        );
        const elapsed = Date.now() - started;
        const [inputs, outputs, dlq] = await Promise.all([
          cluster.readAll(t.input),
          cluster.readAll(t.output),
          cluster.readAll(t.dlq),
        ]);
        const slow = inputs.find((r) => r.value!.toString().includes(SLOW_TITLE))!;
        const echoed = new Set(
          outputs.map((r) => (JSON.parse(r.value!.toString()) as { sourceId: string }).sourceId),
        );
        const fast = inputs.filter((r) => r !== slow);
        const lost = fast.filter(
          (r) => !echoed.has((JSON.parse(r.value!.toString()) as { id: string }).id),
        );
        reportCounts(ctx, {
          inputs: inputs.length,
          echoed: echoed.size,
          dlq: dlq.length,
          lost: lost.length,
          drainS: (elapsed / 1000).toFixed(1),
          exit: String(service.child.exitCode ?? 'running'),
        });
        expect(lost).toEqual([]);
        expect(echoed.has('slow')).toBe(false);
        expect(dlq).toHaveLength(1);
        expect(dlq[0]!.headers[DLQ_HEADERS.offset]).toBe(slow.offset);
        expect(dlq[0]!.headers[DLQ_HEADERS.errorClass]).toBe('RecordTimeBudgetError');
        // Dead-lettered once the budget ran out, not after the record's own 24 s.
        expect(elapsed).toBeLessThan(24_000);
        expect(service.child.exitCode).toBeNull();
      } finally {
        await service.dispose();
      }
    });
  });
});
