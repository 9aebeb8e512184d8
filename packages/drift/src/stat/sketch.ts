// KLL streaming quantile sketch (Karnin, Lang & Liberty, "Optimal quantile approximation in streams", FOCS 2016),
// following Liberty's reference implementation (compactor capacities k·(2/3)^depth, compact a full level by
// sorting it and promoting every other item to the next level with double weight).
//
// Written by hand rather than taken from npm: @datadog/sketches-js (DDSketch) answers value quantiles but has no
// rank/CDF query, which PSI needs for bin shares, and its protobuf form needs protobufjs, which it does not declare
// as a dependency; `tdigest` (0.1.3, unmaintained) costs ~0.6–0.8 µs per value here and has no merge or
// serialisation API. The sketch is plain data (JSON-serialisable), deterministic (the compaction coin is a
// xorshift state kept in the sketch) and mergeable. Rank error is ~1.7/k of n in practice (k = 200: ~1 %).
import { DriftStateError } from '../errors.js';

/** A KLL sketch; plain data, so it serialises with JSON.stringify and restores with quantileSketchFromJSON. */
export interface QuantileSketch {
  /** Accuracy parameter: the top compactor holds ~k items. */
  k: number;
  /** Values recorded. */
  n: number;
  min: number | null;
  max: number | null;
  /** levels[h] holds items of weight 2^h; level 0 is unsorted. */
  levels: number[][];
  /** xorshift32 state of the compaction coin. */
  coin: number;
}

/** Default accuracy parameter of new sketches. */
export const DEFAULT_SKETCH_K = 200;

const C = 2 / 3;

/** Creates an empty sketch. */
export function createQuantileSketch({
  k = DEFAULT_SKETCH_K,
  seed = 0x9e3779b9,
}: { k?: number; seed?: number } = {}): QuantileSketch {
  if (!Number.isInteger(k) || k < 8 || k > 65_535)
    throw new RangeError(`sketch k must be an integer from 8 to 65535, got ${k}`);
  return { k, n: 0, min: null, max: null, levels: [[]], coin: seed >>> 0 || 1 };
}

function capacity(k: number, height: number, levelCount: number): number {
  return Math.ceil(k * C ** (levelCount - height - 1)) + 1;
}

function retained(s: QuantileSketch): number {
  let size = 0;
  for (const level of s.levels) size += level.length;
  return size;
}

// Level 0 holds raw values (weight 1, exact) and is compacted only once it has k of them: sorting k values at a
// time keeps the update cost to a push plus an amortised O(log k) — compacting it at its small KLL capacity would
// sort a handful of values every few updates. Memory stays O(k): at most k raw values plus ~3k in the compactors.
function levelLimit(s: QuantileSketch, h: number): number {
  return h === 0
    ? Math.max(s.k, capacity(s.k, 0, s.levels.length))
    : capacity(s.k, h, s.levels.length);
}

/** Records one finite value; mutates and returns the sketch (amortised O(log k); allocates only when compacting). */
export function recordValue(s: QuantileSketch, x: number): QuantileSketch {
  const level0 = s.levels[0]!;
  level0.push(x);
  s.n++;
  if (s.min === null || x < s.min) s.min = x;
  if (s.max === null || x > s.max) s.max = x;
  if (level0.length >= s.k) compress(s);
  return s;
}

function nextCoin(s: QuantileSketch): number {
  let x = s.coin;
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  s.coin = x;
  return x & 1;
}

// Compacts every level at or over its limit, bottom up: sort it and promote one item of each adjacent pair (chosen
// by the coin) to the next level with double weight; an odd item out stays.
function compress(s: QuantileSketch): void {
  for (let h = 0; h < s.levels.length; h++) {
    const level = s.levels[h]!;
    if (level.length < levelLimit(s, h)) continue;
    if (h + 1 >= s.levels.length) s.levels.push([]);
    const sorted = Float64Array.from(level).sort();
    const offset = nextCoin(s);
    const up = s.levels[h + 1]!;
    const pairs = sorted.length >>> 1;
    for (let i = 0; i < pairs; i++) up.push(sorted[2 * i + offset]!);
    s.levels[h] = sorted.length % 2 === 1 ? [sorted[sorted.length - 1]!] : [];
  }
}

/** Merges two sketches into a new one; the inputs are not changed. */
export function mergeQuantileSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  if (a.k !== b.k) throw new RangeError(`cannot merge sketches with k ${a.k} and ${b.k}`);
  const height = Math.max(a.levels.length, b.levels.length);
  const levels: number[][] = [];
  for (let h = 0; h < height; h++) levels.push([...(a.levels[h] ?? []), ...(b.levels[h] ?? [])]);
  const out: QuantileSketch = {
    k: a.k,
    n: a.n + b.n,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    levels,
    // XOR keeps merge commutative; the result only steers future coins.
    coin: (a.coin ^ b.coin) >>> 0 || 1,
  };
  compress(out);
  return out;
}

/** Items retained (memory is O(k), whatever n). */
export function sketchSize(s: QuantileSketch): number {
  return retained(s);
}

/** The retained items sorted ascending with their weights. */
export function sketchItems(s: QuantileSketch): { values: Float64Array; weights: Float64Array } {
  const size = retained(s);
  const idx: Array<[number, number]> = new Array(size);
  let p = 0;
  s.levels.forEach((level, h) => {
    const w = 2 ** h;
    for (const v of level) idx[p++] = [v, w];
  });
  idx.sort((x, y) => x[0] - y[0]);
  const values = new Float64Array(size);
  const weights = new Float64Array(size);
  idx.forEach(([v, w], i) => {
    values[i] = v;
    weights[i] = w;
  });
  return { values, weights };
}

/** Estimated share of recorded values ≤ x. */
export function sketchRank(s: QuantileSketch, x: number): number {
  if (s.n === 0) return Number.NaN;
  let below = 0;
  s.levels.forEach((level, h) => {
    let c = 0;
    for (const v of level) if (v <= x) c++;
    below += c * 2 ** h;
  });
  return below / s.n;
}

/**
 * Estimated q-quantiles, numpy 'linear' (type 7) over the weighted items: an item of weight w stands for w equal
 * values. With no compaction yet (n small) this is exactly numpy.quantile of the recorded values.
 */
export function sketchQuantiles(s: QuantileSketch, qs: readonly number[]): number[] {
  if (s.n === 0) return qs.map(() => Number.NaN);
  const { values, weights } = sketchItems(s);
  const cumulative = new Float64Array(values.length);
  let acc = 0;
  for (let i = 0; i < values.length; i++) cumulative[i] = acc += weights[i]!;
  const total = acc;
  // Value at expanded (0-based) position e: the first item whose cumulative weight exceeds e.
  const at = (e: number): number => {
    let lo = 0;
    let hi = values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > e) hi = mid;
      else lo = mid + 1;
    }
    return values[lo]!;
  };
  return qs.map((q) => {
    const virtual = total * q + (1 - q) - 1;
    const lo = Math.max(0, Math.min(total - 1, Math.floor(virtual)));
    const hi = Math.min(total - 1, lo + 1);
    const t = virtual - Math.floor(virtual);
    const a = at(lo);
    const b = at(hi);
    const diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  });
}

/** Restores a sketch from its JSON form, checking the shape (throws DriftStateError). */
export function quantileSketchFromJSON(value: unknown): QuantileSketch {
  const v = value as Partial<QuantileSketch> | null;
  const ok =
    v !== null &&
    typeof v === 'object' &&
    Number.isInteger(v.k) &&
    Number.isInteger(v.n) &&
    (v.min === null || typeof v.min === 'number') &&
    (v.max === null || typeof v.max === 'number') &&
    Array.isArray(v.levels) &&
    v.levels.every(
      (l) => Array.isArray(l) && l.every((x) => typeof x === 'number' && Number.isFinite(x)),
    ) &&
    Number.isInteger(v.coin);
  if (!ok) throw new DriftStateError('not a serialized quantile sketch', {});
  let weight = 0;
  v.levels!.forEach((l, h) => (weight += l.length * 2 ** h));
  if (weight !== v.n)
    throw new DriftStateError('quantile sketch weights do not add up to n', { n: v.n, weight });
  return {
    k: v.k!,
    n: v.n!,
    min: v.min ?? null,
    max: v.max ?? null,
    levels: v.levels!.map((l) => [...l]),
    coin: v.coin!,
  };
}
