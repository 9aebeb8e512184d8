import { describe, expect, it } from 'vitest';
import {
  DLQ_HEADERS,
  EnvelopeError,
  KeyValueState,
  noopMetrics,
  resolveTopics,
  stateTopic,
  type GlobalTable,
  type HandlerContext,
  type InputRecord,
  type OutputRecord,
} from '@tidemark/core';
import { ReplayHost, type ReplayService } from './host.js';
import { createPartitioner } from './partitioner.js';

const topics = resolveTopics();
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

interface Seen {
  service: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  now: number;
  traceparent?: string;
}

class Table implements GlobalTable {
  readonly applied: Array<[string, string | null]> = [];
  apply(key: string, value: Buffer | null): void {
    this.applied.push([key, value === null ? null : value.toString()]);
  }
}

/** A service that logs what it sees and answers each record with whatever the record's value asks for. */
function service(
  name: string,
  inputs: string[],
  log: Seen[],
  extra: Partial<ReplayService> = {},
): ReplayService {
  return {
    name,
    inputs,
    createState: () => new KeyValueState<number>(),
    decode(record: InputRecord) {
      const text = record.value?.toString() ?? '';
      if (text === 'bad') throw new EnvelopeError('invalid-json', 'bad is not an event');
      return JSON.parse(text) as { emit?: OutputRecord[]; count?: boolean };
    },
    handle(state, event, record, ctx: HandlerContext) {
      log.push({
        service: name,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        key: record.key,
        now: ctx.now,
        ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      });
      const e = event as { emit?: OutputRecord[]; count?: boolean };
      if (e.count) {
        const kv = state as KeyValueState<number>;
        kv.set(record.key ?? '-', (kv.get(record.key ?? '-') ?? 0) + 1);
      }
      return e.emit ?? [];
    },
    ...extra,
  };
}

function host(services: ReplayService[], sink: OutputRecord[] = [], tickMs = 10_000): ReplayHost {
  return new ReplayHost({
    services,
    topics,
    partitions: 3,
    tickMs,
    metrics: noopMetrics,
    sink: (o) => sink.push(o),
  });
}

const rec = (topic: string, key: string | null, value: unknown, time?: number, headers = {}) => ({
  topic,
  key,
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers,
  time,
});

describe('ReplayHost', () => {
  it('partitions by key like the producer and numbers offsets per topic partition', async () => {
    const log: Seen[] = [];
    const h = host([service('a', ['in'], log)]);
    const keys = ['k1', 'k2', 'k1', 'k3', 'k1'];
    for (const k of keys) await h.push(rec('in', k, {}, 1000));
    const p = createPartitioner(3);
    const expectedOffsets = new Map<number, number>();
    expect(log.map((s) => [s.key, s.partition, s.offset])).toEqual(
      keys.map((k) => {
        const part = p.partition('in', k);
        const off = expectedOffsets.get(part) ?? 0;
        expectedOffsets.set(part, off + 1);
        return [k, part, String(off)];
      }),
    );
  });

  it('runs every tick boundary a record passes, for every partition, before the record', async () => {
    const ticks: Array<[number, number]> = [];
    const log: Seen[] = [];
    const h = host([
      service('a', ['in'], log, {
        tick: (_s, ctx) => {
          ticks.push([ctx.now, ctx.partition]);
          return [];
        },
      }),
    ]);
    await h.push(rec('in', 'k', {}, 5_000));
    expect(ticks).toEqual([]);
    await h.push(rec('in', 'k', {}, 35_000));
    expect(ticks).toEqual(
      [10_000, 20_000, 30_000].flatMap((t) => [0, 1, 2].map((p) => [t, p] as [number, number])),
    );
    expect(log.map((s) => s.now)).toEqual([5_000, 35_000]);
    // A late record does not move the clock back; advancing runs the boundaries still due.
    await h.push(rec('in', 'k', {}, 1_000));
    expect(log.at(-1)?.now).toBe(35_000);
    await h.advanceTo(40_000);
    expect(h.clock).toBe(40_000);
    expect(ticks.slice(9)).toEqual([0, 1, 2].map((p) => [40_000, p]));
  });

  it('skips boundaries at which no service is due: ticks only at the first boundary after a declared due time', async () => {
    const ticks: Array<[string, number, number]> = [];
    // Each partition state holds its due time under 'due' (set by a record's `due` field).
    const dueOf = (s: unknown) => (s as KeyValueState<number>).get('due') ?? Infinity;
    const deadlines = (name: string): ReplayService => ({
      ...service(name, ['in'], []),
      handle(state, event) {
        const due = (event as { due?: number }).due;
        if (due !== undefined) (state as KeyValueState<number>).set('due', due);
        return [];
      },
      tick(state, ctx) {
        ticks.push([name, ctx.now, ctx.partition]);
        if (dueOf(state) <= ctx.now) (state as KeyValueState<number>).delete('due');
        return [];
      },
      nextTick: dueOf,
    });
    const h = host([deadlines('a'), deadlines('b')]);
    const pa = createPartitioner(3).partition('in', 'k');
    await h.push(rec('in', 'k', { due: 25_000 }, 1_000));
    // Ten days of event time later: one round at 30 s (the first boundary at or after 25 s), for the due partition.
    await h.push(rec('in', 'k', {}, 10 * 86_400_000));
    expect(ticks).toEqual([
      ['a', 30_000, pa],
      ['b', 30_000, pa],
    ]);
    expect(h.stats.ticks).toBe(2);
    // Nothing due: the clock moves without a tick.
    await h.advanceTo(11 * 86_400_000);
    expect(ticks).toHaveLength(2);
  });

  it('ticks every boundary while some ticking service does not declare nextTick, or skipping is off', async () => {
    const ticks: number[] = [];
    const plain = service('plain', ['in'], [], {
      tick: (_s, ctx) => {
        if (ctx.partition === 0) ticks.push(ctx.now);
        return [];
      },
    });
    const declared = service('declared', ['in'], [], { tick: () => [], nextTick: () => Infinity });
    const h = host([declared, plain]);
    await h.push(rec('in', 'k', {}, 0));
    await h.push(rec('in', 'k', {}, 30_000));
    expect(ticks).toEqual([10_000, 20_000, 30_000]);
    const off = new ReplayHost({
      services: [service('d', ['in'], [], { tick: () => [], nextTick: () => Infinity })],
      topics,
      metrics: noopMetrics,
      sink: () => undefined,
      skipIdleTicks: false,
    });
    await off.push(rec('in', 'k', {}, 0));
    await off.push(rec('in', 'k', {}, 30_000));
    expect(off.stats.ticks).toBe(9);
  });

  it('feeds outputs on input topics back in the same push, with the input trace context', async () => {
    const log: Seen[] = [];
    const sink: OutputRecord[] = [];
    const table = new Table();
    const a = service('a', ['in'], log);
    const b = service('b', ['mid'], log, { tables: [{ topic: 'tbl', table }] });
    const h = host([a, b], sink);
    const emit = [
      {
        topic: 'mid',
        key: 'm1',
        value: JSON.stringify({ emit: [{ topic: 'out', key: 'o', value: 'done' }] }),
      },
      { topic: 'tbl', key: 'doc', value: '{"deleted":false}' },
    ];
    await h.push(rec('in', 'k', { emit }, 1_000, { traceparent: TP }), 7);
    expect(log.map((s) => [s.service, s.topic, s.traceparent])).toEqual([
      ['a', 'in', TP],
      ['b', 'mid', TP],
    ]);
    expect(table.applied).toEqual([['doc', '{"deleted":false}']]);
    expect(sink.map((o) => [o.topic, o.headers?.['traceparent']])).toEqual([
      ['mid', TP],
      ['tbl', TP],
      ['out', TP],
    ]);
  });

  it('turns a decode error into a dead letter and an envelope.invalid finding, and goes on', async () => {
    const log: Seen[] = [];
    const sink: OutputRecord[] = [];
    const h = host([service('a', ['in'], log)], sink);
    await h.push(rec('in', 'sys/doc', 'bad', 2_000));
    await h.push(rec('in', 'sys/doc', {}, 3_000));
    expect(h.stats.deadLetters).toBe(1);
    expect(sink.map((o) => o.topic)).toEqual([topics.dlq, topics.findings]);
    const [dlq, finding] = sink as [OutputRecord, OutputRecord];
    expect(dlq.value?.toString()).toBe('bad');
    expect(dlq.headers?.[DLQ_HEADERS.errorClass]).toBe('EnvelopeError');
    expect(dlq.headers?.[DLQ_HEADERS.errorMessage]).toBe('bad is not an event');
    expect(dlq.headers?.[DLQ_HEADERS.service]).toBe('a');
    const data = JSON.parse(String(finding.value)).data;
    expect([data.check, data.subject, data.observedAt]).toEqual([
      'envelope.invalid',
      { system: 'sys', feature: 'a:in' },
      '1970-01-01T00:00:02.000Z',
    ]);
    expect(log).toHaveLength(1);
  });

  it('lets ticks trail the clock by tickLagMs', async () => {
    const ticks: number[] = [];
    const log: Seen[] = [];
    const h = new ReplayHost({
      services: [
        service('a', ['in'], log, {
          tick: (_s, ctx) => {
            if (ctx.partition === 0) ticks.push(ctx.now);
            return [];
          },
        }),
      ],
      topics,
      tickLagMs: 15_000,
      metrics: noopMetrics,
      sink: () => undefined,
    });
    await h.push(rec('in', 'k', {}, 20_000));
    await h.push(rec('in', 'k', {}, 46_000));
    expect(ticks).toEqual([10_000, 20_000, 30_000]);
    expect(log.map((s) => s.now)).toEqual([20_000, 46_000]);
    expect(
      () =>
        new ReplayHost({
          services: [],
          topics,
          tickLagMs: -1,
          metrics: noopMetrics,
          sink: () => undefined,
        }),
    ).toThrow(new RangeError('tickLagMs must be a non-negative number, got -1'));
  });

  it('counts a throwing tick and keeps ticking the other partitions', async () => {
    const seen: number[] = [];
    const h = host([
      service('a', ['in'], [], {
        tick: (_s, ctx) => {
          seen.push(ctx.partition);
          if (ctx.partition === 1) throw new Error('boom');
          return [];
        },
      }),
    ]);
    await h.push(rec('in', 'k', {}, 0));
    await h.push(rec('in', 'k', {}, 10_000));
    expect(seen).toEqual([0, 1, 2]);
    expect(h.stats).toMatchObject({ ticks: 3, tickErrors: 1 });
  });

  it('applies a service changelog to the tables that follow it at each commit', async () => {
    const table = new Table();
    const a = service('a', ['in'], [], { tables: [{ topic: stateTopic('a'), table }] });
    const h = new ReplayHost({
      services: [a],
      topics,
      commitEvery: 2,
      metrics: noopMetrics,
      sink: () => undefined,
    });
    await h.push(rec('in', 'x', { count: true }, 0));
    expect(table.applied).toEqual([]);
    await h.push(rec('in', 'x', { count: true }, 0));
    expect(table.applied).toEqual([['x', '2']]);
  });

  it('asks nextTick again after a commit only of the drained states and the readers of the tables that changed', async () => {
    const asked: Record<string, number> = { a: 0, reader: 0, other: 0 };
    const counted = (name: string, inputs: string[], extra: Partial<ReplayService> = {}) =>
      service(name, inputs, [], {
        tick: () => [],
        nextTick: () => {
          asked[name]!++;
          return Infinity;
        },
        ...extra,
      });
    const h = new ReplayHost({
      services: [
        // a's changelog feeds a table that `reader` reads; `other` neither changes nor reads anything a does.
        counted('a', ['in'], { tables: [{ topic: stateTopic('a'), table: new Table() }] }),
        counted('reader', ['elsewhere'], {
          tables: [{ topic: stateTopic('a'), table: new Table() }],
        }),
        counted('other', ['elsewhere']),
      ],
      topics,
      commitEvery: 1,
      metrics: noopMetrics,
      sink: () => undefined,
    });
    for (let i = 1; i <= 4; i++) await h.push(rec('in', `k${i}`, { count: true }, i * 60_000));
    // The first record only sets the clock. At each later one every slot without an answer is asked: all of them
    // the first time, then a's three partitions (the record and the drain reached them) and, as a's changes reached
    // the table, the reader's three. `other` keeps its first answer (asked after every drain, it would be 9).
    expect(asked).toEqual({ a: 3 * 3, reader: 3 * 3, other: 3 });
  });

  it('says which topics it reads and rejects bad settings', () => {
    const t = new Table();
    const h = host([service('a', ['in'], [], { tables: [{ topic: 'tbl', table: t }] })]);
    expect([h.consumes('in'), h.consumes('tbl'), h.consumes('other')]).toEqual([true, true, false]);
    expect(() => host([service('a', ['in'], []), service('a', ['x'], [])])).toThrow(
      new RangeError('two services are named a'),
    );
    expect(() => host([], [], 0)).toThrow(
      new RangeError('tickMs must be a positive integer, got 0'),
    );
  });
});
