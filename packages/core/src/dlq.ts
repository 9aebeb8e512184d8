// Dead letters: the DLQ record of an input or output that could not be handled, with the headers that say why
// (spec/outputs.md), and what of a restricted record's value it may keep.
import { describeError, safeErrorText } from './errors.js';
import type { InputRecord, OutputRecord, RecordHeaders } from './records.js';
import type { TopicCatalog } from './topics.js';

/** Names of the headers a dead letter carries (spec/outputs.md). */
export const DLQ_HEADERS = {
  topic: 'tidemark.dlq.topic',
  partition: 'tidemark.dlq.partition',
  offset: 'tidemark.dlq.offset',
  timestamp: 'tidemark.dlq.timestamp',
  errorClass: 'tidemark.dlq.error.class',
  errorMessage: 'tidemark.dlq.error.message',
  service: 'tidemark.dlq.service',
  /** `true` on a DLQ copy whose value was cut to fit the broker's size limit. */
  truncated: 'tidemark.dlq.truncated',
  /** Size in bytes of the value before it was cut (with `truncated`). */
  originalBytes: 'tidemark.dlq.original.bytes',
  /** On the DLQ copy of an output (not an input): the topic the output was meant for. */
  outputTopic: 'tidemark.dlq.output.topic',
} as const;

/** What happens to the value of a dead letter whose document is known to be `restricted`. */
export type DlqRestrictedPolicy = 'withhold' | 'keep';

/** Header saying a dead letter's value was withheld, and why. */
export const DLQ_VALUE_WITHHELD_HEADER = 'tidemark.dlq.value.withheld';

/**
 * The classification a record declares, if it can be read without trusting it: the `data.classification` of a
 * structured CloudEvent, or the top-level `classification` of a binary-mode body. Undefined when unknown.
 */
export function declaredClassification(
  record: Pick<InputRecord, 'value' | 'headers'>,
): string | undefined {
  const raw = record.value;
  if (raw === null || raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const binary = record.headers['ce_specversion'] !== undefined;
  const data = binary ? parsed : (parsed as { data?: unknown }).data;
  const value = (data as { classification?: unknown } | null | undefined)?.classification;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The `dq.dlq.v1` record for an input that could not be processed: key, reason in headers, and the original bytes
 * — except for a document known to be `restricted` under the default policy `withhold`: its value is dropped
 * (null) and the DLQ_VALUE_WITHHELD_HEADER says so; ids and reason are kept. The reason is safeErrorText: it
 * never quotes the record.
 */
export function dlqRecord(args: {
  record: InputRecord;
  error: unknown;
  service: string;
  topics: TopicCatalog;
  /** @default 'withhold' */
  restricted?: DlqRestrictedPolicy;
}): OutputRecord {
  const { record, error, service, topics, restricted = 'withhold' } = args;
  const { errorClass } = describeError(error);
  const withhold = restricted === 'withhold' && declaredClassification(record) === 'restricted';
  return {
    topic: topics.dlq,
    key: record.key,
    value: withhold ? null : record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: String(record.partition),
      [DLQ_HEADERS.offset]: record.offset,
      [DLQ_HEADERS.timestamp]: record.timestamp,
      [DLQ_HEADERS.errorClass]: errorClass,
      [DLQ_HEADERS.errorMessage]: safeErrorText(error).slice(0, 1000),
      [DLQ_HEADERS.service]: service,
      ...(withhold ? { [DLQ_VALUE_WITHHELD_HEADER]: 'classification restricted' } : {}),
    },
  };
}

// Room for the record framing, the key and header names/values kept verbatim around a truncated value.
const DLQ_RECORD_OVERHEAD_BYTES = 512;

function headerBytes(headers: RecordHeaders): number {
  let n = 0;
  for (const [name, value] of Object.entries(headers))
    n += Buffer.byteLength(name) + (value === undefined ? 0 : Buffer.byteLength(value));
  return n;
}

/**
 * The `dq.dlq.v1` record for an output the broker will never accept (too large, invalid): the output's key,
 * value and headers with the reason; when `output` already is a DLQ copy its input coordinates are kept.
 * The value is cut so the whole record stays under `maxBytes` (marked `truncated`, with the original size).
 */
export function outputDlqRecord(args: {
  output: OutputRecord;
  error: unknown;
  service: string;
  topics: TopicCatalog;
  maxBytes: number;
}): OutputRecord {
  const { output, error, service, topics, maxBytes } = args;
  const { errorClass, message } = describeError(error);
  const headers: RecordHeaders = {
    ...output.headers,
    ...(output.topic === topics.dlq ? {} : { [DLQ_HEADERS.outputTopic]: output.topic }),
    [DLQ_HEADERS.errorClass]: errorClass,
    [DLQ_HEADERS.errorMessage]: message.slice(0, 1000),
    [DLQ_HEADERS.service]: service,
  };
  const value = output.value === null ? null : Buffer.from(output.value);
  const room =
    maxBytes -
    DLQ_RECORD_OVERHEAD_BYTES -
    (output.key === null ? 0 : Buffer.byteLength(output.key)) -
    headerBytes(headers);
  if (value === null || value.length <= room)
    return { topic: topics.dlq, key: output.key, value, headers };
  return {
    topic: topics.dlq,
    key: output.key,
    value: room > 0 ? value.subarray(0, room) : null,
    headers: {
      ...headers,
      [DLQ_HEADERS.truncated]: 'true',
      [DLQ_HEADERS.originalBytes]: String(value.length),
    },
  };
}
