// Agreement with scipy to 1e-6 on fixtures written by test/drift/make-fixtures.py (see that script for the cases).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareCategories } from './categories.js';
import { chiSquare, chiSquareHomogeneity } from './chisquare.js';
import { jensenShannonDistance } from './jensen-shannon.js';
import { ks2samp } from './ks.js';
import { moodTest } from './mood.js';
import { psi } from './psi.js';
import { chiSquareSf, kolmogorovSf, smirnovSf } from './special.js';

function fixture<T>(name: string): T[] {
  const text = readFileSync(new URL(`../testdata/${name}.json`, import.meta.url), 'utf8');
  return (JSON.parse(text) as { cases: T[] }).cases;
}

const TOL = 1e-6;

describe('ks2samp agrees with scipy.stats.ks_2samp', () => {
  interface Case {
    name: string;
    a: number[];
    b: number[];
    statistic: number;
    pvalue: number;
    location: number;
    sign: number;
    method: string;
    asymp: { statistic: number; pvalue: number };
  }
  it.each(fixture<Case>('ks2samp').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = ks2samp(c.a, c.b);
    expect(r.method).toBe(c.method);
    expect(Math.abs(r.statistic - c.statistic)).toBeLessThan(TOL);
    expect(Math.abs(r.pValue - c.pvalue)).toBeLessThan(TOL);
    expect(r.location).toBe(c.location);
    expect(r.sign).toBe(c.sign);
    const forced = ks2samp(c.a, c.b, { method: 'asymp' });
    expect(Math.abs(forced.statistic - c.asymp.statistic)).toBeLessThan(TOL);
    expect(Math.abs(forced.pValue - c.asymp.pvalue)).toBeLessThan(TOL);
  });
});

describe('kolmogorovSf agrees with scipy.stats.kstwo.sf', () => {
  const cases = fixture<{ n: number; x: number; sf: number }>('kstwo');
  it(`on ${cases.length} (n, x) points`, () => {
    const bad = cases
      .map((c) => ({ ...c, got: kolmogorovSf(c.n, c.x) }))
      .filter((c) => !(Math.abs(c.got - c.sf) < TOL));
    expect(bad).toEqual([]);
  });
});

describe('smirnovSf agrees with scipy.special.smirnov', () => {
  const cases = fixture<{ n: number; d: number; sf: number }>('smirnov');
  it(`on ${cases.length} (n, d) points, also relatively`, () => {
    const bad = cases
      .map((c) => ({ ...c, got: smirnovSf(c.n, c.d) }))
      .filter(
        (c) => !(Math.abs(c.got - c.sf) < TOL && Math.abs(c.got - c.sf) <= 1e-9 * c.sf + 1e-300),
      );
    expect(bad).toEqual([]);
  });
});

describe('chiSquareSf agrees with scipy.stats.chi2.sf', () => {
  const cases = fixture<{ x: number; df: number; sf: number }>('chi2');
  it(`on ${cases.length} (x, df) points`, () => {
    const bad = cases
      .map((c) => ({ ...c, got: chiSquareSf(c.x, c.df) }))
      .filter((c) => !(Math.abs(c.got - c.sf) < TOL));
    expect(bad).toEqual([]);
  });
});

describe('chiSquare agrees with scipy.stats.chisquare', () => {
  const cases = fixture<{
    observed: number[];
    expected: number[];
    statistic: number;
    pvalue: number;
  }>('chisquare');
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const r = chiSquare(c.observed, c.expected);
    expect(Math.abs(r.statistic - c.statistic)).toBeLessThan(TOL);
    expect(Math.abs(r.pValue - c.pvalue)).toBeLessThan(TOL);
  });
});

describe('chiSquareHomogeneity agrees with scipy.stats.chi2_contingency (no continuity correction)', () => {
  const cases = fixture<{
    a: number[];
    b: number[];
    statistic: number;
    pvalue: number;
    df: number;
  }>('homogeneity');
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const r = chiSquareHomogeneity(c.a, c.b);
    expect(r.df).toBe(c.df);
    expect(Math.abs(r.statistic - c.statistic)).toBeLessThan(TOL);
    expect(Math.abs(r.pValue - c.pvalue)).toBeLessThan(TOL);
  });
});

describe('moodTest agrees with scipy.stats.mood', () => {
  interface Case {
    name: string;
    a: number[];
    b: number[];
    statistic: number;
    pvalue: number;
  }
  it.each(fixture<Case>('mood').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = moodTest(c.a, c.b);
    expect(Math.abs(r.statistic - c.statistic)).toBeLessThan(TOL);
    // The p-value also relatively: the check compares it with thresholds like 0.001 / 2.
    expect(Math.abs(r.pValue - c.pvalue)).toBeLessThanOrEqual(Math.max(1e-6 * c.pvalue, 1e-300));
  });
});

describe('jensenShannonDistance agrees with scipy.spatial.distance.jensenshannon', () => {
  const cases = fixture<{ p: number[]; q: number[]; base: number; distance: number }>(
    'jensenshannon',
  );
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    expect(Math.abs(jensenShannonDistance(c.p, c.q, c.base) - c.distance)).toBeLessThan(TOL);
  });
});

describe('psi agrees with the numpy reference PSI', () => {
  interface Case {
    name: string;
    bins: number;
    baseline: number[];
    current: number[];
    psi: number;
    edges: number[];
    baselineShares: number[];
    currentShares: number[];
  }
  it.each(fixture<Case>('psi').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = psi(c.baseline, c.current, { bins: c.bins });
    expect(Math.abs(r.psi - c.psi)).toBeLessThan(TOL);
    // Edges agree to rounding (numpy interpolates in a slightly different order); shares exactly.
    expect(r.edges.length).toBe(c.edges.length);
    r.edges.forEach((e, i) => expect(Math.abs(e - c.edges[i]!)).toBeLessThan(1e-9));
    expect(r.bins.map((b) => b.baseline)).toEqual(c.baselineShares);
    expect(r.bins.map((b) => b.window)).toEqual(c.currentShares);
  });
});

describe('compareCategories agrees with the scipy reference in make-fixtures.py', () => {
  interface Case {
    name: string;
    topK: number;
    baseline: Record<string, number>;
    window: Record<string, number>;
    categories: string[];
    statistic: number;
    pvalue: number;
    df: number;
    js: number;
    homogeneity: { statistic: number; pvalue: number; df: number };
  }
  it.each(fixture<Case>('categories').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = compareCategories(c.baseline, c.window, { topK: c.topK });
    expect(r).not.toBeNull();
    expect(r!.categories).toEqual(c.categories);
    expect(r!.chiSquare.df).toBe(c.df);
    expect(Math.abs(r!.chiSquare.statistic - c.statistic)).toBeLessThan(TOL);
    expect(Math.abs(r!.chiSquare.pValue - c.pvalue)).toBeLessThan(TOL);
    expect(Math.abs(r!.jsDistance - c.js)).toBeLessThan(TOL);
    expect(r!.homogeneity.df).toBe(c.homogeneity.df);
    expect(Math.abs(r!.homogeneity.statistic - c.homogeneity.statistic)).toBeLessThan(TOL);
    expect(Math.abs(r!.homogeneity.pValue - c.homogeneity.pvalue)).toBeLessThan(TOL);
  });
});
