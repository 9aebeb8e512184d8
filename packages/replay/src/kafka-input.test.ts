import { describe, expect, it } from 'vitest';
import { resolveTopics } from '@tidemark/core';
import { RangeBoundError, parseRangeBound, rangeLines } from './kafka-input.js';
import { parseLine } from './input.js';
import type { RangeRecord } from './kafka-input.js';

describe('parseRangeBound', () => {
  it.each([
    ['2025-03-03T10:00:00Z', { kind: 'time', ms: Date.parse('2025-03-03T10:00:00Z') }],
    ['2025-03-03T11:00:00+01:00', { kind: 'time', ms: Date.parse('2025-03-03T10:00:00Z') }],
    ['42', { kind: 'offset', offset: 42n }],
    [' 0 ', { kind: 'offset', offset: 0n }],
  ])('%s', (text, bound) => {
    expect(parseRangeBound(text, '--since')).toEqual(bound);
  });

  it.each(['yesterday', '-1', '10m'])('rejects %s', (text) => {
    expect(() => parseRangeBound(text, '--until')).toThrow(
      new RangeBoundError(
        `--until ${JSON.stringify(text)}: not an RFC 3339 time (e.g. 2025-03-03T10:00:00Z) nor an offset (a whole number)`,
      ),
    );
  });
});

describe('rangeLines', () => {
  const rec = (
    topic: string,
    partition: number,
    offset: number,
    ts: number,
    value: Buffer | null,
  ): RangeRecord => ({
    topic,
    partition,
    offset: String(offset),
    timestamp: String(ts),
    key: `k${offset}`,
    value,
    headers: { traceparent: 'tp', skipped: undefined },
  });

  it('orders by timestamp, then topic order, partition and offset; keeps any bytes; replay reads it back', () => {
    const topics = resolveTopics();
    const bytes = Buffer.from([0, 0xff, 0x7b]);
    const lines = rangeLines(
      [
        rec(topics.syncEvents, 0, 5, 2000, Buffer.from('{"b":1}')),
        rec(topics.contentChanges, 1, 9, 2000, bytes),
        rec(topics.contentChanges, 0, 3, 1000, null),
        rec(topics.contentChanges, 0, 1, 2000, Buffer.from('x')),
      ],
      [topics.contentChanges, topics.syncEvents],
    );
    const parsed = lines.map((l, i) => parseLine(l, i + 1, topics));
    expect(
      parsed.map((p) =>
        p.kind === 'record' ? [p.topic, p.key, p.time, p.value?.toString('hex') ?? null] : p.kind,
      ),
    ).toEqual([
      [topics.contentChanges, 'k3', 1000, null],
      [topics.contentChanges, 'k1', 2000, Buffer.from('x').toString('hex')],
      [topics.contentChanges, 'k9', 2000, bytes.toString('hex')],
      [topics.syncEvents, 'k5', 2000, Buffer.from('{"b":1}').toString('hex')],
    ]);
    expect(parsed[0]?.kind === 'record' && parsed[0].headers).toEqual({ traceparent: 'tp' });
  });
});
