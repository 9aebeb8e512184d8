import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPICS, formatTime, parseTime, resolveTopics } from '@tidemark/core';
import { parseLine, readLines } from './input.js';

const topics = resolveTopics();
const time = '2025-03-03T09:00:00.000Z';
const at = parseTime(time);
const ce = (type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    specversion: '1.0',
    id: 'e1',
    source: 'connector/x',
    type,
    time,
    data,
    ...extra,
  });

describe('parseLine: CloudEvent values', () => {
  it.each([
    [
      'content.upserted',
      { system: 'confluence', docId: 'P-1' },
      DEFAULT_TOPICS.contentChanges,
      'confluence/P-1',
    ],
    [
      'content.deleted',
      { system: 'confluence', docId: 'a/b' },
      DEFAULT_TOPICS.contentChanges,
      'confluence/a/b',
    ],
    [
      'index.upserted',
      { system: 'zendesk', docId: '7', connector: 'zd' },
      DEFAULT_TOPICS.syncEvents,
      'zendesk/7',
    ],
    [
      'index.removed',
      { system: 'zendesk', docId: '7', connector: 'zd' },
      DEFAULT_TOPICS.syncEvents,
      'zendesk/7',
    ],
    [
      'connector.run',
      { system: 'gdrive', connector: 'gdrive-people' },
      DEFAULT_TOPICS.syncEvents,
      'gdrive-people',
    ],
    [
      'inventory.snapshot',
      { system: 'gdrive', side: 'index' },
      DEFAULT_TOPICS.inventorySnapshots,
      'gdrive',
    ],
    ['tidemark.finding', { fingerprint: 'f00' }, DEFAULT_TOPICS.findings, 'f00'],
  ])('%s goes to its topic with the spec key', (type, data, topic, key) => {
    const text = ce(type, data);
    expect(parseLine(text, 4, topics)).toEqual({
      kind: 'record',
      line: 4,
      topic,
      key,
      value: Buffer.from(text),
      headers: {},
      time: at,
    });
  });

  it('falls back to the subject when data lacks the key fields, and lifts a traceparent attribute into a header', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const parsed = parseLine(
      ce('content.upserted', { docId: 1 }, { subject: 'confluence/X', traceparent: tp }),
      1,
      topics,
    );
    expect(parsed).toMatchObject({ key: 'confluence/X', headers: { traceparent: tp } });
  });

  it('follows renamed topics', () => {
    const renamed = resolveTopics({ contentChanges: 'acme.content' });
    expect(
      parseLine(ce('content.upserted', { system: 's', docId: 'd' }), 1, renamed),
    ).toMatchObject({
      topic: 'acme.content',
    });
  });

  it('keeps a CloudEvent with an unreadable time (its schema check is the services’)', () => {
    expect(parseLine(ce('content.upserted', {}, { time: 'yesterday' }), 1, topics)).toMatchObject({
      kind: 'record',
      key: null,
      time: undefined,
    });
  });
});

describe('parseLine: record envelopes', () => {
  it('reads a string value with headers and the record time', () => {
    const value = ce('content.upserted', { system: 's', docId: 'd' });
    const line = JSON.stringify({
      topic: 't1',
      key: 's/d',
      headers: { traceparent: 'tp' },
      value,
      time: at + 5,
    });
    expect(parseLine(line, 2, topics)).toEqual({
      kind: 'record',
      line: 2,
      topic: 't1',
      key: 's/d',
      value: Buffer.from(value),
      headers: { traceparent: 'tp' },
      time: at + 5,
    });
  });

  it.each([
    [{ timestamp: at + 7 }, at + 7],
    [{ timestamp: String(at + 7) }, at + 7],
    [{ time: formatTime(at + 9) }, at + 9],
    [{ timestamp: 'soon', time: at + 3 }, at + 3],
  ])('reads the record time from %j', (fields, expected) => {
    const line = JSON.stringify({ topic: 't', value: 'x', ...fields });
    expect(parseLine(line, 1, topics)).toMatchObject({ time: expected });
  });

  it('serializes an object value and takes its time', () => {
    const value = { specversion: '1.0', type: 'index.upserted', time, data: {} };
    expect(parseLine(JSON.stringify({ topic: 't', value }), 1, topics)).toEqual({
      kind: 'record',
      line: 1,
      topic: 't',
      key: null,
      value: Buffer.from(JSON.stringify(value)),
      headers: {},
      time: at,
    });
  });

  it('decodes base64 values (framed records) and takes the time from ce_time', () => {
    const bytes = Buffer.from([0, 0, 0, 0, 1, 123, 125]);
    const line = JSON.stringify({
      topic: 't',
      key: 'k',
      headers: { ce_time: time },
      value: bytes.toString('base64'),
      encoding: 'base64',
    });
    expect(parseLine(line, 1, topics)).toMatchObject({ value: bytes, time: at });
  });

  it('reads the CloudEvent time inside a string value when the envelope has none', () => {
    expect(parseLine(JSON.stringify({ topic: 't', value: ce('x', {}) }), 1, topics)).toMatchObject({
      time: at,
    });
    expect(parseLine(JSON.stringify({ topic: 't', value: 'not json' }), 1, topics)).toMatchObject({
      value: Buffer.from('not json'),
      time: undefined,
    });
  });
});

describe('parseLine: lines replay rejects', () => {
  it.each([
    ['{"a":', 'not valid JSON: '],
    ['[1,2]', 'not a CloudEvent or record envelope: the line is an array'],
    ['42', 'not a CloudEvent or record envelope: the line is a number'],
    ['null', 'not a CloudEvent or record envelope: the line is null'],
    [
      '{"hello":"world"}',
      'not a CloudEvent (no specversion) nor a record envelope ({ "topic", "value" })',
    ],
    ['{"specversion":"1.0","type":7}', 'not a CloudEvent: "type" is not a string'],
    ['{"specversion":"1.0","type":"content.renamed"}', 'unknown event type "content.renamed"'],
    ['{"topic":"","value":"x"}', 'record envelope: "topic" is empty'],
    [
      '{"topic":"t","key":5,"value":"x"}',
      'record envelope: "key" must be a string or null, got a number',
    ],
    [
      '{"topic":"t","headers":[],"value":"x"}',
      'record envelope: "headers" must be an object, got an array',
    ],
    ['{"topic":"t","headers":{"a":1},"value":"x"}', 'record envelope: header "a" must be a string'],
    [
      '{"topic":"t","value":true}',
      'record envelope: "value" must be a string, an object or null, got a boolean',
    ],
    ['{"topic":"t","value":"x","encoding":"hex"}', 'record envelope: unknown encoding "hex"'],
  ])('%s', (text, reason) => {
    const parsed = parseLine(text, 9, topics);
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    expect(parsed.line).toBe(9);
    expect(parsed.text).toBe(text);
    if (reason.endsWith(': ')) expect(parsed.reason.startsWith(reason)).toBe(true);
    else expect(parsed.reason).toBe(reason);
  });

  it('skips blank lines but counts them', () => {
    expect(parseLine('   ', 3, topics)).toEqual({ kind: 'blank', line: 3 });
  });
});

describe('readLines', () => {
  it('streams lines of iterables and async iterables, dropping a trailing carriage return', async () => {
    const collect = async (input: Parameters<typeof readLines>[0]) => {
      const out: string[] = [];
      for await (const l of readLines(input)) out.push(l);
      return out;
    };
    expect(await collect(['a\r', 'b'])).toEqual(['a', 'b']);
    async function* gen() {
      yield 'x';
      yield 'y\r';
    }
    expect(await collect(gen())).toEqual(['x', 'y']);
  });
});
