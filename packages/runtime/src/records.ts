import {
  CLOUDEVENTS_CONTENT_TYPE,
  CONTENT_TYPE_HEADER,
  isStructuredCloudEvent,
  type InputRecord,
  type OutputRecord,
  type RecordHeaders,
} from '@tidemark/core';
import type { IHeaders, KafkaMessage, Message, TopicMessages } from 'kafkajs';
import { carryProcessSpan } from './otel-handle.js';

/**
 * Property on a kafkajs message holding the traceparent the runtime chose for it. The kafkajs
 * instrumentation overwrites the `traceparent` header with its send span (parented to whatever context is
 * active when a whole batch is sent); `@tidemark/runtime/otel` puts this value back in a producer hook so
 * each output keeps the trace of the record that caused it. Symbol.for so both module copies agree.
 */
export const OUTPUT_TRACEPARENT: unique symbol = Symbol.for(
  'tidemark.runtime.traceparent',
) as never;

/** A kafkajs message as the runtime produces it, with the trace context it must keep. */
export type OutgoingMessage = Message & { [OUTPUT_TRACEPARENT]?: string };

/** Record headers as text; for a header repeated in one record the first value wins. */
export function decodeHeaders(headers: IHeaders | undefined): RecordHeaders {
  const out: RecordHeaders = {};
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    let value = headers[name];
    if (Array.isArray(value)) value = value[0];
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}

/**
 * The InputRecord a handler sees for one consumed kafkajs message; it keeps the message's instrumentation span
 * (otel-handle.ts), so the record's handler span is that span's child.
 */
export function toInputRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
): InputRecord {
  const record: InputRecord = {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value,
    headers: decodeHeaders(message.headers),
  };
  carryProcessSpan(message, record);
  return record;
}

/**
 * One kafkajs message for an output record, with headers whose value is undefined left out. A structured-mode
 * CloudEvent (finding, alert, ticket, internal partial) gets `content-type: application/cloudevents+json;
 * charset=UTF-8` unless it set its own: every output passes here, so no builder can forget it.
 */
export function toKafkaMessage(record: OutputRecord, partition?: number): OutgoingMessage {
  const headers: Record<string, string> = {};
  if (record.headers) {
    for (const [name, value] of Object.entries(record.headers))
      if (value !== undefined) headers[name] = value;
  }
  if (headers[CONTENT_TYPE_HEADER] === undefined && isStructuredCloudEvent(record.value))
    headers[CONTENT_TYPE_HEADER] = CLOUDEVENTS_CONTENT_TYPE;
  const message: OutgoingMessage = { key: record.key, value: record.value, headers };
  if (partition !== undefined) message.partition = partition;
  const traceparent = headers['traceparent'];
  if (traceparent !== undefined) message[OUTPUT_TRACEPARENT] = traceparent;
  return message;
}

/** Output records grouped by topic in first-seen order (order within a topic kept), ready for sendBatch. */
export function groupByTopic(
  messages: ReadonlyArray<{ topic: string; message: OutgoingMessage }>,
): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of messages) {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(message);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

/** The offset after `offset` (Kafka offsets are int64; commit positions are "last processed + 1"). */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** Whether offset a is before offset b (int64 decimal strings). */
export function offsetBefore(a: string, b: string): boolean {
  return BigInt(a) < BigInt(b);
}
