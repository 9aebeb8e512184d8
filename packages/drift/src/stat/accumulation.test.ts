import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriftStateError } from '../errors.js';
import { psi } from '../compare/psi.js';
import { ks2samp } from '../compare/ks.js';
import {
  accumulationFromJSON,
  accumulationToJSON,
  compareNumeric,
  createAccumulation,
  mergeAccumulations,
  recordCategorical,
  recordNumeric,
  type CategoricalAccumulation,
  type NumericAccumulation,
} from './accumulation.js';
import {
  categoryCountsToJSON,
  createCategoryCounts,
  mergeCategoryCounts,
  recordCategory,
} from './categories.js';
import { createRng, hashUnit, normal } from './random.js';
import {
  createPrioritySample,
  mergePrioritySamples,
  recordSample,
  sampleValues,
} from './sample.js';
import {
  createQuantileSketch,
  mergeQuantileSketches,
  quantileSketchFromJSON,
  recordValue,
  sketchQuantiles,
  sketchRank,
  sketchSize,
} from './sketch.js';

function expectError(
  fn: () => unknown,
  cls: new (...args: never[]) => Error,
  message: string,
): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as Error).message).toBe(message);
}

const value = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });

describe('bottom-k sample', () => {
  it('merge(a, b) equals recording everything into one, in any split and order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), {
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 50 }),
        fc.nat(),
        (items, capacity, cut) => {
          const whole = createPrioritySample(capacity);
          for (const [v, p] of items) recordSample(whole, v, p);
          const split = items.length === 0 ? 0 : cut % (items.length + 1);
          const a = createPrioritySample(capacity);
          const b = createPrioritySample(capacity);
          for (const [v, p] of items.slice(0, split)) recordSample(a, v, p);
          for (const [v, p] of items.slice(split).reverse()) recordSample(b, v, p);
          const merged = mergePrioritySamples(a, b);
          expect(sampleValues(merged)).toEqual(sampleValues(whole));
          expect(merged.seen).toBe(whole.seen);
          expect(sampleValues(mergePrioritySamples(b, a))).toEqual(sampleValues(whole));
        },
      ),
    );
  });
});

describe('category counts', () => {
  it('merge(a, b) equals recording everything into one while the categories fit the cap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('en', 'de', 'fr', 'und', 'ja', '__proto__'), { maxLength: 200 }),
        fc.nat(),
        (cats, cut) => {
          const whole = createCategoryCounts(8);
          cats.forEach((c) => recordCategory(whole, c));
          const split = cut % (cats.length + 1);
          const a = createCategoryCounts(8);
          const b = createCategoryCounts(8);
          cats.slice(0, split).forEach((c) => recordCategory(a, c));
          cats.slice(split).forEach((c) => recordCategory(b, c));
          expect(categoryCountsToJSON(mergeCategoryCounts(a, b))).toEqual(
            categoryCountsToJSON(whole),
          );
        },
      ),
    );
  });

  it('keeps totals and the cap when categories overflow it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 200 }),
        fc.nat(),
        (cats, cut) => {
          const split = cut % (cats.length + 1);
          const a = createCategoryCounts(4);
          const b = createCategoryCounts(4);
          cats.slice(0, split).forEach((c) => recordCategory(a, c));
          cats.slice(split).forEach((c) => recordCategory(b, c));
          const m = mergeCategoryCounts(a, b);
          expect(m.total).toBe(cats.length);
          expect(m.counts.size).toBeLessThanOrEqual(4);
          expect([...m.counts.values()].reduce((x, y) => x + y, 0) + m.other).toBe(cats.length);
        },
      ),
    );
  });

  it('stores a "__proto__" category as data, not as a prototype', () => {
    const c = recordCategory(createCategoryCounts(), '__proto__');
    expect(c.counts.get('__proto__')).toBe(1);
    expect(JSON.parse(JSON.stringify(categoryCountsToJSON(c))).counts).toEqual([['__proto__', 1]]);
  });
});

describe('KLL quantile sketch', () => {
  it('is exact (numpy linear quantiles, exact ranks) while nothing was compacted', () => {
    const rng = createRng(3);
    const xs = Array.from({ length: 150 }, () => normal(rng));
    const s = createQuantileSketch({ k: 200 });
    xs.forEach((x) => recordValue(s, x));
    const sorted = [...xs].sort((a, b) => a - b);
    const exact = psi(sorted, sorted, { bins: 10 }).edges;
    expect(
      sketchQuantiles(
        s,
        [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => i * (1 / 10)),
      ),
    ).toEqual(exact);
    expect(sketchRank(s, sorted[37]!)).toBe(38 / 150);
  });

  it('keeps memory bounded and ranks within 2 % on 200k values', () => {
    const rng = createRng(11);
    const s = createQuantileSketch({ k: 200 });
    const xs = new Float64Array(200_000);
    for (let i = 0; i < xs.length; i++) recordValue(s, (xs[i] = Math.exp(normal(rng, 5, 2))));
    xs.sort();
    expect(s.n).toBe(200_000);
    expect(sketchSize(s)).toBeLessThan(1000);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      expect(Math.abs(sketchRank(s, xs[Math.floor(q * xs.length)]!) - q)).toBeLessThan(0.02);
    }
    expect(s.min).toBe(xs[0]);
    expect(s.max).toBe(xs[xs.length - 1]);
  });

  it('merge(a, b) keeps n, min, max and rank accuracy of recording everything into one', () => {
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 3000 }),
        fc.nat(),
        fc.integer({ min: 8, max: 64 }),
        (xs, cut, k) => {
          const split = cut % (xs.length + 1);
          const a = createQuantileSketch({ k });
          const b = createQuantileSketch({ k });
          xs.slice(0, split).forEach((x) => recordValue(a, x));
          xs.slice(split).forEach((x) => recordValue(b, x));
          const m = mergeQuantileSketches(a, b);
          const whole = createQuantileSketch({ k });
          xs.forEach((x) => recordValue(whole, x));
          expect(m.n).toBe(whole.n);
          expect(m.min).toBe(whole.min);
          expect(m.max).toBe(whole.max);
          if (xs.length === 0) return;
          const sorted = [...xs].sort((p, q) => p - q);
          const median = sorted[Math.floor(sorted.length / 2)]!;
          const trueRank = sorted.filter((x) => x <= median).length / sorted.length;
          // k as small as 8 is coarse; the bound scales like 1/k.
          expect(Math.abs(sketchRank(m, median) - trueRank)).toBeLessThan(4 / k + 0.02);
          if (xs.length < k) {
            // Nothing compacted: merged and whole hold the same items.
            expect(sketchQuantiles(m, [0.25, 0.5, 0.75])).toEqual(
              sketchQuantiles(whole, [0.25, 0.5, 0.75]),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('round-trips through JSON and rejects a corrupt form', () => {
    const s = createQuantileSketch({ k: 16 });
    for (let i = 0; i < 500; i++) recordValue(s, i);
    const back = quantileSketchFromJSON(JSON.parse(JSON.stringify(s)));
    expect(back).toEqual(s);
    expectError(
      () => quantileSketchFromJSON({ ...s, n: s.n + 1 }),
      DriftStateError,
      'quantile sketch weights do not add up to n',
    );
    expect(() => quantileSketchFromJSON({ k: 'x' })).toThrow(DriftStateError);
  });
});

describe('numeric accumulation', () => {
  it('merge then compare equals comparing the accumulation recorded in one piece (KS exactly, PSI closely)', () => {
    const rng = createRng(5);
    const baseline = createAccumulation('numeric') as NumericAccumulation;
    const parts = [
      createAccumulation('numeric'),
      createAccumulation('numeric'),
      createAccumulation('numeric'),
    ] as NumericAccumulation[];
    const raw: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const v = normal(rng, 100, 15);
      raw.push(v);
      recordNumeric(parts[i % 3]!, v, hashUnit(`w-${i}`));
    }
    const base: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const v = normal(rng, 100, 15);
      base.push(v);
      recordNumeric(baseline, v, hashUnit(`b-${i}`));
    }
    const merged = mergeAccumulations(mergeAccumulations(parts[0]!, parts[1]!), parts[2]!);
    const whole = createAccumulation('numeric') as NumericAccumulation;
    raw.forEach((v, i) => recordNumeric(whole, v, hashUnit(`w-${i}`)));
    const a = compareNumeric(baseline, merged)!;
    const b = compareNumeric(baseline, whole)!;
    expect(a.ks).toEqual(b.ks);
    expect(Math.abs(a.psi.psi - b.psi.psi)).toBeLessThan(0.01);
    // And the sketch-based PSI tracks the exact PSI on the raw values.
    expect(Math.abs(a.psi.psi - psi(base, raw).psi)).toBeLessThan(0.02);
    // The KS sample is a uniform subsample: its statistic is close to the full-data one.
    expect(Math.abs(a.ks.statistic - ks2samp(base, raw).statistic)).toBeLessThan(0.05);
  });

  it('counts non-finite values as invalid without recording them', () => {
    const acc = createAccumulation('numeric') as NumericAccumulation;
    recordNumeric(acc, Number.NaN, 0.5);
    recordNumeric(acc, Number.POSITIVE_INFINITY, 0.5);
    recordNumeric(acc, 3, 0.5);
    expect([acc.count, acc.invalid, acc.sketch.n, acc.sample.seen]).toEqual([1, 2, 1, 1]);
  });

  it('round-trips every kind through JSON', () => {
    const n = createAccumulation('numeric') as NumericAccumulation;
    for (let i = 0; i < 2000; i++) recordNumeric(n, i % 97, hashUnit(String(i)));
    const c = createAccumulation('categorical') as CategoricalAccumulation;
    ['en', 'de', 'en'].forEach((x) => recordCategorical(c, x));
    for (const acc of [n, c, createAccumulation('volume')]) {
      const back = accumulationFromJSON(JSON.parse(JSON.stringify(accumulationToJSON(acc))));
      expect(accumulationToJSON(back)).toEqual(accumulationToJSON(acc));
    }
    expectError(
      () => accumulationFromJSON({ kind: 'histogram', count: 1 }),
      DriftStateError,
      'unknown accumulation kind "histogram"',
    );
  });
});
