import { DLQ_HEADERS, formatTime, type OutputRecord, type TopicCatalog } from '@tidemark/core';
import type { HistogramSummary } from './metrics.js';
import type { InvalidLine, ReplayRecord } from './input.js';
import type { ReplayFile } from './output.js';

/** Firing and resolved counts. */
export interface StatusCounts {
  firing: number;
  resolved: number;
}

/** What `summary.json` holds. */
export interface ReplaySummary {
  input: {
    /** Lines read, blank ones included. */
    lines: number;
    /** Lines replayed as records. */
    records: number;
    /** Lines that went to dlq.jsonl before reaching any service (not JSON, not a CloudEvent, unknown type…). */
    rejected: number;
  };
  /** Event times of the input records, and the clock after the drain (RFC 3339; null without timed records). */
  eventTime: { first: string | null; last: string | null; end: string | null };
  findings: {
    total: number;
    byCheck: Record<string, number>;
    byCheckStatus: Record<string, StatusCounts>;
    bySeverity: Record<string, StatusCounts>;
    /** Findings of rules or contracts in shadow mode (never alerted). */
    shadow: number;
  };
  alerts: { total: number; byStatus: Record<string, number>; byReceiver: Record<string, number> };
  tickets: { total: number; byAction: Record<string, number> };
  dlq: {
    total: number;
    /** Input lines rejected by the replay itself. */
    input: number;
    /** Dead letters per service (decode or handler errors, as live). */
    byService: Record<string, number>;
  };
  /** tidemark_sync_lag_seconds over all systems and connectors. */
  syncLagSeconds: HistogramSummary;
  settings: {
    services: string[];
    partitions: number;
    tickMs: number;
    drainMs: number;
    /** Records further ahead of the watermark were dead-lettered (MAX_FUTURE_SKEW). */
    maxFutureSkewMs: number;
  };
}

function inc(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function incStatus(map: Map<string, StatusCounts>, key: string, status: string): void {
  let c = map.get(key);
  if (!c) map.set(key, (c = { firing: 0, resolved: 0 }));
  if (status === 'firing') c.firing++;
  else if (status === 'resolved') c.resolved++;
}

function sorted<V>(map: Map<string, V>): Record<string, V> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function parseData(value: OutputRecord['value']): Record<string, unknown> {
  if (value === null) return {};
  try {
    const v = JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as {
      data?: unknown;
    };
    return typeof v.data === 'object' && v.data !== null ? (v.data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function valueText(value: Buffer | string | null): { value: string | null; encoding?: 'base64' } {
  if (value === null) return { value: null };
  if (typeof value === 'string') return { value };
  const text = value.toString('utf8');
  // Bytes that are not UTF-8 (e.g. Schema Registry framing) would not survive as text: keep them as base64.
  return Buffer.from(text, 'utf8').equals(value)
    ? { value: text }
    : { value: value.toString('base64'), encoding: 'base64' };
}

/**
 * Turns output records into lines of the replay's files and counts them for `summary.json`. Findings, alerts and
 * tickets are written as their CloudEvent values; a dead letter as a record envelope of the original record
 * (`topic`, `key`, `headers`, `value`) with the input `line`, `service`, `errorClass` and `reason`, so a fixed
 * dlq.jsonl can be replayed as is.
 */
export class SummaryBuilder {
  readonly #topics: TopicCatalog;
  readonly #write: (file: ReplayFile, line: string) => void;
  lines = 0;
  records = 0;
  rejected = 0;
  #first: number | undefined;
  #last: number | undefined;
  #findings = 0;
  #shadow = 0;
  readonly #byCheck = new Map<string, number>();
  readonly #byCheckStatus = new Map<string, StatusCounts>();
  readonly #bySeverity = new Map<string, StatusCounts>();
  #alerts = 0;
  readonly #alertStatus = new Map<string, number>();
  readonly #alertReceiver = new Map<string, number>();
  #tickets = 0;
  readonly #ticketAction = new Map<string, number>();
  readonly #dlqService = new Map<string, number>();

  constructor(topics: TopicCatalog, write: (file: ReplayFile, line: string) => void) {
    this.#topics = topics;
    this.#write = write;
  }

  /** Findings written so far. */
  get findings(): number {
    return this.#findings;
  }
  get alerts(): number {
    return this.#alerts;
  }
  get tickets(): number {
    return this.#tickets;
  }
  get dlq(): number {
    return this.rejected + [...this.#dlqService.values()].reduce((a, b) => a + b, 0);
  }

  /** Counts an input record's event time into the range. */
  record(record: ReplayRecord): void {
    this.records++;
    if (record.time === undefined) return;
    if (this.#first === undefined || record.time < this.#first) this.#first = record.time;
    if (this.#last === undefined || record.time > this.#last) this.#last = record.time;
  }

  /** Writes a line replay could not turn into a record. */
  invalid(line: InvalidLine): void {
    this.rejected++;
    this.#write(
      'dlq.jsonl',
      JSON.stringify({ line: line.line, reason: line.reason, value: line.text }),
    );
  }

  /** Writes an input record no service reads. */
  unconsumed(record: ReplayRecord): void {
    this.rejected++;
    this.#write(
      'dlq.jsonl',
      JSON.stringify({
        line: record.line,
        reason: `no replayed service reads topic ${record.topic}`,
        topic: record.topic,
        key: record.key,
        headers: record.headers,
        ...valueText(record.value),
      }),
    );
  }

  /** Writes and counts one output record of the services; internal topics are ignored. */
  output(o: OutputRecord, line: number | undefined): void {
    const topics = this.#topics;
    if (o.topic === topics.findings) {
      const d = parseData(o.value);
      const check = String(d['check']);
      const status = String(d['status']);
      this.#findings++;
      if (d['shadow'] === true) this.#shadow++;
      inc(this.#byCheck, check);
      incStatus(this.#byCheckStatus, check, status);
      incStatus(this.#bySeverity, String(d['severity']), status);
      this.#write('findings.jsonl', valueText(o.value).value ?? 'null');
    } else if (o.topic === topics.alerts) {
      const d = parseData(o.value);
      this.#alerts++;
      inc(this.#alertStatus, String(d['status']));
      inc(this.#alertReceiver, String(d['receiver']));
      this.#write('alerts.jsonl', valueText(o.value).value ?? 'null');
    } else if (o.topic === topics.tickets) {
      const d = parseData(o.value);
      this.#tickets++;
      inc(this.#ticketAction, String(d['action']));
      this.#write('tickets.jsonl', valueText(o.value).value ?? 'null');
    } else if (o.topic === topics.dlq) {
      const h = o.headers ?? {};
      const service = h[DLQ_HEADERS.service] ?? 'unknown';
      inc(this.#dlqService, service);
      this.#write(
        'dlq.jsonl',
        JSON.stringify({
          ...(line === undefined ? {} : { line }),
          service,
          reason: h[DLQ_HEADERS.errorMessage] ?? '',
          errorClass: h[DLQ_HEADERS.errorClass] ?? '',
          topic: h[DLQ_HEADERS.topic] ?? null,
          partition:
            h[DLQ_HEADERS.partition] === undefined ? null : Number(h[DLQ_HEADERS.partition]),
          offset: h[DLQ_HEADERS.offset] ?? null,
          key: o.key,
          headers: h,
          ...valueText(o.value),
        }),
      );
    }
  }

  /** The summary as of now. */
  summary(args: {
    end: number | undefined;
    syncLag: HistogramSummary;
    settings: ReplaySummary['settings'];
  }): ReplaySummary {
    const t = (ms: number | undefined) => (ms === undefined ? null : formatTime(ms));
    return {
      input: { lines: this.lines, records: this.records, rejected: this.rejected },
      eventTime: { first: t(this.#first), last: t(this.#last), end: t(args.end) },
      findings: {
        total: this.#findings,
        byCheck: sorted(this.#byCheck),
        byCheckStatus: sorted(this.#byCheckStatus),
        bySeverity: sorted(this.#bySeverity),
        shadow: this.#shadow,
      },
      alerts: {
        total: this.#alerts,
        byStatus: sorted(this.#alertStatus),
        byReceiver: sorted(this.#alertReceiver),
      },
      tickets: { total: this.#tickets, byAction: sorted(this.#ticketAction) },
      dlq: { total: this.dlq, input: this.rejected, byService: sorted(this.#dlqService) },
      syncLagSeconds: args.syncLag,
      settings: args.settings,
    };
  }
}
