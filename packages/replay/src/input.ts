import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  EVENT_TYPES,
  parseTime,
  topicRoleForEventType,
  type RecordHeaders,
  type TopicCatalog,
} from '@tidemark/core';

/** Where replay reads its JSONL from: a file path, or lines (one JSON value each, without newlines). */
export type ReplayInput = string | AsyncIterable<string> | Iterable<string>;

/** One input line turned into a record for a topic. */
export interface ReplayRecord {
  kind: 'record';
  /** 1-based line number in the input. */
  line: number;
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers: RecordHeaders;
  /** Event time of the record (epoch ms), when it has one: it drives the replay clock. */
  time: number | undefined;
}

/** An input line replay cannot turn into a record; it goes to `dlq.jsonl`. */
export interface InvalidLine {
  kind: 'invalid';
  line: number;
  reason: string;
  text: string;
}

/** What one input line is. */
export type ParsedLine = ReplayRecord | InvalidLine | { kind: 'blank'; line: number };

/**
 * Reads input lines one at a time (a file is streamed, never loaded whole). Lines keep their physical numbering,
 * blank ones included; a trailing carriage return is dropped.
 */
export async function* readLines(input: ReplayInput): AsyncGenerator<string> {
  if (typeof input === 'string') {
    const stream = createReadStream(input, { encoding: 'utf8', highWaterMark: 1 << 20 });
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of lines) yield line;
    } finally {
      lines.close();
      stream.destroy();
    }
    return;
  }
  for await (const line of input as AsyncIterable<string>) {
    yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function invalid(line: number, reason: string, text: string): InvalidLine {
  return { kind: 'invalid', line, reason, text };
}

function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  // Kafka's form: epoch ms as a decimal string.
  if (/^\d{1,16}$/.test(value)) return Number(value);
  try {
    return parseTime(value);
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;

/** The record key the spec gives an event: `<system>/<docId>` for documents, connector for runs, system for snapshots. */
export function keyForEvent(event: Record<string, unknown>): string | null {
  const data = isObject(event['data']) ? event['data'] : {};
  switch (event['type']) {
    case EVENT_TYPES.contentUpserted:
    case EVENT_TYPES.contentDeleted:
    case EVENT_TYPES.indexUpserted:
    case EVENT_TYPES.indexRemoved: {
      const system = str(data['system']);
      const docId = str(data['docId']);
      return system && docId ? `${system}/${docId}` : (str(event['subject']) ?? null);
    }
    case EVENT_TYPES.connectorRun:
      return str(data['connector']) ?? str(event['subject']) ?? null;
    case EVENT_TYPES.inventorySnapshot:
      return str(data['system']) ?? str(event['subject']) ?? null;
    case EVENT_TYPES.finding:
    case EVENT_TYPES.alert:
      return str(data['fingerprint']) ?? null;
    case EVENT_TYPES.ticket:
      return str(data['ticketKey']) ?? null;
    default:
      return str(event['subject']) ?? null;
  }
}

/**
 * Parses one input line: a CloudEvent value (its topic follows from `type`, its key from the spec's key rules) or
 * a record envelope `{ topic, key?, headers?, value, encoding?, timestamp? }` as `tidemark simulate` writes them
 * (`value` a string — base64 bytes with `encoding: "base64"` — or an object; `timestamp` the record's epoch ms, as a
 * number or decimal string; `time` is read as a synonym). Anything else is an InvalidLine with the reason.
 * Schema checks are left to the services' own decoders, as live: a known type with bad fields is their dead letter.
 */
export function parseLine(text: string, line: number, topics: TopicCatalog): ParsedLine {
  if (text.trim().length === 0) return { kind: 'blank', line };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return invalid(line, `not valid JSON: ${(error as Error).message}`, text);
  }
  if (!isObject(parsed)) {
    return invalid(
      line,
      `not a CloudEvent or record envelope: the line is ${describe(parsed)}`,
      text,
    );
  }
  if (typeof parsed['topic'] === 'string' && 'value' in parsed) return envelope(parsed, line, text);
  if (!('specversion' in parsed)) {
    return invalid(
      line,
      'not a CloudEvent (no specversion) nor a record envelope ({ "topic", "value" })',
      text,
    );
  }
  const type = parsed['type'];
  if (typeof type !== 'string')
    return invalid(line, 'not a CloudEvent: "type" is not a string', text);
  const role = topicRoleForEventType(type);
  if (role === undefined) return invalid(line, `unknown event type ${JSON.stringify(type)}`, text);
  const headers: RecordHeaders = {};
  // The CloudEvents distributed-tracing extension: a producer would have sent it as the record's header.
  if (typeof parsed['traceparent'] === 'string') headers['traceparent'] = parsed['traceparent'];
  return {
    kind: 'record',
    line,
    topic: topics[role],
    key: keyForEvent(parsed),
    value: Buffer.from(text, 'utf8'),
    headers,
    time: timeOf(parsed['time']),
  };
}

function envelope(e: Record<string, unknown>, line: number, text: string): ParsedLine {
  const topic = e['topic'] as string;
  if (topic.length === 0) return invalid(line, 'record envelope: "topic" is empty', text);
  const key = e['key'];
  if (key !== undefined && key !== null && typeof key !== 'string') {
    return invalid(
      line,
      `record envelope: "key" must be a string or null, got ${describe(key)}`,
      text,
    );
  }
  const headers: RecordHeaders = {};
  if (e['headers'] !== undefined && e['headers'] !== null) {
    if (!isObject(e['headers'])) {
      return invalid(
        line,
        `record envelope: "headers" must be an object, got ${describe(e['headers'])}`,
        text,
      );
    }
    for (const [k, v] of Object.entries(e['headers'])) {
      if (typeof v !== 'string') {
        return invalid(line, `record envelope: header ${JSON.stringify(k)} must be a string`, text);
      }
      headers[k] = v;
    }
  }
  const raw = e['value'];
  let value: Buffer | null;
  if (raw === null) value = null;
  else if (typeof raw === 'string') {
    if (e['encoding'] !== undefined && e['encoding'] !== 'base64') {
      return invalid(
        line,
        `record envelope: unknown encoding ${JSON.stringify(e['encoding'])}`,
        text,
      );
    }
    value = Buffer.from(raw, e['encoding'] === 'base64' ? 'base64' : 'utf8');
  } else if (isObject(raw)) {
    value = Buffer.from(JSON.stringify(raw), 'utf8');
  } else {
    return invalid(
      line,
      `record envelope: "value" must be a string, an object or null, got ${describe(raw)}`,
      text,
    );
  }
  // The record's own time (the producer's timestamp) stands for the wall clock the live services would read;
  // without one, the CloudEvent time inside the value (or binary mode's ce_time header) does.
  const time =
    timeOf(e['timestamp']) ??
    timeOf(e['time']) ??
    (isObject(raw) ? timeOf(raw['time']) : undefined) ??
    timeOf(headers['ce_time']) ??
    (typeof raw === 'string' && e['encoding'] === undefined ? valueTime(raw) : undefined);
  return {
    kind: 'record',
    line,
    topic,
    key: (key as string | null | undefined) ?? null,
    value,
    headers,
    time,
  };
}

function valueTime(raw: string): number | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return isObject(v) ? timeOf(v['time']) : undefined;
  } catch {
    return undefined;
  }
}
