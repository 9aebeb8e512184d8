import {
  DEFAULT_TOPICS,
  ManualClock,
  noopMetrics,
  parseEnvelope,
  parseTime,
  resolveTopics,
  type HandlerContext,
  type InputRecord,
  type LabelVocabulary,
  type MetricsSink,
  type OutputRecord,
} from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import type { FreshnessInputEvent } from './checks.js';
import { FreshnessLedger } from './ledger.js';
import { FRESHNESS_SERVICE, SYNC_LAG_METRIC, createFreshnessService } from './service.js';
import {
  DAY,
  HOUR,
  MINUTE,
  T0,
  TRACE_A,
  TRACE_B,
  indexed,
  run,
  testSettings,
  upserted,
} from './test-events.js';

// What the contracts of these tests name: confluence with one connector and two content classes.
const vocabulary: LabelVocabulary = {
  systems: ['confluence'],
  connectors: (system) => (system === 'confluence' ? ['confluence-prod'] : []),
  contentClasses: (system) => (system === 'confluence' ? ['policy', 'runbook'] : []),
};

function record(event: FreshnessInputEvent, headers: Record<string, string> = {}): InputRecord {
  const topic = event.type.startsWith('content.')
    ? DEFAULT_TOPICS.contentChanges
    : DEFAULT_TOPICS.syncEvents;
  return {
    topic,
    partition: 0,
    offset: '0',
    timestamp: '0',
    key: null,
    value: Buffer.from(JSON.stringify(event)),
    headers,
  };
}

function context(
  now: number,
  metrics: MetricsSink = noopMetrics,
  traceparent?: string,
): HandlerContext {
  return {
    now,
    partition: 0,
    service: FRESHNESS_SERVICE,
    topics: resolveTopics(),
    metrics,
    ...(traceparent ? { traceparent } : {}),
  };
}

function payload(output: OutputRecord): {
  id: string;
  source: string;
  type: string;
  data: Record<string, unknown>;
} {
  return JSON.parse(String(output.value)) as never;
}

describe('createFreshnessService', () => {
  it('declares the service, its inputs and the sync-lag histogram', () => {
    const service = createFreshnessService({
      settings: testSettings,
      topics: { syncEvents: 'sync.custom' },
    });
    expect(service.name).toBe('freshness-monitor');
    expect(service.inputs).toEqual(['content.changes.v1', 'sync.custom']);
    expect(service.metrics?.map((m) => [m.name, m.kind, m.labelNames])).toEqual([
      [SYNC_LAG_METRIC, 'histogram', ['system', 'connector', 'content_class']],
    ]);
    expect(service.createState(3)).toBeInstanceOf(FreshnessLedger);
  });

  it.each([
    [{ tickLimit: 0 }, 'FreshnessLedger: tickLimit must be ≥ 1, got 0'],
    [{ deletedRetentionMs: -1 }, 'FreshnessLedger: deletedRetentionMs must be ≥ 0, got -1'],
  ])('rejects bad options at construction: %j', (options, message) => {
    expect(() => createFreshnessService({ settings: testSettings, ...options })).toThrowError(
      new RangeError(message),
    );
  });

  it('handles parsed records on event time, records sync lag, and emits finding records with the trace', async () => {
    const service = createFreshnessService({ settings: testSettings, labels: vocabulary });
    const state = service.createState(0);
    const observed: Array<[string, Record<string, string>, number]> = [];
    const metrics: MetricsSink = {
      record: (name, labels, value) => observed.push([name, labels, value]),
    };
    const source = upserted({ docId: 'PAGE-1', revision: 1, at: T0 });
    const sourceRecord = record(source, { traceparent: TRACE_A });
    // The host's wall clock (ctx.now) is far ahead; handle() still decides on the event's time.
    expect(
      await service.handle(
        state,
        parseEnvelope(sourceRecord) as FreshnessInputEvent,
        sourceRecord,
        context(T0 + DAY, metrics, TRACE_A),
      ),
    ).toEqual([]);
    const fired = service.tick?.(state, context(T0 + 15 * MINUTE)) ?? [];
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ topic: 'dq.findings.v1', headers: { traceparent: TRACE_A } });
    expect(payload(fired[0] as OutputRecord)).toMatchObject({
      source: 'tidemark/freshness-monitor',
      type: 'tidemark.finding',
      data: {
        check: 'freshness.sync-lag',
        status: 'firing',
        observedAt: '2024-05-01T00:15:00.000Z',
      },
    });
    expect(fired[0]?.key).toBe(payload(fired[0] as OutputRecord).data['fingerprint']);

    const index = indexed({ docId: 'PAGE-1', revision: 1, at: T0 + 20 * MINUTE, sourceTime: T0 });
    const indexRecord = record(index, { traceparent: TRACE_B });
    const resolved = await service.handle(
      state,
      parseEnvelope(indexRecord) as FreshnessInputEvent,
      indexRecord,
      context(T0 + DAY, metrics, TRACE_B),
    );
    expect(resolved.map((r) => payload(r).data['status'])).toEqual(['resolved']);
    // The resolution links to the source change, the trace the finding is about.
    expect(resolved[0]?.headers).toEqual({ traceparent: TRACE_A });
    expect(observed).toEqual([
      [
        SYNC_LAG_METRIC,
        { system: 'confluence', connector: 'confluence-prod', content_class: 'policy' },
        1200,
      ],
    ]);
  });

  it('takes the trace from the CloudEvents traceparent attribute when the record has no header', async () => {
    const service = createFreshnessService({ settings: testSettings });
    const state = service.createState(0);
    const event = { ...upserted({ docId: 'PAGE-1', revision: 1, at: T0 }), traceparent: TRACE_B };
    await service.handle(state, event, record(event), context(T0));
    expect(service.tick?.(state, context(T0 + HOUR))[0]?.headers).toEqual({ traceparent: TRACE_B });
  });

  it('gives the same finding ids whatever the tick cadence (live wall clock vs replay)', async () => {
    const events = [
      upserted({ docId: 'A', revision: 1, at: T0, reviewedAt: T0 - 89 * DAY }),
      upserted({ docId: 'B', revision: 1, at: T0 + MINUTE }),
      run({ runId: 'r1', status: 'succeeded', at: T0 + 2 * MINUTE }),
      indexed({ docId: 'A', revision: 1, at: T0 + 40 * MINUTE, sourceTime: T0 }),
      run({ runId: 'r2', status: 'succeeded', at: T0 + 3 * HOUR }),
      indexed({ docId: 'B', revision: 1, at: T0 + 2 * DAY, sourceTime: T0 + MINUTE }),
    ];
    const end = T0 + 3 * DAY;
    async function host(tickEveryMs: number): Promise<string[]> {
      const service = createFreshnessService({ settings: testSettings });
      const state = service.createState(0);
      const clock = new ManualClock(T0);
      const ids: string[] = [];
      const tickUntil = (ms: number) => {
        while (clock.now() + tickEveryMs <= ms) {
          clock.advance(tickEveryMs);
          for (const out of service.tick?.(state, context(clock.now())) ?? [])
            ids.push(payload(out).id);
        }
      };
      for (const event of events) {
        tickUntil(parseTime(event.time));
        for (const out of await service.handle(state, event, record(event), context(clock.now()))) {
          ids.push(payload(out).id);
        }
      }
      tickUntil(end);
      clock.set(end);
      for (const out of service.tick?.(state, context(end)) ?? []) ids.push(payload(out).id);
      return ids.sort();
    }
    const everyMinute = await host(MINUTE);
    expect(everyMinute).toHaveLength(8);
    expect(await host(DAY)).toEqual(everyMinute);
    expect(await host(10 * DAY)).toEqual(everyMinute);
  });

  it('bounds sync-lag labels to the contracts: 2,000 distinct system names make 2 series, not 2,000', async () => {
    const service = createFreshnessService({ settings: testSettings, labels: vocabulary });
    const state = service.createState(0);
    const series = new Set<string>();
    const metrics: MetricsSink = {
      record: (_name, labels) => series.add(JSON.stringify(labels)),
    };
    const apply = async (event: FreshnessInputEvent) =>
      service.handle(state, event, record(event), context(T0 + DAY, metrics));
    for (let i = 0; i < 2_000; i++) {
      const system = i === 0 ? 'confluence' : `made-up-${i}`;
      const docId = `DOC-${i}`;
      await apply(upserted({ docId, revision: 1, at: T0, system, contentClass: `class-${i}` }));
      await apply(
        indexed({
          docId,
          revision: 1,
          at: T0 + MINUTE,
          sourceTime: T0,
          system,
          connector: `connector-${i}`,
        }),
      );
    }
    expect([...series].map((s) => JSON.parse(s) as unknown)).toEqual([
      { system: 'confluence', connector: 'other', content_class: 'other' },
      { system: 'other', connector: 'other', content_class: 'other' },
    ]);
  });

  it('without a vocabulary records every system as other', async () => {
    const service = createFreshnessService({ settings: testSettings });
    const state = service.createState(0);
    const observed: Array<Record<string, string>> = [];
    const metrics: MetricsSink = { record: (_name, labels) => observed.push(labels) };
    for (const event of [
      upserted({ docId: 'P', revision: 1, at: T0 }),
      indexed({ docId: 'P', revision: 1, at: T0 + MINUTE, sourceTime: T0 }),
    ])
      await service.handle(state, event, record(event), context(T0 + DAY, metrics));
    expect(observed).toEqual([{ system: 'other', connector: 'other', content_class: 'other' }]);
  });
});
