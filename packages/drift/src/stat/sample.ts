// Bottom-k ("priority") sample: keep the `capacity` values with the smallest priorities, where each value's priority
// is a uniform number fixed by the value's origin (the hash of its event id). The kept set is a uniform random sample
// without replacement, and it is a function of the recorded (priority, value) multiset alone — so merging two samples
// gives exactly the sample of recording everything into one, in any order, on any partition (Cohen & Kaplan,
// "Summarizing data using bottom-k sketches", PODC 2007). The KS test runs on these samples.
import { DriftStateError } from '../errors.js';

/** A bottom-k sample; plain data (JSON-serialisable). `priorities`/`values` are parallel, in max-heap order. */
export interface PrioritySample {
  capacity: number;
  /** Values offered, kept or not. */
  seen: number;
  priorities: number[];
  values: number[];
}

/** Default number of values a sample keeps. */
export const DEFAULT_SAMPLE_SIZE = 1000;

/** Creates an empty sample. */
export function createPrioritySample(capacity: number = DEFAULT_SAMPLE_SIZE): PrioritySample {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) {
    throw new RangeError(`sample capacity must be an integer from 1 to 1000000, got ${capacity}`);
  }
  return { capacity, seen: 0, priorities: [], values: [] };
}

// Total order on (priority, value) so ties never depend on arrival order.
function greater(p1: number, v1: number, p2: number, v2: number): boolean {
  return p1 > p2 || (p1 === p2 && v1 > v2);
}

/** Offers a value with its priority in [0, 1); mutates and returns the sample. */
export function recordSample(s: PrioritySample, value: number, priority: number): PrioritySample {
  s.seen++;
  const p = s.priorities;
  const v = s.values;
  if (p.length < s.capacity) {
    // sift up
    let i = p.length;
    p.push(priority);
    v.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!greater(priority, value, p[parent]!, v[parent]!)) break;
      p[i] = p[parent]!;
      v[i] = v[parent]!;
      i = parent;
    }
    p[i] = priority;
    v[i] = value;
    return s;
  }
  if (!greater(p[0]!, v[0]!, priority, value)) return s;
  siftDown(p, v, 0, priority, value);
  return s;
}

function siftDown(p: number[], v: number[], start: number, priority: number, value: number): void {
  const n = p.length;
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && greater(p[r]!, v[r]!, p[l]!, v[l]!) ? r : l;
    if (!greater(p[c]!, v[c]!, priority, value)) break;
    p[i] = p[c]!;
    v[i] = v[c]!;
    i = c;
  }
  p[i] = priority;
  v[i] = value;
}

/** Merges two samples of the same capacity into a new one; the inputs are not changed. */
export function mergePrioritySamples(a: PrioritySample, b: PrioritySample): PrioritySample {
  if (a.capacity !== b.capacity)
    throw new RangeError(`cannot merge samples of capacity ${a.capacity} and ${b.capacity}`);
  const pairs: Array<[number, number]> = [];
  for (const s of [a, b])
    for (let i = 0; i < s.priorities.length; i++) pairs.push([s.priorities[i]!, s.values[i]!]);
  pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const kept = pairs.slice(0, a.capacity);
  // Descending order is a valid max-heap.
  kept.reverse();
  return {
    capacity: a.capacity,
    seen: a.seen + b.seen,
    priorities: kept.map((x) => x[0]),
    values: kept.map((x) => x[1]),
  };
}

/** The kept values, ordered by priority (a canonical order for comparisons and serialisation). */
export function sampleValues(s: PrioritySample): number[] {
  const order = s.priorities
    .map((_, i) => i)
    .sort((i, j) => s.priorities[i]! - s.priorities[j]! || s.values[i]! - s.values[j]!);
  return order.map((i) => s.values[i]!);
}

/** Canonical JSON form: pairs ordered by descending (priority, value), which is also a valid max-heap. */
export function prioritySampleToJSON(s: PrioritySample): PrioritySample {
  const pairs = s.priorities.map((p, i) => [p, s.values[i]!] as [number, number]);
  pairs.sort((x, y) => y[0] - x[0] || y[1] - x[1]);
  return {
    capacity: s.capacity,
    seen: s.seen,
    priorities: pairs.map((x) => x[0]),
    values: pairs.map((x) => x[1]),
  };
}

/** Restores a sample from its JSON form, checking the shape (throws DriftStateError). */
export function prioritySampleFromJSON(value: unknown): PrioritySample {
  const v = value as Partial<PrioritySample> | null;
  const numbers = (a: unknown): a is number[] =>
    Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (
    v === null ||
    typeof v !== 'object' ||
    !Number.isInteger(v.capacity) ||
    !Number.isInteger(v.seen) ||
    !numbers(v.priorities) ||
    !numbers(v.values) ||
    v.priorities.length !== v.values.length ||
    v.values.length > v.capacity!
  ) {
    throw new DriftStateError('not a serialized priority sample', {});
  }
  // Re-ordered rather than trusting the stored order to be a heap.
  return prioritySampleToJSON({
    capacity: v.capacity!,
    seen: v.seen!,
    priorities: v.priorities,
    values: v.values,
  });
}
