// Traces across Kafka: with `node --import @tidemark/runtime/otel` and OTLP/JSON pointed at a receiver in
// this test, the span of the consumer side carries the producer's trace id, outputs continue that trace,
// and the kafkajs instrumentation is live (loaded through the ESM hook before kafkajs).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

/** A minimal OTLP/HTTP JSON receiver: collects the spans of every POST /v1/traces. */
async function startReceiver(): Promise<{
  url: string;
  spans: ExportedSpan[];
  close: () => Promise<void>;
}> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(body) as {
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: ExportedSpan[] }> }>;
        };
        for (const rs of payload.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
  it('continues the producer trace in the consumer span and the outputs', async () => {
    const receiver = await startReceiver();
    try {
      const t = await echoTopics('otel', 1);
      const traceId = randomBytes(16).toString('hex');
      const producerSpanId = randomBytes(8).toString('hex');
      await produce(t.input, [
        contentEvent('traced', 'doc', {
          headers: { traceparent: `00-${traceId}-${producerSpanId}-01` },
        }),
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
      expect(outTrace).toBe(traceId);

      await waitUntil('the consumer span exported', () =>
        receiver.spans.some((s) => s.traceId === traceId),
      );
      const processSpan = receiver.spans.find(
        (s) => s.traceId === traceId && s.name === `process ${t.input}`,
      );
      expect(processSpan).toMatchObject({ parentSpanId: producerSpanId, kind: 5 /* CONSUMER */ });
      // The output's traceparent names the consumer span as its parent: the trace goes on downstream.
      expect(processSpan?.spanId).toBe(outParent);
      // kafkajs itself is instrumented (its send span for the output exists), so the ESM hook worked.
      await waitUntil('a kafkajs send span', () =>
        receiver.spans.some((s) => s.name === `send ${t.output}`),
      );

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
