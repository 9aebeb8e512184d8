// Traces across Kafka: with `node --import @tidemark/runtime/otel` and OTLP/JSON pointed at a receiver in
// this test, the kafkajs instrumentation is live (loaded through the ESM hook before kafkajs), the runtime's
// handler span is the child of the instrumentation's process span of the record (no second `process` span),
// both link to the producer's span, outputs continue the handler span, and log lines about the record carry
// its trace.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, onTestFailed } from 'vitest';
import {
  Collector,
  ServiceProcess,
  closeProducer,
  contentEvent,
  echoEnv,
  echoTopics,
  produce,
  waitUntil,
} from './helpers.js';
import { attributesOf, startReceiver } from './otlp-receiver.js';
import type { ExportedSpan } from './otlp-receiver.js';

const running: Array<ServiceProcess | Collector> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await (r instanceof Collector ? r.close() : r.dispose());
});
afterAll(closeProducer);

function start(env: Record<string, string>): ServiceProcess {
  const s = new ServiceProcess(env, ['--import', '@tidemark/runtime/otel']);
  running.push(s);
  onTestFailed(() => s.dump());
  return s;
}

describe('runtime tracing', () => {
  it("handles each record in a child of the instrumentation's process span, linked to the producer", async () => {
    const receiver = await startReceiver();
    try {
      const t = await echoTopics('otel', 1);
      const traceId = randomBytes(16).toString('hex');
      const producerSpanId = randomBytes(8).toString('hex');
      const badSpanId = randomBytes(8).toString('hex');
      await produce(t.input, [
        contentEvent('traced', 'doc', {
          headers: { traceparent: `00-${traceId}-${producerSpanId}-01` },
        }),
        // Not JSON: dead-lettered, and the dead-letter log line carries the record's trace.
        { key: 'bad', value: '{oops', headers: { traceparent: `00-${traceId}-${badSpanId}-01` } },
      ]);
      const out = await Collector.start([t.output]);
      running.push(out);
      const service = start(
        echoEnv(t, {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'echo-otel-test',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        }),
      );
      await out.waitFor('the output', () => out.on(t.output).length >= 1);
      const [, outTrace, outParent] =
        /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(
          out.on(t.output)[0]!.headers['traceparent'] ?? '',
        ) ?? [];

      const linksTo = (s: ExportedSpan, spanId: string) =>
        (s.links ?? []).some((l) => l.traceId === traceId && l.spanId === spanId);
      // The instrumentation ends a record's process span after the whole batch, so it can reach the receiver in a
      // later export than the handler spans: wait for both.
      await waitUntil(
        'the handler and process spans exported',
        () =>
          receiver.spans.some((s) => s.name === `handle ${t.input}` && linksTo(s, badSpanId)) &&
          receiver.spans.some((s) => s.name === `process ${t.input}` && linksTo(s, producerSpanId)),
      );
      const handler = receiver.spans.find(
        (s) => s.name === `handle ${t.input}` && linksTo(s, producerSpanId),
      );
      // The instrumentation's span of the record: one `process` span per record, the handler's parent.
      const processSpans = receiver.spans.filter(
        (s) => s.name === `process ${t.input}` && linksTo(s, producerSpanId),
      );
      expect(processSpans).toHaveLength(1);
      expect(processSpans[0]).toMatchObject({ kind: 5 /* CONSUMER */, traceId: handler?.traceId });
      expect(handler).toMatchObject({
        kind: 1 /* INTERNAL */,
        parentSpanId: processSpans[0]!.spanId,
      });
      expect(attributesOf(handler)).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': t.input,
        'messaging.destination.partition.id': '0',
        'messaging.kafka.offset': '0',
      });
      // The output continues the handler span: the trace goes on downstream.
      expect([outTrace, outParent]).toEqual([handler?.traceId, handler?.spanId]);
      // kafkajs itself is instrumented (its send span for the output exists), so the ESM hook worked.
      await waitUntil('a kafkajs send span', () =>
        receiver.spans.some((s) => s.name === `send ${t.output}`),
      );
      const badProcess = receiver.spans.find(
        (s) => s.name === `process ${t.input}` && linksTo(s, badSpanId),
      );
      const deadLetterLine = service.logs.find(
        (l) => l.msg === 'record sent to the dead-letter topic',
      );
      expect(deadLetterLine).toMatchObject({
        trace_id: badProcess?.traceId,
        span_id: badProcess?.spanId,
      });

      service.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    } finally {
      await receiver.close();
    }
  });

  it('is off cleanly without OTEL_* settings: no exporter, input trace context still copied', async () => {
    const t = await echoTopics('nootel', 1);
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    await produce(t.input, [contentEvent('plain', 'doc', { headers: { traceparent } })]);
    const out = await Collector.start([t.output]);
    running.push(out);
    const service = start(echoEnv(t));
    await out.waitFor('the output', () => out.on(t.output).length >= 1);
    expect(out.on(t.output)[0]!.headers['traceparent']).toBe(traceparent);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.stderr).toBe('');
    expect(service.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });
});
