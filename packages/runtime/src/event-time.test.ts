import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventTime, unreadTopic } from './event-time.js';
import type { PartitionEventTime } from './event-time.js';

const IDLE_MS = 5_000;
const SKEW_MS = 1_000;
const HOST = 1_700_000_000_000;

function partition(): PartitionEventTime {
  return { partition: 0, watermark: 0, nextTick: undefined, topicTime: new Map() };
}

describe('EventTime', () => {
  let clock: EventTime;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(HOST);
    clock = new EventTime({ eventIdleMs: IDLE_MS, eventSkewMs: SKEW_MS });
  });
  afterEach(() => vi.useRealTimers());

  it('ticks only as far as the slowest topic still being read, minus the skew', () => {
    const p = partition();
    expect(clock.advance(p, 'content', 50_000)).toBe(49_000);
    expect(clock.advance(p, 'sync', 20_000)).toBe(19_000);
    expect(clock.advance(p, 'content', 90_000)).toBe(19_000);
    expect(p.watermark).toBe(90_000);
  });

  it('moves nothing for a timestamp that is not a time', () => {
    const p = partition();
    expect(clock.advance(p, 'content', Number.NaN)).toBeUndefined();
    expect(p.topicTime.size).toBe(0);
    expect(p.watermark).toBe(0);
  });

  it('a topic with records not read yet (−∞) holds ticks back', () => {
    const p = partition();
    p.topicTime.set('sync', unreadTopic(-Infinity));
    expect(clock.advance(p, 'content', 50_000)).toBe(-Infinity);
  });

  it.each([
    {
      case: 'before EVENT_IDLE_TIMEOUT, two rounds later',
      waitMs: IDLE_MS - 1,
      rounds: 2,
      bound: 19_000,
    },
    {
      case: 'after EVENT_IDLE_TIMEOUT, one round later',
      waitMs: IDLE_MS,
      rounds: 1,
      bound: 19_000,
    },
    {
      case: 'after EVENT_IDLE_TIMEOUT, two rounds later',
      waitMs: IDLE_MS,
      rounds: 2,
      bound: 49_000,
    },
  ])('a topic read to its end holds ticks back until idle: $case', ({ waitMs, rounds, bound }) => {
    const p = partition();
    clock.countFetch(1);
    clock.advance(p, 'content', 50_000);
    clock.advance(p, 'sync', 20_000);
    clock.caughtUp(p, 'sync');
    vi.setSystemTime(HOST + waitMs);
    for (let i = 0; i < rounds; i++) clock.countFetch(1);
    expect(clock.tickBound(p, Date.now())).toBe(bound);
  });

  it('with every topic idle, ticks run to the watermark; records of one hold the others again', () => {
    const p = partition();
    clock.countFetch(1);
    clock.advance(p, 'content', 50_000);
    clock.advance(p, 'sync', 20_000);
    clock.caughtUp(p, 'content');
    clock.caughtUp(p, 'sync');
    vi.setSystemTime(HOST + IDLE_MS);
    clock.countFetch(1);
    clock.countFetch(1);
    expect(clock.tickBound(p, Date.now())).toBe(49_000);
    // Traffic resumes on content: sync's next records may be behind this batch, so it holds again.
    expect(clock.advance(p, 'content', 60_000)).toBe(19_000);
  });

  it.each([
    { case: 'no partition has read anything', topics: [], bound: undefined },
    {
      case: 'the slowest topic over the partitions, minus the skew',
      topics: [
        ['content', 40_000],
        ['sync', 30_000],
        ['content', 70_000],
      ] as const,
      bound: 29_000,
    },
    {
      case: 'a topic not read yet somewhere',
      topics: [
        ['content', 40_000],
        ['sync', -Infinity],
      ] as const,
      bound: -Infinity,
    },
  ])('partitions without records tick from $case', ({ topics, bound }) => {
    const slots = topics.map(([topic, time], i) => {
      const p = partition();
      p.partition = i;
      p.topicTime.set(topic, unreadTopic(time));
      return p;
    });
    expect(clock.idlePartitionBound(slots)).toBe(bound);
  });
});
