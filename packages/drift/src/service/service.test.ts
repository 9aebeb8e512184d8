import { loadContractsOrThrow } from '@tidemark/contracts';
import {
  ConfigError,
  EnvelopeError,
  formatTime,
  resolveTopics,
  type Finding,
  type HandlerContext,
  type InputRecord,
  type MetricsSink,
  type OutputRecord,
  type StateChange,
} from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createRng, normal, type Rng } from '../stat/random.js';
import {
  createDriftService,
  DRIFT_DETECTOR_TOPICS,
  DRIFT_PARTIAL_TYPE,
  driftOptionsFromEnv,
  type DriftDetectorService,
} from './service.js';
import type { DriftServiceState } from './state.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 2, 2); // a Monday

const CONTRACT = `
apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: 7
owner: { team: docs, steward: ana@example.com, platformOwner: platform }
labels: { tier: gold }
drift:
  - name: size
    kind: numeric
    field: sizeBytes
    window: 1h
    baseline: { mode: rolling, windows: 3 }
    minSamples: 200
    thresholds: { psi: 0.25, ksPValue: 0.001 }
  - name: language
    kind: categorical
    field: language
    window: 1h
    baseline: { mode: rolling, windows: 3 }
    minSamples: 200
    thresholds: { chiSquarePValue: 0.001 }
  - name: changes
    kind: volume
    window: 1h
    baseline: { mode: rolling, windows: 4 }
    minSamples: 20
    thresholds: { volumeScore: 4 }
  - name: applied
    kind: volume
    by: connector
    mode: shadow
    window: 1h
    baseline: { mode: rolling, windows: 4 }
    minSamples: 20
    thresholds: { volumeScore: 4 }
classes:
  policy:
    owner: { steward: policy@example.com }
    labels: { tier: platinum }
    drift:
      - name: policy-size
        kind: numeric
        field: sizeBytes
        window: 1h
        baseline: { mode: pinned, reference: '2026-03-02T00:00:00Z' }
        minSamples: 50
        thresholds: { psi: 0.25 }
`;
const OWNERS = `
apiVersion: tidemark/v1
kind: Owners
teams:
  docs: { contact: docs@example.com }
  platform: { contact: platform@example.com }
`;
const contracts = loadContractsOrThrow([
  { path: 'contracts/wiki.yaml', text: CONTRACT },
  { path: 'contracts/owners.yaml', text: OWNERS },
]);
const topics = resolveTopics();

/** Counts every metric observation by name (labels joined in). */
class Metrics implements MetricsSink {
  readonly seen = new Map<string, number>();
  record(name: string, labels: Record<string, string>, value: number): void {
    const key = [name, ...Object.values(labels)].join(' ');
    this.seen.set(key, (this.seen.get(key) ?? 0) + value);
  }
}

/**
 * An in-process host like replay: records keyed onto `partitions` partitions, partials fed back at once (to the
 * partition their key hashes to), findings collected, and each partition's changelog kept compacted.
 */
class Host {
  readonly states = new Map<number, DriftServiceState>();
  readonly findings: Finding[] = [];
  readonly changelog = new Map<number, Map<string, Buffer | null>>();
  readonly drains: StateChange[][] = [];
  readonly metrics = new Metrics();
  private offset = 0;

  constructor(
    readonly service: DriftDetectorService,
    readonly partitions = 3,
  ) {
    for (let p = 0; p < partitions; p++) this.states.set(p, service.createState(p));
  }

  partitionOf(key: string): number {
    let h = 7;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
    return h % this.partitions;
  }

  ctx(now: number, partition: number): HandlerContext {
    return { now, partition, service: 'drift-detector', topics, metrics: this.metrics };
  }

  deliver(topic: string, key: string, value: string | Buffer, now: number): void {
    const partition = this.partitionOf(key);
    const record: InputRecord = {
      topic,
      partition,
      offset: String(this.offset++),
      timestamp: String(now),
      key,
      value: Buffer.from(value),
      headers: {},
    };
    const state = this.states.get(partition)!;
    const out = this.service.handle(
      state,
      this.service.decode(record),
      record,
      this.ctx(now, partition),
    );
    this.persist(partition);
    this.route(out, now);
  }

  tick(now: number): void {
    for (let p = 0; p < this.partitions; p++) {
      const out = this.service.tick(this.states.get(p)!, this.ctx(now, p));
      this.persist(p);
      this.route(out, now);
    }
  }

  /** Replaces every state with a fresh one restored from its compacted changelog (entries in `order`). */
  restart(order: 'forward' | 'reverse' = 'forward'): void {
    for (let p = 0; p < this.partitions; p++) {
      const state = this.service.createState(p);
      const entries = [...(this.changelog.get(p) ?? [])];
      if (order === 'reverse') entries.reverse();
      for (const [k, v] of entries) state.restore(k, v);
      this.states.set(p, state);
    }
  }

  private persist(partition: number): void {
    const changes = this.states.get(partition)!.drainChanges();
    if (changes.length === 0) return;
    this.drains.push(changes);
    let log = this.changelog.get(partition);
    if (log === undefined) this.changelog.set(partition, (log = new Map()));
    // Compaction keeps the last value per key, a tombstone removes it.
    for (const c of changes) {
      log.delete(c.key);
      if (c.value !== null) log.set(c.key, c.value);
    }
  }

  private route(out: readonly OutputRecord[], now: number): void {
    for (const o of out) {
      if (o.topic === this.service.partialsTopic) this.deliver(o.topic, o.key!, o.value!, now);
      else if (o.topic === topics.findings)
        this.findings.push((JSON.parse(String(o.value)) as { data: Finding }).data);
      else throw new Error(`unexpected output topic ${o.topic}`);
    }
  }
}

const LANGS = ['en', 'de', 'fr', 'ja'];

interface WindowPlan {
  n: number;
  mean?: number;
  und?: boolean;
  policy?: number;
}

/** Content and index events of window `w`: sizes ~ N(mean, 800), languages en/de/fr/ja (a third `und` if asked). */
function windowEvents(rng: Rng, w: number, plan: WindowPlan) {
  const start = T0 + w * HOUR;
  const out: Array<{ topic: string; key: string; value: string; time: number }> = [];
  for (let i = 0; i < plan.n; i++) {
    const time = start + Math.floor((i * HOUR) / plan.n);
    const docId = `w${w}-d${i}`;
    const cls = i < (plan.policy ?? 0) ? 'policy' : 'runbook';
    const language = plan.und && i % 3 === 0 ? 'und' : LANGS[Math.floor(rng() * LANGS.length)]!;
    out.push({
      topic: topics.contentChanges,
      key: `wiki/${docId}`,
      time,
      value: JSON.stringify({
        specversion: '1.0',
        id: `c-${docId}`,
        source: 'connector/wiki-prod',
        type: 'content.upserted',
        time: formatTime(time),
        subject: `wiki/${docId}`,
        data: {
          system: 'wiki',
          docId,
          revision: 1,
          contentClass: cls,
          title: docId,
          language,
          sizeBytes: Math.max(0, Math.round(normal(rng, plan.mean ?? 6000, 800))),
        },
      }),
    });
    out.push({
      topic: topics.syncEvents,
      key: `wiki/${docId}`,
      time: time + 1000,
      value: JSON.stringify({
        specversion: '1.0',
        id: `i-${docId}`,
        source: 'index/search',
        type: 'index.upserted',
        time: formatTime(time + 1000),
        data: {
          connector: 'wiki-prod',
          system: 'wiki',
          docId,
          revision: 1,
          sourceTime: formatTime(time),
        },
      }),
    });
  }
  return out.sort((a, b) => a.time - b.time);
}

const PLAN: WindowPlan[] = [
  { n: 600 },
  { n: 640 },
  { n: 580 },
  { n: 620 },
  { n: 600, mean: 9000, und: true }, // 4: size and language shift
  { n: 610 }, // 5: back
  { n: 120 }, // 6: volume drop (too few values for a size or language verdict)
  { n: 600 }, // 7: back
];

/** Lives through PLAN: events as they happen (ctx.now a few seconds after event time), a tick every minute. */
function live(host: Host, plan = PLAN, seed = 1, onWindow?: (w: number) => void): void {
  const rng = createRng(seed);
  for (let w = 0; w < plan.length; w++) {
    const events = windowEvents(rng, w, plan[w]!);
    let e = 0;
    for (let t = T0 + w * HOUR; t < T0 + (w + 1) * HOUR; t += MIN) {
      for (; e < events.length && events[e]!.time < t + MIN; e++) {
        const ev = events[e]!;
        host.deliver(ev.topic, ev.key, ev.value, ev.time + 3000);
      }
      host.tick(t + MIN);
    }
    onWindow?.(w);
  }
  for (let t = T0 + plan.length * HOUR; t <= T0 + plan.length * HOUR + 10 * MIN; t += MIN)
    host.tick(t);
}

const summary = (fs: readonly Finding[]) =>
  fs.map(
    (f) =>
      `${f.check} ${f.status} ${f.subject.feature} ${f.observedAt}${f.shadow ? ' shadow' : ''}`,
  );
const sorted = (fs: readonly Finding[]) =>
  [...fs].sort((a, b) =>
    `${a.observedAt} ${a.check} ${a.subject.feature} ${a.status}`.localeCompare(
      `${b.observedAt} ${b.check} ${b.subject.feature} ${b.status}`,
    ),
  );
const end = (w: number) => formatTime(T0 + (w + 1) * HOUR);

describe('drift-detector service', () => {
  it('fires numeric, categorical and volume drift on planted shifts, and resolves them', () => {
    const host = new Host(createDriftService({ contracts, topics }));
    live(host);
    expect(summary(host.findings).sort()).toEqual(
      [
        `drift.numeric firing size ${end(4)}`,
        `drift.categorical firing language ${end(4)}`,
        `drift.numeric resolved size ${end(5)}`,
        `drift.categorical resolved language ${end(5)}`,
        `drift.volume firing changes ${end(6)}`,
        `drift.volume firing applied ${end(6)} shadow`,
        `drift.volume resolved changes ${end(7)}`,
        `drift.volume resolved applied ${end(7)} shadow`,
      ].sort(),
    );
    const size = host.findings.find((f) => f.subject.feature === 'size')!;
    expect(size).toMatchObject({
      subject: { system: 'wiki', feature: 'size', field: 'sizeBytes' },
      owner: { team: 'docs', steward: 'ana@example.com', platformOwner: 'platform' },
      labels: { tier: 'gold' },
      contract: { file: 'contracts/wiki.yaml', version: '7' },
      severity: 'warning',
      evidence: { window: { count: 600 }, baseline: { mode: 'rolling', windows: 3, count: 1840 } },
    });
    expect(size.shadow).toBeUndefined();
    const language = host.findings.find((f) => f.subject.feature === 'language')!;
    expect((language.evidence.topCategories as Array<{ category: string }>)[0]!.category).toBe(
      'und',
    );
    const applied = host.findings.find((f) => f.subject.feature === 'applied')!;
    expect(applied).toMatchObject({
      subject: { system: 'wiki', feature: 'applied', connector: 'wiki-prod' },
      shadow: true,
      evidence: { window: { count: 120 } },
    });
    expect(host.metrics.seen.get('tidemark_drift_decisions_total drift.volume firing')).toBe(2);
    expect(host.metrics.seen.get('tidemark_drift_late_events_total')).toBeUndefined();
    expect(host.metrics.seen.get('tidemark_drift_late_partials_total')).toBeUndefined();
  });

  it('fires a class-level feature against its pinned reference with the class owner and labels', () => {
    const host = new Host(createDriftService({ contracts, topics }));
    const plan: WindowPlan[] = [
      { n: 600, policy: 400 },
      { n: 600, policy: 400 },
      { n: 600, policy: 400, mean: 12_000 },
    ];
    live(host, plan);
    const policy = host.findings.filter((f) => f.subject.feature === 'policy-size');
    expect(summary(policy)).toEqual([`drift.numeric firing policy-size ${end(2)}`]);
    expect(policy[0]).toMatchObject({
      owner: { team: 'docs', steward: 'policy@example.com', platformOwner: 'platform' },
      labels: { tier: 'platinum' },
      evidence: { baseline: { mode: 'pinned', reference: '2026-03-02T00:00:00Z', count: 400 } },
    });
  });

  it('gives the same findings when a backlog is read far behind the clock, one partition after another', () => {
    const liveHost = new Host(createDriftService({ contracts, topics }));
    live(liveHost);
    // Catch-up: every event read after the last window ended (hours after the first ones), partition 0's backlog
    // first, then 1, then 2 — the clock is far ahead of event time and the partitions are far apart.
    const late = new Host(createDriftService({ contracts, topics }));
    const rng = createRng(1);
    const all = PLAN.flatMap((plan, w) => windowEvents(rng, w, plan));
    const now = T0 + PLAN.length * HOUR + 5 * MIN;
    for (let p = 0; p < late.partitions; p++) {
      for (const ev of all)
        if (late.partitionOf(ev.key) === p) late.deliver(ev.topic, ev.key, ev.value, now);
    }
    for (let m = 1; m <= 4; m++) late.tick(now + m * MIN);
    expect(sorted(late.findings)).toEqual(sorted(liveHost.findings));
    expect(late.findings).toHaveLength(8);
  });

  it('restores from the drained changelog mid-stream (entries in any order) without changing findings', () => {
    const plain = new Host(createDriftService({ contracts, topics }));
    live(plain);
    for (const order of ['forward', 'reverse'] as const) {
      const restarted = new Host(createDriftService({ contracts, topics }));
      live(restarted, PLAN, 1, (w) => {
        if (w === 3 || w === 5) restarted.restart(order);
      });
      expect(restarted.findings).toEqual(plain.findings);
    }
  }, 60_000); // three whole simulated runs: past the 20 s default on a busy 2-core machine

  it('writes the changelog per series and window: a decided window adds one entry and drops the oldest', () => {
    const host = new Host(createDriftService({ contracts, topics }), 1);
    let before = 0;
    live(host, PLAN.slice(0, 6), 1, (w) => {
      if (w === 4) before = host.drains.length;
    });
    // Window 4 is decided during window 5's first minutes; find the drain that wrote its baseline entries.
    const written = host.drains.slice(before).flat();
    const sizeKey = JSON.stringify(['size', 'wiki', null]);
    const windows = written.filter((c) => c.key.startsWith(`w|${sizeKey}|`));
    // Window 4 drifted (held aside: one new entry); window 5 joined the baseline [1, 2, 3], pushing out window 1,
    // and ended the drift, so window 4 was dropped.
    expect(windows.map((c) => [c.key.slice(c.key.lastIndexOf('|') + 1), c.value === null])).toEqual(
      [
        [String(T0 + 4 * HOUR), false],
        [String(T0 + 5 * HOUR), false],
        [String(T0 + 1 * HOUR), true],
        [String(T0 + 4 * HOUR), true],
      ],
    );
    // No drain rewrites an entry of a window that is already stored.
    const keys = host.drains.flat().filter((c) => c.key.startsWith('w|') && c.value !== null);
    expect(new Set(keys.map((c) => c.key)).size).toBe(keys.length);
    expect(host.states.get(0)!.size()).toBe(host.changelog.get(0)!.size);
  });

  it('merges a partial delivered twice once (a crash between producing it and persisting state)', () => {
    const once = new Host(createDriftService({ contracts, topics }));
    live(once);
    const twice = new Host(createDriftService({ contracts, topics }));
    const deliver = twice.deliver.bind(twice);
    twice.deliver = (topic, key, value, now) => {
      deliver(topic, key, value, now);
      if (topic === twice.service.partialsTopic) deliver(topic, key, value, now);
    };
    live(twice);
    expect(twice.findings).toEqual(once.findings);
  });

  it('counts events that arrive after their window closed', () => {
    const host = new Host(createDriftService({ contracts, topics }), 1);
    live(host, PLAN.slice(0, 2));
    const [ev] = windowEvents(createRng(9), 0, { n: 1 });
    host.deliver(ev!.topic, ev!.key, ev!.value, T0 + 3 * HOUR);
    // The content event fed size, language and changes (a runbook: not policy-size; not an index event: not applied).
    expect(host.metrics.seen.get('tidemark_drift_late_events_total')).toBe(3);
  });

  it('declares its internal topic and inputs', () => {
    const service = createDriftService({ contracts, topics });
    expect(service.name).toBe('drift-detector');
    expect(service.inputs).toEqual([
      'content.changes.v1',
      'sync.events.v1',
      'tidemark.drift-detector.partials',
    ]);
    expect(DRIFT_DETECTOR_TOPICS).toEqual([
      expect.objectContaining({
        name: 'tidemark.drift-detector.partials',
        coPartitioned: true,
        compacted: false,
      }),
    ]);
    const renamed = createDriftService({ contracts, name: 'drift-detector-b' });
    expect(renamed.inputs[2]).toBe('tidemark.drift-detector-b.partials');
  });

  it('sends records on the partials topic that are not drift partials to the DLQ (EnvelopeError)', () => {
    const service = createDriftService({ contracts, topics });
    const record = (value: string): InputRecord => ({
      topic: service.partialsTopic,
      partition: 0,
      offset: '0',
      timestamp: '0',
      key: 'wiki',
      value: Buffer.from(value),
      headers: {},
    });
    const cases: Array<[string, string]> = [
      ['{nope', 'drift partial is not JSON'],
      [
        '{"type":"content.upserted"}',
        `record on ${service.partialsTopic} is not a ${DRIFT_PARTIAL_TYPE} event`,
      ],
      [
        JSON.stringify({
          type: DRIFT_PARTIAL_TYPE,
          data: {
            feature: 'size',
            system: 'wiki',
            kind: 'numeric',
            partition: 0,
            windowStart: 5,
            windowEnd: 1,
          },
        }),
        'not a drift partial: windowEnd must be after windowStart',
      ],
    ];
    for (const [value, message] of cases) {
      expect(() => service.decode(record(value))).toThrow(EnvelopeError);
      expect(() => service.decode(record(value))).toThrow(message);
    }
  });

  it('refuses unusable options with every problem listed', () => {
    const cases: Array<[Parameters<typeof createDriftService>[0], string[]]> = [
      [{}, ['pass exactly one of contracts and config']],
      [
        { contracts, idleAfterMs: 0, partialsTopic: 'content.changes.v1' },
        [
          'idleAfterMs must be a positive integer, got 0',
          'partialsTopic content.changes.v1 is also an input topic',
        ],
      ],
      [
        { contracts: loadContractsOrThrow([{ path: 'contracts/owners.yaml', text: OWNERS }]) },
        ['the contracts define no drift features (add a `drift:` list to a contract)'],
      ],
    ];
    for (const [options, problems] of cases) {
      let caught: unknown;
      try {
        createDriftService(options);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).problems).toEqual(problems);
    }
  });
});

describe('driftOptionsFromEnv', () => {
  it.each([
    [{}, { name: 'drift-detector' }],
    [
      {
        DRIFT_SERVICE_NAME: 'drift-x',
        DRIFT_IDLE_AFTER: '2s',
        DRIFT_DECIDE_DELAY: '5s',
        DRIFT_ALLOWED_LATENESS: '0',
      },
      {
        name: 'drift-x',
        idleAfterMs: 2000,
        settings: { decideDelayMs: 5000, allowedLatenessMs: 0 },
      },
    ],
    [
      { DRIFT_PARTIALS_TOPIC: 'p.t', DRIFT_SERVICE_NAME: '' },
      { name: 'drift-detector', partialsTopic: 'p.t' },
    ],
  ])('reads %j', (env, expected) => {
    expect(driftOptionsFromEnv(env)).toEqual(expected);
  });

  it('lists every bad variable', () => {
    let caught: unknown;
    try {
      driftOptionsFromEnv({
        DRIFT_SERVICE_NAME: 'a b',
        DRIFT_PARTIALS_TOPIC: 'x/y',
        DRIFT_IDLE_AFTER: 'soon',
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'DRIFT_SERVICE_NAME="a b": must be 1–200 of a-z A-Z 0-9 . _ -',
      'DRIFT_PARTIALS_TOPIC="x/y": not a valid Kafka topic name',
      expect.stringMatching(/^DRIFT_IDLE_AFTER="soon": /),
    ]);
  });
});
