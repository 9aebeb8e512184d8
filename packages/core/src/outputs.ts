import { describeError, safeErrorText } from './errors.js';
import { EVENT_TYPES } from './events.js';
import { fingerprint } from './ids.js';
import type { InputRecord, OutputRecord, RecordHeaders } from './records.js';
import type { TopicCatalog } from './topics.js';
import { formatTime } from './time.js';

export {
  DLQ_HEADERS,
  DLQ_VALUE_WITHHELD_HEADER,
  declaredClassification,
  dlqRecord,
  outputDlqRecord,
  type DlqRestrictedPolicy,
} from './dlq.js';

/** How urgent a finding, alert or ticket is. */
export type Severity = 'info' | 'warning' | 'high' | 'critical';
/** Severities ordered from least to most urgent, for comparisons. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  info: 0,
  warning: 1,
  high: 2,
  critical: 3,
};
/** Whether a finding reports a problem or its end. */
export type FindingStatus = 'firing' | 'resolved';

/** What a finding is about; `system` always, the rest where they apply. */
export interface FindingSubject {
  system: string;
  docId?: string;
  connector?: string;
  contentClass?: string;
  field?: string;
  feature?: string;
  [key: string]: string | undefined;
}

/** Who should act, as resolved from the event and the contracts. */
export interface FindingOwner {
  steward?: string;
  team?: string;
  platformOwner?: string;
}

/** The raw result of one check about one subject (spec/outputs.md, `dq.findings.v1`). */
export interface Finding {
  check: string;
  status: FindingStatus;
  severity: Severity;
  fingerprint: string;
  subject: FindingSubject;
  owner: FindingOwner;
  summary: string;
  evidence: Record<string, unknown>;
  observedAt: string;
  contract?: { file: string; version: string };
  traceparent?: string;
  /** Evaluated by a rule in shadow mode: recorded, never alerted or ticketed. */
  shadow?: boolean;
  /** About a `restricted` document: carries ids only. */
  restricted?: boolean;
  /** Extra routing labels from the contract. */
  labels?: Record<string, string>;
  /** When the owner is expected to have fixed it (from the SLA), for tickets. */
  dueBy?: string;
  /**
   * Like Alertmanager's `endsAt` of a firing alert: a firing finding not observed again (refreshed with a
   * later expiresAt) by then counts as resolved at that time. For problems nothing will ever report resolved
   * (e.g. `envelope.invalid`: there is no "valid again" record). Absent: it fires until a resolve.
   */
  expiresAt?: string;
}

/** Identity of a problem: the same check about the same subject has the same fingerprint, always. */
export function findingFingerprint(check: string, subject: FindingSubject): string {
  return fingerprint({ check, subject });
}

/** Caps on evidence so one finding never carries a large payload. */
export const EVIDENCE_LIMITS = { arrayItems: 20, stringChars: 512, depth: 4 } as const;

// Evidence keys that describe the check, never a document's field values; all that a restricted finding keeps.
const RESTRICTED_SAFE_EVIDENCE = new Set([
  'rule',
  'field',
  'expected',
  'sla',
  'slaSeconds',
  'deadline',
  'window',
  'threshold',
  'revision',
  'indexedRevision',
  'sourceRevision',
  'lagSeconds',
  'count',
  'missing',
]);

/** Input of buildFinding: a finding without its fingerprint, plus the document's classification. */
export type FindingInput = Omit<Finding, 'fingerprint' | 'restricted'> & {
  fingerprint?: string;
  /** The document's classification; `restricted` strips everything but ids. */
  classification?: string | undefined;
};

/** Completes a finding: fingerprint, bounded evidence, and redaction for restricted documents. */
export function buildFinding(input: FindingInput): Finding {
  const { classification, ...rest } = input;
  const subject = dropUndefined(rest.subject) as FindingSubject;
  const finding: Finding = {
    ...rest,
    subject,
    fingerprint: rest.fingerprint ?? findingFingerprint(rest.check, subject),
    evidence: bound(rest.evidence, 0) as Record<string, unknown>,
  };
  if (classification === 'restricted') {
    finding.restricted = true;
    const where = subject.docId ? `${subject.system}/${subject.docId}` : subject.system;
    finding.summary = `${rest.check} on ${where} (restricted document: details withheld)`;
    finding.evidence = Object.fromEntries(
      Object.entries(finding.evidence).filter(([k]) => RESTRICTED_SAFE_EVIDENCE.has(k)),
    );
  }
  return dropUndefined(finding) as Finding;
}

function bound(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    return value.length > EVIDENCE_LIMITS.stringChars
      ? `${value.slice(0, EVIDENCE_LIMITS.stringChars)}…`
      : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= EVIDENCE_LIMITS.depth) return '[…]';
  if (Array.isArray(value)) {
    return value.slice(0, EVIDENCE_LIMITS.arrayItems).map((v) => bound(v, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = bound(v, depth + 1);
    if (Array.isArray(v) && v.length > EVIDENCE_LIMITS.arrayItems && !(`${k}Total` in value)) {
      out[`${k}Total`] = v.length;
    }
  }
  return out;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Options every output builder needs. */
export interface OutputOptions {
  /** Service name; the CloudEvent `source` is `tidemark/<service>`. */
  service: string;
  topics: TopicCatalog;
}

function cloudEvent(
  type: string,
  id: string,
  time: string,
  subject: string | undefined,
  data: unknown,
  service: string,
): string {
  return JSON.stringify({
    specversion: '1.0',
    id,
    source: `tidemark/${service}`,
    type,
    time,
    ...(subject === undefined ? {} : { subject }),
    datacontenttype: 'application/json',
    data,
  });
}

function traceHeaders(traceparent: string | undefined): RecordHeaders | undefined {
  return traceparent ? { traceparent } : undefined;
}

function subjectPath(subject: FindingSubject): string {
  return subject.docId ? `${subject.system}/${subject.docId}` : subject.system;
}

/** The `dq.findings.v1` record of a finding; its id is deterministic in (fingerprint, status, observedAt). */
export function findingRecord(finding: Finding, options: OutputOptions): OutputRecord {
  const id = fingerprint({ f: finding.fingerprint, s: finding.status, t: finding.observedAt });
  const headers = traceHeaders(finding.traceparent);
  return {
    topic: options.topics.findings,
    key: finding.fingerprint,
    value: cloudEvent(
      EVENT_TYPES.finding,
      id,
      finding.observedAt,
      subjectPath(finding.subject),
      finding,
      options.service,
    ),
    ...(headers ? { headers } : {}),
  };
}

/** An alert as on `dq.alerts.v1`: Alertmanager's webhook alert plus Tidemark's routing facts. */
export interface Alert {
  status: FindingStatus;
  labels: Record<string, string>;
  annotations: { summary: string; description?: string; runbook_url?: string };
  startsAt: string;
  /** Zero time ("0001-01-01T00:00:00Z") while firing, like Alertmanager. */
  endsAt: string;
  fingerprint: string;
  receiver: string;
  groupKey: string;
  findings: { count: number; sample: string[] };
  /** Alertmanager's `generatorURL`: a link (or URN) naming where the alert comes from. */
  generatorURL?: string;
  traceparent?: string;
}

/**
 * Header of a firing alert's record: the latest time (ISO 8601) the router sends it again while it keeps
 * firing. The Alertmanager bridge turns it into the alert's `endsAt`, so Alertmanager keeps it alive until then.
 */
export const ALERT_REFRESH_BY_HEADER = 'tidemark.alert.refresh-by';

/**
 * The `dq.alerts.v1` record of an alert notification sent at `sentAt` (epoch ms); `refreshBy` (epoch ms) of a
 * firing one travels in the ALERT_REFRESH_BY_HEADER.
 */
export function alertRecord(
  alert: Alert,
  sentAt: number,
  options: OutputOptions,
  refreshBy?: number,
): OutputRecord {
  const time = formatTime(sentAt);
  const id = fingerprint({
    f: alert.fingerprint,
    r: alert.receiver,
    s: alert.status,
    a: alert.startsAt,
    e: alert.endsAt,
    t: time,
  });
  const headers: RecordHeaders = { ...traceHeaders(alert.traceparent) };
  if (refreshBy !== undefined && alert.status === 'firing')
    headers[ALERT_REFRESH_BY_HEADER] = formatTime(refreshBy);
  return {
    topic: options.topics.alerts,
    key: alert.fingerprint,
    value: cloudEvent(EVENT_TYPES.alert, id, time, alert.groupKey, alert, options.service),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

/** One affected document in a ticket, with the reason it is listed. */
export interface TicketItem {
  system: string;
  docId?: string;
  check: string;
  reason: string;
  fingerprint: string;
}

/** A steward ticket as on `dq.tickets.v1`; `version` grows with every action on the same key. */
export interface Ticket {
  ticketKey: string;
  action: 'open' | 'update' | 'resolve';
  version: number;
  /** The routing.yaml receiver it was routed to (a `tickets` or `jira` receiver). */
  receiver?: string;
  queue: string;
  assignee: string;
  team?: string;
  priority: 'P1' | 'P2' | 'P3' | 'P4';
  dueBy?: string;
  title: string;
  body: string;
  items: TicketItem[];
  itemCount: number;
  alerts: string[];
  /** Set once the ticket is past its `dueBy` (and on every later action of the same key). */
  escalated?: boolean;
  /** The owning team's escalation receiver (owners.yaml `escalation.receiver`), when escalated and known. */
  escalationReceiver?: string;
}

/** The `dq.tickets.v1` record of a ticket action taken at `at` (epoch ms); id is deterministic in (key, version). */
export function ticketRecord(ticket: Ticket, at: number, options: OutputOptions): OutputRecord {
  const id = fingerprint({ k: ticket.ticketKey, v: ticket.version, a: ticket.action });
  return {
    topic: options.topics.tickets,
    key: ticket.ticketKey,
    value: cloudEvent(
      EVENT_TYPES.ticket,
      id,
      formatTime(at),
      ticket.ticketKey,
      ticket,
      options.service,
    ),
  };
}

/** How long an `envelope.invalid` finding fires after the last invalid record of its (service, topic, system). */
export const ENVELOPE_INVALID_QUIET_MS = 3600_000;

/**
 * The `envelope.invalid` finding that accompanies a dead letter. One fingerprint per (service, topic, system)
 * so a broken producer is one alert, not one per record; the record's coordinates are the evidence. It
 * expires `quietMs` after this record (`expiresAt`): each new invalid record refreshes it, and a quiet period
 * without one resolves it at the router.
 */
export function envelopeInvalidFinding(args: {
  record: InputRecord;
  error: unknown;
  service: string;
  now: number;
  /** @default ENVELOPE_INVALID_QUIET_MS (1h) */
  quietMs?: number;
}): Finding {
  const { record, error, service, now, quietMs = ENVELOPE_INVALID_QUIET_MS } = args;
  const { errorClass } = describeError(error);
  const message = safeErrorText(error);
  const system = record.key?.split('/')[0] || 'unknown';
  return buildFinding({
    check: 'envelope.invalid',
    status: 'firing',
    severity: 'warning',
    subject: { system, feature: `${service}:${record.topic}` },
    owner: {},
    summary: `invalid record on ${record.topic} from ${system}: ${message.slice(0, 200)}`,
    evidence: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      errorClass,
      error: message,
    },
    observedAt: formatTime(now),
    expiresAt: formatTime(now + quietMs),
    ...(record.headers['traceparent'] ? { traceparent: record.headers['traceparent'] } : {}),
  });
}
