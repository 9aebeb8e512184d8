import { performance } from 'node:perf_hooks';
import type { FramedDecoder } from '@tidemark/contract-checks';
import type { ContractSet } from '@tidemark/contracts';
import { formatTime, resolveTopics, type OutputRecord, type TopicCatalog } from '@tidemark/core';
import { SilenceTable, type RoutingConfig, type Silence } from '@tidemark/routing';
import { DEFAULT_TICK_MS, ReplayHost, type ReplayService } from './host.js';

import type { ReplayInput } from './input.js';
import { MemoryMetrics } from './metrics.js';
import { DEFAULT_PARTITIONS } from './partitioner.js';
import { drive, metricKinds } from './replay.js';
import { replayServices } from './services.js';

/** Options of backtest. */
export interface BacktestOptions {
  /** The events both contract versions are run on (a JSONL path or its lines), read once. */
  input: ReplayInput;
  oldContracts: ContractSet;
  newContracts: ContractSet;
  /** Run the clock this far past the last event so pending deadlines fire. @default 0 */
  drainMs?: number;
  /** @default 10000 */
  tickMs?: number;
  /** How far ticks trail the clock (as `replay`). @default 0 */
  tickLagMs?: number;
  /** Records further ahead of the watermark are not replayed (as `replay`, MAX_FUTURE_SKEW). @default 3600000 */
  maxFutureSkewMs?: number;
  /** @default 3 */
  partitions?: number;
  /** @default DEFAULT_TOPICS */
  topics?: Partial<TopicCatalog>;
  /** Schema Registry deserializer for Confluent-framed records. @default none (they are dead letters) */
  framed?: FramedDecoder;
  /** Called every `progressEvery` lines or at most once a second, and when done (the CLI prints it on stderr). */
  onProgress?: (progress: BacktestProgress) => void;
  /** @default 100000 */
  progressEvery?: number;
  /** Findings kept as examples per row and side. @default 3 */
  samplesPerRow?: number;
  /**
   * Route each side's findings through the alert-router with this routing.yaml (grouping, inhibition,
   * silences applied) and report the alerts and tickets each side would have sent. @default findings only
   */
  routing?: RoutingConfig;
  /** Silences (silences.yaml) both sides' routers start with. @default none */
  silences?: readonly Silence[];
  /** Build the services of one side yourself (tests). @default replayServices (with the router when `routing`) */
  services?: (contracts: ContractSet, topics: TopicCatalog) => readonly ReplayService[];
}

/** Where a long backtest is. */
export interface BacktestProgress {
  phase: 'read' | 'drain' | 'done';
  lines: number;
  records: number;
  /** The clock of the old contracts' host (RFC 3339), null before the first timed record. */
  eventTime: string | null;
}

/** One finding, as a backtest shows it. */
export interface BacktestSample {
  fingerprint: string;
  /** `<system>/<docId>`, or the system with the connector or content class where the subject has one. */
  subject: string;
  severity: string;
  summary: string;
  observedAt: string;
  shadow?: boolean;
}

/** Findings of one (check, system, rule/field) under each contract version. */
export interface BacktestRow {
  check: string;
  system: string;
  /** The rule name (`contract.rule`), field (`contract.required`…) or feature; empty for checks without one. */
  rule: string;
  old: { firing: number; resolved: number };
  new: { firing: number; resolved: number };
  /** Problems (fingerprints) that fire under the old contracts and never under the new ones. */
  onlyOld: { count: number; samples: BacktestSample[] };
  /** Problems that fire under the new contracts and never under the old ones. */
  onlyNew: { count: number; samples: BacktestSample[] };
}

/** Alert notifications of one (check, system, receiver) under each contract version. */
export interface BacktestAlertRow {
  check: string;
  system: string;
  receiver: string;
  old: { firing: number; resolved: number };
  new: { firing: number; resolved: number };
}

/** What the alert-router would have sent on each side (only with `routing`). */
export interface BacktestRouted {
  /** Alert notifications (dq.alerts.v1 records): after grouping, dedup, inhibition, silences. */
  alerts: { old: { firing: number; resolved: number }; new: { firing: number; resolved: number } };
  /** Ticket actions by action (dq.tickets.v1 records). */
  tickets: { old: Record<string, number>; new: Record<string, number> };
  /** Every alert row, sorted by check, system, receiver. */
  alertRows: BacktestAlertRow[];
}

/** What each contract version fires on the same events, and the difference. */
export interface BacktestResult {
  input: { lines: number; records: number; rejected: number };
  eventTime: { first: string | null; last: string | null };
  contracts: { old: Record<string, string>; new: Record<string, string> };
  totals: {
    old: { firing: number; resolved: number };
    new: { firing: number; resolved: number };
    onlyOld: number;
    onlyNew: number;
    /** Of the firing findings, those with `shadow: true` (shadow candidates, classes and rules): they never alert. */
    shadow: { old: number; new: number };
  };
  /** Every row, sorted by check, system, rule. */
  rows: BacktestRow[];
  /** Alerts and tickets through the router, when `routing` was given. */
  routed?: BacktestRouted;
}

interface SideFinding {
  row: string;
  sample: BacktestSample;
}

class Side {
  readonly counts = new Map<string, { firing: number; resolved: number }>();
  /** First firing finding per fingerprint. */
  readonly firing = new Map<string, SideFinding>();
  readonly meta = new Map<string, { check: string; system: string; rule: string }>();
  /** Firing findings with `shadow: true`. */
  shadowFiring = 0;

  /** Alert notifications by (check, system, receiver). */
  readonly alerts = new Map<string, { firing: number; resolved: number }>();
  readonly tickets: Record<string, number> = {};

  alert(value: string | Buffer): void {
    countAlert(this, value);
  }

  ticket(value: string | Buffer): void {
    countTicket(this, value);
  }

  constructor(private readonly topics: TopicCatalog) {}

  output(o: OutputRecord): void {
    if (o.value === null) return;
    if (o.topic === this.topics.alerts) return this.alert(o.value);
    if (o.topic === this.topics.tickets) return this.ticket(o.value);
    if (o.topic !== this.topics.findings) return;
    const event = JSON.parse(typeof o.value === 'string' ? o.value : o.value.toString('utf8')) as {
      data: {
        check: string;
        status: string;
        severity: string;
        fingerprint: string;
        summary: string;
        observedAt: string;
        shadow?: boolean;
        subject: Record<string, string | undefined>;
      };
    };
    const f = event.data;
    if (f.check.startsWith('routing.')) return; // the router's own notices, not a contract's findings
    const subject = f.subject;
    const system = subject['system'] ?? '';
    const rule = subject['feature'] ?? subject['field'] ?? '';
    const row = `${f.check}\u0000${system}\u0000${rule}`;
    if (!this.meta.has(row)) this.meta.set(row, { check: f.check, system, rule });
    let c = this.counts.get(row);
    if (!c) this.counts.set(row, (c = { firing: 0, resolved: 0 }));
    if (f.status !== 'firing') {
      c.resolved++;
      return;
    }
    c.firing++;
    if (f.shadow) this.shadowFiring++;
    if (this.firing.has(f.fingerprint)) return;
    const where = subject['docId']
      ? `${system}/${subject['docId']}`
      : [system, subject['connector'], subject['contentClass']].filter(Boolean).join('/');
    this.firing.set(f.fingerprint, {
      row,
      sample: {
        fingerprint: f.fingerprint,
        subject: where,
        severity: f.severity,
        summary: f.summary,
        observedAt: f.observedAt,
        ...(f.shadow ? { shadow: true } : {}),
      },
    });
  }
}

function valueOf<T>(value: string | Buffer): T {
  return (JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as { data: T })
    .data;
}

/** Counts one alert notification of a side. */
function countAlert(side: Side, value: string | Buffer): void {
  const a = valueOf<{ status: string; receiver: string; labels: Record<string, string> }>(value);
  const key = `${a.labels['check'] ?? ''}\u0000${a.labels['system'] ?? ''}\u0000${a.receiver}`;
  let c = side.alerts.get(key);
  if (!c) side.alerts.set(key, (c = { firing: 0, resolved: 0 }));
  if (a.status === 'firing') c.firing++;
  else c.resolved++;
}

function countTicket(side: Side, value: string | Buffer): void {
  const t = valueOf<{ action: string }>(value);
  side.tickets[t.action] = (side.tickets[t.action] ?? 0) + 1;
}

function routedOf(oldSide: Side, newSide: Side): BacktestRouted {
  const keys = [...new Set([...oldSide.alerts.keys(), ...newSide.alerts.keys()])].sort();
  const zero = () => ({ firing: 0, resolved: 0 });
  const total = (side: Side) => {
    const t = zero();
    for (const c of side.alerts.values()) {
      t.firing += c.firing;
      t.resolved += c.resolved;
    }
    return t;
  };
  const sorted = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    alerts: { old: total(oldSide), new: total(newSide) },
    tickets: { old: sorted(oldSide.tickets), new: sorted(newSide.tickets) },
    alertRows: keys.map((k) => {
      const [check = '', system = '', receiver = ''] = k.split('\u0000');
      return {
        check,
        system,
        receiver,
        old: { ...(oldSide.alerts.get(k) ?? zero()) },
        new: { ...(newSide.alerts.get(k) ?? zero()) },
      };
    }),
  };
}

function versions(contracts: ContractSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const system of contracts.systems) {
    const ref = contracts.contractRef(system);
    const candidate = contracts.shadowSettingsFor(system)?.contract;
    if (ref)
      out[system] =
        `${ref.file} v${ref.version}` +
        (candidate ? `; shadow candidate ${candidate.file} v${candidate.version}` : '');
  }
  return out;
}

function only(
  mine: Side,
  other: Side,
  rows: Map<string, BacktestRow>,
  pick: (r: BacktestRow) => BacktestRow['onlyOld'],
  samplesPerRow: number,
): number {
  let total = 0;
  // Fingerprints are visited in first-firing order, which is deterministic, so the samples are too.
  for (const [fp, f] of mine.firing) {
    if (other.firing.has(fp)) continue;
    total++;
    const bucket = pick(rows.get(f.row)!);
    bucket.count++;
    if (bucket.samples.length < samplesPerRow) bucket.samples.push(f.sample);
  }
  return total;
}

/**
 * `tidemark contracts backtest`: runs the checkers that read contracts (contract-checker, freshness-monitor,
 * parity-verifier, drift-detector) over the same events under the old and the new contracts in one pass, and reports, per
 * (check, system, rule/field), how many findings each version fires and which problems only one of them finds.
 */
export async function backtest(options: BacktestOptions): Promise<BacktestResult> {
  const drainMs = options.drainMs ?? 0;
  if (!Number.isFinite(drainMs) || drainMs < 0) {
    throw new RangeError(
      `drainMs must be a non-negative number of milliseconds, got ${String(drainMs)}`,
    );
  }
  const topics = resolveTopics(options.topics);
  const samplesPerRow = options.samplesPerRow ?? 3;
  const build =
    options.services ??
    ((contracts: ContractSet, t: TopicCatalog) =>
      replayServices({
        contracts,
        topics: t,
        ...(options.routing
          ? { routing: options.routing, silences: new SilenceTable(options.silences ?? []) }
          : { withoutRouter: true }),
        ...(options.framed ? { framed: options.framed } : {}),
      }));
  const sides = [new Side(topics), new Side(topics)] as const;
  const targets = [options.oldContracts, options.newContracts].map((contracts, i) => {
    const services = build(contracts, topics);
    const side = sides[i]!;
    return {
      host: new ReplayHost({
        services,
        topics,
        partitions: options.partitions ?? DEFAULT_PARTITIONS,
        tickMs: options.tickMs ?? DEFAULT_TICK_MS,
        ...(options.tickLagMs === undefined ? {} : { tickLagMs: options.tickLagMs }),
        metrics: new MemoryMetrics(metricKinds(services)),
        sink: (record) => side.output(record),
      }),
    };
  });
  const input = { lines: 0, records: 0, rejected: 0 };
  let first: number | undefined;
  let last: number | undefined;
  const unconsumed = new Set<number>();
  const progressEvery = options.progressEvery ?? 100_000;
  let lastReport = performance.now();
  const progress = (phase: BacktestProgress['phase']) => {
    lastReport = performance.now();
    const clock = targets[0]!.host.clock;
    options.onProgress?.({
      phase,
      lines: input.lines,
      records: input.records,
      eventTime: clock === undefined ? null : formatTime(clock),
    });
  };
  await drive(
    options.input,
    topics,
    targets.map((t) => ({ ...t, unconsumed: (r) => unconsumed.add(r.line) })),
    drainMs,
    {
      line: () => input.lines++,
      invalid: () => input.rejected++,
      record: (r) => {
        input.records++;
        if (r.time === undefined) return;
        if (first === undefined || r.time < first) first = r.time;
        if (last === undefined || r.time > last) last = r.time;
      },
      after: (n) => {
        if (!options.onProgress) return;
        if (n % progressEvery === 0 || (n % 1024 === 0 && performance.now() - lastReport >= 1000)) {
          progress('read');
        }
      },
      drain: () => {
        if (options.onProgress && performance.now() - lastReport >= 1000) progress('drain');
      },
    },
    options.maxFutureSkewMs,
  );
  input.rejected += unconsumed.size;
  input.records -= unconsumed.size;
  progress('done');

  const [oldSide, newSide] = sides;
  const rows = new Map<string, BacktestRow>();
  for (const side of sides) {
    for (const [key, m] of side.meta) {
      if (!rows.has(key)) {
        rows.set(key, {
          ...m,
          old: { ...(oldSide.counts.get(key) ?? { firing: 0, resolved: 0 }) },
          new: { ...(newSide.counts.get(key) ?? { firing: 0, resolved: 0 }) },
          onlyOld: { count: 0, samples: [] },
          onlyNew: { count: 0, samples: [] },
        });
      }
    }
  }
  const onlyOld = only(oldSide, newSide, rows, (r) => r.onlyOld, samplesPerRow);
  const onlyNew = only(newSide, oldSide, rows, (r) => r.onlyNew, samplesPerRow);
  const sum = (side: Side) => {
    const t = { firing: 0, resolved: 0 };
    for (const c of side.counts.values()) {
      t.firing += c.firing;
      t.resolved += c.resolved;
    }
    return t;
  };
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    input,
    eventTime: {
      first: first === undefined ? null : formatTime(first),
      last: last === undefined ? null : formatTime(last),
    },
    contracts: { old: versions(options.oldContracts), new: versions(options.newContracts) },
    totals: {
      old: sum(oldSide),
      new: sum(newSide),
      onlyOld,
      onlyNew,
      shadow: { old: oldSide.shadowFiring, new: newSide.shadowFiring },
    },
    rows: [...rows.values()].sort(
      (a, b) => cmp(a.check, b.check) || cmp(a.system, b.system) || cmp(a.rule, b.rule),
    ),
    ...(options.routing ? { routed: routedOf(oldSide, newSide) } : {}),
  };
}
