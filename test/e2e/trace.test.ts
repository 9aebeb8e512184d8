// One trace from a source change through its index event to the alert about it: the freshness-monitor and the
// alert-router run as real processes with `node --import @tidemark/runtime/otel`, exporting to an OTLP receiver
// in this test. A connector's content change (its producer span in the connector's trace) falls behind on sync,
// the sync-lag alert fires, the index event (same connector trace) arrives and the alert resolves. The alert's
// traceparent names the freshness-monitor's handler span of the change, which links to the change's producer
// span; the router's handler span of the finding links to that same span.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { CONNECTOR, FreshnessProcess, SYSTEM, contractsDir } from '../freshness/helpers.js';
import {
  Collector,
  ServiceProcess,
  closeProducer,
  createTopics,
  produce,
  unique,
  waitUntil,
} from '../runtime/helpers.js';
import { startReceiver } from '../runtime/otlp-receiver.js';
import type { ExportedSpan } from '../runtime/otlp-receiver.js';
import { FAST_ROUTING, ROUTER_MAIN, routerEnv, routerTopics } from '../routing/helpers.js';

const running: Array<ServiceProcess | Collector> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await (r instanceof Collector ? r.close() : r.dispose());
});
afterAll(async () => {
  await closeProducer();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function event(type: string, docId: string, at: number, data: Record<string, unknown>): string {
  return JSON.stringify({
    specversion: '1.0',
    id: `${type}-${docId}`,
    source: `connector/${CONNECTOR}`,
    type,
    time: new Date(at).toISOString(),
    subject: `${SYSTEM}/${docId}`,
    data: { system: SYSTEM, docId, revision: 1, ...data },
  });
}

interface AlertEvent {
  data: { status: string; labels: Record<string, string>; traceparent?: string };
}

describe('tracing across services', () => {
  it('links the alert about a change to the change, through the freshness-monitor and the router', async () => {
    const receiver = await startReceiver();
    try {
      const t = await routerTopics('trace-router');
      const content = unique('trace-content');
      const sync = unique('trace-sync');
      await createTopics([content, sync], 3);
      const dir = await contractsDir({}); // sync-lag SLA 3s
      dirs.push(dir);
      await writeFile(path.join(dir, 'routing.yaml'), FAST_ROUTING);
      const otel = (service: string) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: service,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      });
      const freshness = new FreshnessProcess({
        // The router accepts findings of Tidemark's services: tidemark/freshness-monitor-<instance>.
        SERVICE_NAME: unique('freshness-monitor'),
        KAFKA_GROUP_ID: unique('trace-fm-group'),
        TOPIC_CONTENT_CHANGES: content,
        TOPIC_SYNC_EVENTS: sync,
        TOPIC_FINDINGS: t.findings,
        TOPIC_DLQ: t.dlq,
        CONTRACTS_DIR: dir,
        TICK_SCHEDULE: '* * * * * *',
        ...otel('freshness-monitor'),
      });
      const router = new ServiceProcess(
        routerEnv(t, dir, otel('alert-router')),
        ['--import', '@tidemark/runtime/otel'],
        ROUTER_MAIN,
      );
      running.push(freshness, router);
      onTestFailed(() => {
        freshness.dump();
        router.dump();
      });
      await Promise.all([freshness.waitReady(), router.waitReady()]);
      const out = await Collector.start([t.alerts]);
      running.push(out);

      // The connector's trace: its change and, later, its index event are spans of one trace.
      const connectorTrace = hex(16);
      const changeSpan = hex(8);
      const indexSpan = hex(8);
      const docId = unique('doc');
      const at = Date.now();
      await produce(content, [
        {
          key: `${SYSTEM}/${docId}`,
          value: event('content.upserted', docId, at, {
            contentClass: 'faq',
            title: 'Parental leave',
            owner: 'alice@example.com',
          }),
          headers: { traceparent: `00-${connectorTrace}-${changeSpan}-01` },
        },
      ]);
      const alerts = (status: string) =>
        out
          .json<AlertEvent>(t.alerts)
          .filter(
            (a) => a.data.status === status && a.data.labels['check'] === 'freshness.sync-lag',
          );
      await out.waitFor('the sync-lag alert firing', () => alerts('firing').length > 0);
      await produce(sync, [
        {
          key: `${SYSTEM}/${docId}`,
          value: event('index.upserted', docId, Date.now(), {
            connector: CONNECTOR,
            sourceTime: new Date(at).toISOString(),
          }),
          headers: { traceparent: `00-${connectorTrace}-${indexSpan}-01` },
        },
      ]);
      await out.waitFor('the sync-lag alert resolved', () => alerts('resolved').length > 0);

      // The alert names a span of the freshness-monitor: its handler span of the change.
      const [, alertTrace, alertSpan] =
        /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(alerts('firing')[0]!.data.traceparent ?? '') ??
        [];
      expect(alerts('resolved')[0]!.data.traceparent).toBe(alerts('firing')[0]!.data.traceparent);
      const linksTo = (s: ExportedSpan, traceId: string, spanId: string) =>
        (s.links ?? []).some((l) => l.traceId === traceId && l.spanId === spanId);
      const find = (what: string, predicate: (s: ExportedSpan) => boolean) =>
        waitUntil(what, () => receiver.spans.some(predicate)).then(() =>
          receiver.spans.find(predicate)!,
        );
      const changeHandler = await find(
        'the handler span of the change',
        (s) => s.spanId === alertSpan,
      );
      expect(changeHandler).toMatchObject({ traceId: alertTrace, name: `handle ${content}` });
      // …which links to the change's producer span, and is the child of the instrumentation's process span,
      // which links there too.
      expect(linksTo(changeHandler, connectorTrace, changeSpan)).toBe(true);
      const changeProcess = receiver.spans.find((s) => s.spanId === changeHandler.parentSpanId);
      expect(changeProcess).toMatchObject({ name: `process ${content}`, traceId: alertTrace });
      expect(linksTo(changeProcess!, connectorTrace, changeSpan)).toBe(true);
      // The index event of the same connector trace is handled in a span linked to it.
      await find(
        'the handler span of the index event',
        (s) => s.name === `handle ${sync}` && linksTo(s, connectorTrace, indexSpan),
      );
      // The router handled the finding in a span linked to the same change span of the freshness-monitor.
      await find(
        "the router's handler span of the finding",
        (s) => s.name === `handle ${t.findings}` && linksTo(s, alertTrace!, alertSpan!),
      );
    } finally {
      await receiver.close();
    }
  });
});
