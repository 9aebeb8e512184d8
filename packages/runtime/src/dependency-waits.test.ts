import { DependencyUnavailableError } from '@tidemark/core';
import type { Consumer } from 'kafkajs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyWaits } from './dependency-waits.js';
import type { HostStatus } from './host-status.js';

/** The consumer calls a wait makes, in order. */
function fakeConsumer() {
  const calls: string[] = [];
  const consumer = {
    pause: (t: Array<{ topic: string; partitions: number[] }>) =>
      calls.push(`pause ${t[0]!.topic}[${t[0]!.partitions.join()}]`),
    resume: (t: Array<{ topic: string; partitions: number[] }>) =>
      calls.push(`resume ${t[0]!.topic}[${t[0]!.partitions.join()}]`),
    seek: (s: { topic: string; partition: number; offset: string }) =>
      calls.push(`seek ${s.topic}[${s.partition}]@${s.offset}`),
  };
  return { calls, consumer: consumer as unknown as Consumer };
}

const blocked = (offset: string) => ({
  offset,
  error: new DependencyUnavailableError('registry', 'schema registry unreachable'),
  trace: {},
});

describe('DependencyWaits', () => {
  let status: HostStatus;
  beforeEach(() => {
    vi.useFakeTimers();
    status = { joined: true, rebalancing: false, stopping: false, fatal: undefined };
  });
  afterEach(() => vi.useRealTimers());

  function waits() {
    const fake = fakeConsumer();
    const w = new DependencyWaits({
      consumer: () => fake.consumer,
      retryMaxMs: 10_000,
      status,
      logger: pino({ level: 'silent' }),
    });
    return { w, calls: fake.calls };
  }

  it('pauses the topic-partition, then seeks back to the record and resumes after the backoff', () => {
    const { w, calls } = waits();
    w.pause({ partition: 2, dropped: false }, 'in', blocked('41'));
    expect(calls).toEqual(['pause in[2]']);
    expect(w.keys()).toEqual(['in:2']);
    vi.advanceTimersByTime(1_000);
    expect(calls).toEqual(['pause in[2]', 'seek in[2]@41', 'resume in[2]']);
    // Still waiting until the record goes through.
    expect(w.keys()).toEqual(['in:2']);
    w.passed('in:2');
    expect(w.keys()).toEqual([]);
  });

  it.each([
    { case: 'the partition was dropped', dropped: true, stopping: false },
    { case: 'the host is stopping', dropped: false, stopping: true },
  ])('does not resume when $case', ({ dropped, stopping }) => {
    const { w, calls } = waits();
    const slot = { partition: 0, dropped: false };
    w.pause(slot, 'in', blocked('7'));
    slot.dropped = dropped;
    status.stopping = stopping;
    vi.advanceTimersByTime(1_000);
    expect(calls).toEqual(['pause in[0]']);
    expect(w.keys()).toEqual([]);
  });

  it('dropping a partition ends its waits and resumes its topic-partitions, not the others', () => {
    const { w, calls } = waits();
    w.pause({ partition: 0, dropped: false }, 'a.b:c', blocked('1'));
    w.pause({ partition: 1, dropped: false }, 'a.b:c', blocked('2'));
    w.dropPartition(0);
    expect(w.keys()).toEqual(['a.b:c:1']);
    expect(calls.at(-1)).toBe('resume a.b:c[0]');
    vi.advanceTimersByTime(1_000);
    expect(calls.filter((c) => c.startsWith('seek'))).toEqual(['seek a.b:c[1]@2']);
  });
});
