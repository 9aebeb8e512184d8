import { describe, expect, it } from 'vitest';
import { createRng, exponential, hash32, logNormal, mix32, normal, pickWeighted } from './prng.js';

// Reference sfc32 in BigInt arithmetic (PractRand's definition, mod 2^32), to check the 32-bit JS version.
function* sfc32Reference(a: bigint, b: bigint, c: bigint, d: bigint): Generator<bigint> {
  const M = 0xffffffffn;
  for (;;) {
    const t = (a + b + d) & M;
    d = (d + 1n) & M;
    a = b ^ (b >> 9n);
    b = (c + (c << 3n)) & M;
    c = ((c << 21n) | (c >> 11n)) & M;
    c = (c + t) & M;
    yield t;
  }
}

describe('createRng', () => {
  it('is sfc32 seeded by splitmix32 (checked against a BigInt reference)', () => {
    let s = hash32(42);
    const split = () => {
      s = (s + 0x9e3779b9) | 0;
      return BigInt(mix32(s));
    };
    const ref = sfc32Reference(split(), split(), split(), 1n);
    for (let i = 0; i < 12; i++) ref.next();
    const rng = createRng(42);
    for (let i = 0; i < 1000; i++) expect(rng.nextUint32()).toBe(Number(ref.next().value));
  });

  it('repeats for the same seed and differs for another', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed, 7);
      return Array.from({ length: 100 }, () => rng.next());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('spreads floats evenly over [0, 1) (chi-square over 20 buckets)', () => {
    const rng = createRng(3);
    const buckets = new Array<number>(20).fill(0);
    const n = 200_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      if (!(x >= 0 && x < 1)) outside++;
      else buckets[Math.floor(x * 20)]!++;
    }
    expect(outside).toBe(0);
    const expected = n / 20;
    const chi2 = buckets.reduce((acc, o) => acc + (o - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: P(chi2 > 43.8) = 0.001.
    expect(chi2).toBeLessThan(43.8);
  });
});

describe('mix32 and hash32', () => {
  it('mix32 has no collisions on 100k consecutive inputs (it is a bijection)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(mix32(i));
    expect(seen.size).toBe(100_000);
  });

  it('hash32 depends on order and on every value', () => {
    expect(hash32(1, 2)).not.toBe(hash32(2, 1));
    expect(hash32(1, 2, 3)).not.toBe(hash32(1, 2, 4));
    expect(hash32(1, 2, 3)).toBe(hash32(1, 2, 3));
  });
});

describe('distributions', () => {
  const n = 100_000;
  it.each([
    ['normal', (r: ReturnType<typeof createRng>) => normal(r), 0, 1],
    ['exponential(mean 5)', (r: ReturnType<typeof createRng>) => exponential(r, 5), 5, 25],
  ])('%s has the expected mean and variance', (_, sample, mean, variance) => {
    const rng = createRng(11);
    const xs = Array.from({ length: n }, () => sample(rng));
    const m = xs.reduce((a, b) => a + b, 0) / n;
    const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / n;
    expect(Math.abs(m - mean)).toBeLessThan(4 * Math.sqrt(variance / n));
    expect(Math.abs(v - variance) / variance).toBeLessThan(0.05);
  });

  it('logNormal has the given median', () => {
    const rng = createRng(12);
    const xs = Array.from({ length: n }, () => logNormal(rng, 1000, 0.6)).sort((a, b) => a - b);
    expect(Math.abs(xs[n / 2]! / 1000 - 1)).toBeLessThan(0.02);
  });

  it('pickWeighted picks in proportion to the weights', () => {
    const rng = createRng(13);
    const counts = { a: 0, b: 0, c: 0 };
    const choices = [
      ['a', 1],
      ['b', 3],
      ['c', 6],
    ] as const;
    for (let i = 0; i < n; i++) counts[pickWeighted(choices, rng.next())]++;
    expect(counts.a / n).toBeCloseTo(0.1, 2);
    expect(counts.b / n).toBeCloseTo(0.3, 2);
    expect(counts.c / n).toBeCloseTo(0.6, 2);
  });

  it('pickWeighted rejects an empty list', () => {
    expect(() => pickWeighted([], 0.5)).toThrow(new RangeError('pickWeighted: no choices'));
  });
});
