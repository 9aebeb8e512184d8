import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

type Op = ['set', string, number] | ['delete', string] | ['pop'] | ['popDue', number];

/** Runs ops on a queue; returns every popped key, in order. */
function run(ops: readonly Op[]): string[] {
  const q = new DeadlineQueue<string>();
  const popped: string[] = [];
  for (const op of ops) {
    if (op[0] === 'set') q.set(op[1], op[2]);
    else if (op[0] === 'delete') q.delete(op[1]);
    else if (op[0] === 'pop') popped.push(q.pop()?.key ?? '-');
    else popped.push(...q.popDue(op[1]).map((e) => e.key));
  }
  return popped;
}

describe('DeadlineQueue', () => {
  it.each<[string, Op[], string[]]>([
    [
      'earliest first',
      [
        ['set', 'a', 30],
        ['set', 'b', 10],
        ['set', 'c', 20],
        ['popDue', 100],
      ],
      ['b', 'c', 'a'],
    ],
    [
      'equal times in scheduling order',
      [
        ['set', 'x', 5],
        ['set', 'a', 5],
        ['set', 'm', 5],
        ['popDue', 5],
      ],
      ['x', 'a', 'm'],
    ],
    ['only what is due', [['set', 'a', 10], ['set', 'b', 11], ['popDue', 10], ['pop']], ['a', 'b']],
    [
      'a reschedule replaces the entry',
      [
        ['set', 'a', 10],
        ['set', 'b', 20],
        ['set', 'a', 30],
        ['popDue', 100],
      ],
      ['b', 'a'],
    ],
    [
      'a reschedule to an equal time goes last',
      [
        ['set', 'a', 10],
        ['set', 'b', 20],
        ['set', 'a', 20],
        ['popDue', 100],
      ],
      ['b', 'a'],
    ],
    [
      'rescheduling at the same time keeps the place',
      [
        ['set', 'a', 20],
        ['set', 'b', 20],
        ['set', 'a', 20],
        ['popDue', 100],
      ],
      ['a', 'b'],
    ],
    [
      'a deleted key never pops',
      [
        ['set', 'a', 10],
        ['set', 'b', 20],
        ['delete', 'a'],
        ['popDue', 100],
      ],
      ['b'],
    ],
    ['pop on empty', [['pop']], ['-']],
  ])('%s', (_name, ops, popped) => {
    expect(run(ops)).toEqual(popped);
  });

  it('reports due times, size and the earliest entry', () => {
    const q = new DeadlineQueue<number>();
    expect(q.peekDue()).toBe(Infinity);
    expect(q.peek()).toBeUndefined();
    q.set(7, 70);
    q.set(3, 30);
    expect([q.size, q.peekDue(), q.peek(), q.dueOf(7), q.dueOf(9), q.has(3)]).toEqual([
      2,
      30,
      { key: 3, due: 30 },
      70,
      undefined,
      true,
    ]);
    expect(q.delete(9)).toBe(false);
    q.clear();
    expect([q.size, q.has(3)]).toEqual([0, false]);
  });

  it('pops at most limit entries per call', () => {
    const q = new DeadlineQueue<string>();
    for (const k of ['a', 'b', 'c']) q.set(k, 1);
    expect(q.popDue(1, 2).map((e) => e.key)).toEqual(['a', 'b']);
    expect(q.popDue(1, 2).map((e) => e.key)).toEqual(['c']);
  });

  it.each([Number.NaN, 'soon' as unknown as number])('rejects the due time %s', (due) => {
    expect(() => new DeadlineQueue<string>().set('a', due)).toThrow(RangeError);
    expect(() => new DeadlineQueue<string>().set('a', due)).toThrow(
      `deadline of a must be a number, got ${String(due)}`,
    );
  });

  it('matches a sorted list under any sequence of schedules, reschedules and removals', () => {
    const op = fc.oneof(
      fc.tuple(
        fc.constant('set' as const),
        fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
        fc.integer({ min: 0, max: 20 }),
      ),
      fc.tuple(fc.constant('delete' as const), fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f')),
      fc.tuple(fc.constant('popDue' as const), fc.integer({ min: 0, max: 20 })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        // Reference model: a list of (key, due, seq), sorted on every pop.
        let model: Array<{ key: string; due: number; seq: number }> = [];
        let seq = 0;
        const expected: string[] = [];
        for (const o of ops as Op[]) {
          if (o[0] === 'set') {
            const prior = model.find((e) => e.key === o[1]);
            if (prior?.due === o[2]) continue;
            model = model.filter((e) => e.key !== o[1]);
            model.push({ key: o[1], due: o[2], seq: seq++ });
          } else if (o[0] === 'delete') model = model.filter((e) => e.key !== o[1]);
          else if (o[0] === 'popDue') {
            const limit = o[1];
            const due = model
              .filter((e) => e.due <= limit)
              .sort((x, y) => x.due - y.due || x.seq - y.seq);
            expected.push(...due.map((e) => e.key));
            model = model.filter((e) => e.due > limit);
          }
        }
        expect(run(ops as Op[])).toEqual(expected);
      }),
    );
  });
});
