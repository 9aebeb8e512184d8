import { describe, expect, it } from 'vitest';
import { CLOUDEVENTS_CONTENT_TYPE } from '@tidemark/core';
import {
  OUTPUT_TRACEPARENT,
  decodeHeaders,
  groupByTopic,
  nextOffset,
  offsetBefore,
  toInputRecord,
  toKafkaMessage,
} from './records.js';

describe('records', () => {
  it('decodes headers as UTF-8, first value of a repeated header, skipping undefined', () => {
    expect(
      decodeHeaders({
        a: Buffer.from('é'),
        b: 'text',
        c: [Buffer.from('first'), 'second'],
        d: undefined,
      }),
    ).toEqual({ a: 'é', b: 'text', c: 'first' });
    expect(decodeHeaders(undefined)).toEqual({});
  });

  it('turns a kafkajs message into an InputRecord', () => {
    const value = Buffer.from('{}');
    expect(
      toInputRecord('t', 3, {
        key: Buffer.from('wiki/x'),
        value,
        offset: '9',
        timestamp: '5',
        attributes: 0,
        headers: { h: Buffer.from('v') },
      }),
    ).toEqual({
      topic: 't',
      partition: 3,
      offset: '9',
      timestamp: '5',
      key: 'wiki/x',
      value,
      headers: { h: 'v' },
    });
    expect(
      toInputRecord('t', 0, {
        key: null,
        value: null,
        offset: '0',
        timestamp: '0',
        attributes: 0,
        headers: {},
      }).key,
    ).toBeNull();
  });

  it('builds kafkajs messages: undefined headers dropped, partition when given, traceparent kept aside', () => {
    const m = toKafkaMessage(
      { topic: 't', key: 'k', value: 'v', headers: { traceparent: 'tp', gone: undefined } },
      4,
    );
    const { [OUTPUT_TRACEPARENT]: kept, ...message } = m;
    expect(message).toEqual({ key: 'k', value: 'v', headers: { traceparent: 'tp' }, partition: 4 });
    expect(kept).toBe('tp');
    const plain = toKafkaMessage({ topic: 't', key: null, value: null });
    expect(plain).toEqual({ key: null, value: null, headers: {} });
    expect(OUTPUT_TRACEPARENT in plain).toBe(false);
  });

  it.each([
    [
      'a structured CloudEvent gets it',
      '{"specversion":"1.0","id":"x"}',
      {},
      CLOUDEVENTS_CONTENT_TYPE,
    ],
    ['one set by the builder is kept', '{"specversion":"1.0"}', { 'content-type': 'x/y' }, 'x/y'],
    ['a changelog value gets none', '{"rev":1}', {}, undefined],
    ['passed-through bytes get none', Buffer.from('{"specversion":"1.0"}'), {}, undefined],
    ['a tombstone gets none', null, {}, undefined],
  ] as const)('content-type: %s', (_, value, headers, expected) => {
    const m = toKafkaMessage({ topic: 't', key: 'k', value, headers: { ...headers } });
    expect(m.headers?.['content-type']).toBe(expected);
  });

  it('groups by topic in first-seen order, keeping order within a topic', () => {
    const m = (v: string) => ({ key: null, value: v });
    expect(
      groupByTopic([
        { topic: 'b', message: m('1') },
        { topic: 'a', message: m('2') },
        { topic: 'b', message: m('3') },
      ]),
    ).toEqual([
      { topic: 'b', messages: [m('1'), m('3')] },
      { topic: 'a', messages: [m('2')] },
    ]);
  });

  it('computes offsets as int64 without losing precision', () => {
    expect(nextOffset('9007199254740993')).toBe('9007199254740994');
    expect(offsetBefore('9007199254740992', '9007199254740993')).toBe(true);
    expect(offsetBefore('10', '9')).toBe(false);
    expect(offsetBefore('9', '9')).toBe(false);
  });
});
