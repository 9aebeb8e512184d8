import { performance } from 'node:perf_hooks';
import type { FramedDecoder } from '@tidemark/contract-checks';
import type { ContractSet } from '@tidemark/contracts';
import { formatDuration, formatTime, resolveTopics, type TopicCatalog } from '@tidemark/core';
import { SYNC_LAG_METRIC } from '@tidemark/freshness';
import type { RoutingConfig, Silence, SilenceTable } from '@tidemark/routing';
import { DEFAULT_TICK_MS, ReplayHost, type ReplayService } from './host.js';
import {
  parseLine,
  readLines,
  type ReplayInput,
  type ReplayRecord,
  type InvalidLine,
} from './input.js';
import { MemoryMetrics } from './metrics.js';
import { directoryOutput, type ReplayOutput } from './output.js';
import { DEFAULT_PARTITIONS } from './partitioner.js';
import { replayServices } from './services.js';
import { SummaryBuilder, type ReplaySummary } from './summary.js';

/** Where a long replay is, for a progress line on stderr. */
export interface ReplayProgress {
  /** `read` while input lines are replayed, `drain` while the clock runs on past the last event, then `done`. */
  phase: 'read' | 'drain' | 'done';
  lines: number;
  records: number;
  findings: number;
  alerts: number;
  tickets: number;
  dlq: number;
  /** The replay clock (RFC 3339), null before the first timed record. */
  eventTime: string | null;
  /** Drain phase: where the clock will stop. */
  drainUntil?: string;
}

/** Options of replay. */
export interface ReplayOptions {
  /** A JSONL file path or its lines: CloudEvent values or record envelopes `{ topic, key, headers, value }`. */
  input: ReplayInput;
  contracts: ContractSet;
  /** routing.yaml, validated (`parseRoutingConfig`); without it no alert-router runs and no alerts or tickets come. */
  routing?: RoutingConfig;
  /** silences.yaml (`parseSilences`) the alert-router starts with. @default none */
  silences?: SilenceTable | readonly Silence[];
  /** Schema Registry deserializer for Confluent-framed records (contract.schema); without one they are dead letters. */
  framed?: FramedDecoder;
  /** An output directory path, or a ReplayOutput (e.g. memoryOutput() in tests). */
  out: string | ReplayOutput;
  /** How far (ms of event time) to run the clock past the last event so pending deadlines fire. @default 0 */
  drainMs?: number;
  /** Event-time period of the services' ticks (the live schedule is every 10 s). @default 10000 */
  tickMs?: number;
  /** How far ticks trail the clock (the live event-time mode's EVENT_SKEW), for roughly interleaved inputs. @default 0 */
  tickLagMs?: number;
  /**
   * How far ahead of the stream's watermark (the highest event time replayed) a record's time may be; a record
   * further ahead is dead-lettered (dlq.jsonl, with the reason) and never moves the clock — the live services'
   * MAX_FUTURE_SKEW. @default 3600000 (1h)
   */
  maxFutureSkewMs?: number;
  /** Skip ticks that services declaring `nextTick` say have nothing due (same outputs, faster). @default true */
  skipIdleTicks?: boolean;
  /** Partitions per topic, for per-partition state as live. @default 3 */
  partitions?: number;
  /** Topic names, as the services are configured live. @default DEFAULT_TOPICS */
  topics?: Partial<TopicCatalog>;
  /** Called every `progressEvery` lines or at most once a second, whichever comes first, and at the end. */
  onProgress?: (progress: ReplayProgress) => void;
  /** @default 100000 */
  progressEvery?: number;
  /** Run these services instead of the ones built from contracts (tests, custom compositions). */
  services?: readonly ReplayService[];
}

/** What replay returns besides the files. */
export interface ReplayResult {
  summary: ReplaySummary;
  /** Every metric the services recorded, e.g. `metrics.histogram('tidemark_sync_lag_seconds')` for p50/p99. */
  metrics: MemoryMetrics;
}

/** Per-host callbacks of drive(). */
export interface DriveTarget {
  host: ReplayHost;
  /** A record of a topic no service of this host reads. */
  unconsumed?(record: ReplayRecord): void;
}

/** Default of the replay's MAX_FUTURE_SKEW: an hour, like the live services. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 3_600_000;

/** Checks a MAX_FUTURE_SKEW setting; throws RangeError naming the option. */
export function checkMaxFutureSkew(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `maxFutureSkewMs must be a non-negative number of milliseconds, got ${String(ms)}`,
    );
  }
}

/** The dead-letter reason of a record whose time is beyond the allowed skew. */
export function futureSkewReason(time: number, watermark: number, skewMs: number): string {
  return (
    `event time ${formatTime(time)} is ${formatDuration(time - watermark)} ahead of the stream's watermark ` +
    `${formatTime(watermark)}, more than MAX_FUTURE_SKEW (${formatDuration(skewMs)}): a producer clock is wrong; ` +
    `the record is not replayed and does not move the clock`
  );
}

/** Callbacks of drive() for the input side. */
export interface DriveHooks {
  line?(): void;
  record?(record: ReplayRecord): void;
  invalid?(line: InvalidLine): void;
  /** After every line; resolves when the caller is ready for more (output flushed, progress printed). */
  after?(lines: number): Promise<void> | void;
  drain?(clock: number, until: number): void;
}

/**
 * Reads the input line by line and runs each record through every target host, then drains: the clock advances
 * `drainMs` past the last event in steps of an hour of event time (ticking what is due on the way).
 *
 * MAX_FUTURE_SKEW: a record more than `maxFutureSkewMs` ahead of the watermark (the highest event time replayed) is
 * held until the next timed record says which it is. If that record follows it (is at most the skew before it), the
 * stream really moved on — an idle gap, e.g. a night — and both are replayed; if the stream goes on near the old
 * watermark, the held record came from a broken clock: it becomes an invalid line (dlq.jsonl) and never moves the
 * clock. A held record that no later record confirms (the last one) is an invalid line too.
 */
export async function drive(
  input: ReplayInput,
  topics: TopicCatalog,
  targets: readonly DriveTarget[],
  drainMs: number,
  hooks: DriveHooks,
  maxFutureSkewMs = DEFAULT_MAX_FUTURE_SKEW_MS,
): Promise<void> {
  checkMaxFutureSkew(maxFutureSkewMs);
  let n = 0;
  let watermark: number | undefined;
  let held:
    { record: ReplayRecord & { time: number }; text: string; watermark: number } | undefined;
  const deliver = async (record: ReplayRecord) => {
    if (record.time !== undefined) watermark = Math.max(watermark ?? record.time, record.time);
    hooks.record?.(record);
    for (const t of targets) {
      if (t.host.consumes(record.topic)) await t.host.push(record, record.line);
      else t.unconsumed?.(record);
    }
  };
  const reject = (h: NonNullable<typeof held>) =>
    hooks.invalid?.({
      kind: 'invalid',
      line: h.record.line,
      reason: futureSkewReason(h.record.time, h.watermark, maxFutureSkewMs),
      text: h.text,
    });
  for await (const text of readLines(input)) {
    n++;
    hooks.line?.();
    const parsed = parseLine(text, n, topics);
    if (parsed.kind === 'invalid') hooks.invalid?.(parsed);
    else if (parsed.kind === 'record') {
      const time = parsed.time;
      if (held && time !== undefined) {
        if (time >= held.record.time - maxFutureSkewMs) await deliver(held.record);
        else reject(held);
        held = undefined;
      }
      if (time !== undefined && watermark !== undefined && time > watermark + maxFutureSkewMs) {
        held = { record: { ...parsed, time }, text, watermark };
      } else await deliver(parsed);
    }
    await hooks.after?.(n);
  }
  if (held) reject(held);
  const clocks = targets.map((t) => t.host.clock).filter((c): c is number => c !== undefined);
  if (drainMs > 0 && clocks.length > 0) {
    const until = Math.max(...clocks) + drainMs;
    for (let at = Math.min(...clocks); at < until;) {
      at = Math.min(until, at + 3_600_000);
      for (const t of targets) await t.host.advanceTo(at);
      hooks.drain?.(at, until);
    }
  }
  for (const t of targets) t.host.commit();
}

function checkDrain(drainMs: number): void {
  if (!Number.isFinite(drainMs) || drainMs < 0) {
    throw new RangeError(
      `drainMs must be a non-negative number of milliseconds, got ${String(drainMs)}`,
    );
  }
}

/** The metric kinds the services declare, so MemoryMetrics keeps histograms as observations. */
export function metricKinds(
  services: readonly ReplayService[],
): Array<[string, 'histogram' | 'counter' | 'gauge']> {
  return services.flatMap((s) =>
    (s.metrics ?? []).map((m): [string, typeof m.kind] => [m.name, m.kind]),
  );
}

/**
 * `tidemark replay`: runs the Kafka services' compositions (contract-checker, freshness-monitor, parity-verifier and,
 * with routing, alert-router) in process on event time over a JSONL file, and writes findings.jsonl, alerts.jsonl,
 * tickets.jsonl, dlq.jsonl and summary.json. The same input gives byte-identical files.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const drainMs = options.drainMs ?? 0;
  checkDrain(drainMs);
  const maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  checkMaxFutureSkew(maxFutureSkewMs);
  const topics = resolveTopics(options.topics);
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const services =
    options.services ??
    replayServices({
      contracts: options.contracts,
      topics,
      ...(options.routing ? { routing: options.routing } : {}),
      ...(options.silences ? { silences: options.silences } : {}),
      ...(options.framed ? { framed: options.framed } : {}),
    });
  const metrics = new MemoryMetrics(metricKinds(services));
  const out = typeof options.out === 'string' ? await directoryOutput(options.out) : options.out;
  try {
    const summary = new SummaryBuilder(topics, (file, line) => out.write(file, line));
    const host = new ReplayHost({
      services,
      topics,
      partitions,
      tickMs,
      ...(options.tickLagMs === undefined ? {} : { tickLagMs: options.tickLagMs }),
      ...(options.skipIdleTicks === undefined ? {} : { skipIdleTicks: options.skipIdleTicks }),
      metrics,
      sink: (record, line) => summary.output(record, line),
    });
    const progressEvery = options.progressEvery ?? 100_000;
    let lastReport = performance.now();
    const progress = (phase: ReplayProgress['phase'], extra: Partial<ReplayProgress> = {}) => {
      lastReport = performance.now();
      options.onProgress?.({
        phase,
        lines: summary.lines,
        records: summary.records,
        findings: summary.findings,
        alerts: summary.alerts,
        tickets: summary.tickets,
        dlq: summary.dlq,
        eventTime: host.clock === undefined ? null : formatTime(host.clock),
        ...extra,
      });
    };
    await drive(
      options.input,
      topics,
      [{ host, unconsumed: (r) => summary.unconsumed(r) }],
      drainMs,
      {
        line: () => summary.lines++,
        record: (r) => summary.record(r),
        invalid: (l) => summary.invalid(l),
        after: async (n) => {
          if (n % 1024 === 0) {
            await out.flush();
            if (options.onProgress && performance.now() - lastReport >= 1000) progress('read');
          }
          if (options.onProgress && n % progressEvery === 0) progress('read');
        },
        drain: (_at, until) => {
          if (options.onProgress && performance.now() - lastReport >= 1000) {
            progress('drain', { drainUntil: formatTime(until) });
          }
        },
      },
      maxFutureSkewMs,
    );
    const result = summary.summary({
      end: host.clock,
      syncLag: metrics.histogram(SYNC_LAG_METRIC),
      settings: {
        services: services.map((s) => s.name),
        partitions,
        tickMs,
        drainMs,
        maxFutureSkewMs,
      },
    });
    out.write('summary.json', JSON.stringify(result, null, 2));
    progress('done');
    return { summary: result, metrics };
  } finally {
    await out.close();
  }
}
