import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from './deadlines.js';

function drain(heap: DeadlineHeap): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  while (heap.size > 0) {
    out.push([heap.peekTime(), heap.peekRef()]);
    heap.pop();
  }
  return out;
}

const byTimeThenRef = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

describe('DeadlineHeap', () => {
  it('pops in (deadline, ref) order for any pushes, growing past its initial capacity', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 2 ** 30 })), {
          maxLength: 300,
        }),
        (entries) => {
          const heap = new DeadlineHeap(4);
          for (const [t, r] of entries) heap.push(t, r);
          expect(drain(heap)).toEqual([...entries].sort(byTimeThenRef));
        },
      ),
    );
  });

  it('keeps order after filter() and after append() + heapify()', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.nat(1000))),
        (entries) => {
          const heap = new DeadlineHeap(8);
          for (const [t, r] of entries) heap.append(t, r);
          heap.heapify();
          heap.filter((_t, r) => r % 3 !== 0);
          expect(drain(heap)).toEqual(entries.filter(([, r]) => r % 3 !== 0).sort(byTimeThenRef));
        },
      ),
    );
  });

  it('reports Infinity as the earliest deadline when empty', () => {
    const heap = new DeadlineHeap();
    expect(heap.peekTime()).toBe(Infinity);
    heap.push(5, 1);
    heap.pop();
    heap.pop();
    expect(heap.size).toBe(0);
    expect(heap.peekTime()).toBe(Infinity);
  });

  it('gives memory back after a large shrink', () => {
    const heap = new DeadlineHeap(16);
    for (let i = 0; i < 100_000; i++) heap.push(i, i);
    const before = heap.byteLength;
    heap.filter((t) => t < 10);
    expect(heap.byteLength).toBeLessThan(before / 100);
    expect(drain(heap).map(([t]) => t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
