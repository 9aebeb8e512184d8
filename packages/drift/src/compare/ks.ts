// Two-sample Kolmogorov–Smirnov test. simple-statistics has no KS test, so it is written here to agree with
// scipy.stats.ks_2samp(a, b) (alternative='two-sided', method='auto'): the exact distribution when both samples
// have at most 10,000 values, the asymptotic one (kstwo.sf(D, round(n₁n₂/(n₁+n₂)))) otherwise or when the exact
// computation fails numerically.
import { DriftInputError } from '../errors.js';
import { kolmogorovSf } from './special.js';

/** Largest sample size for which method 'auto' computes the exact p-value (scipy's MAX_AUTO_N). */
export const KS_EXACT_MAX_N = 10_000;

/** How a KS p-value was computed. */
export type KsMethod = 'exact' | 'asymp';

/** Result of a two-sample Kolmogorov–Smirnov test. */
export interface KsResult {
  /** D = sup |F₁ − F₂| (in exact mode rounded to a multiple of 1/lcm(n₁, n₂), as scipy does). */
  statistic: number;
  pValue: number;
  method: KsMethod;
  /** Value at which the empirical CDFs differ most. */
  location: number;
  /** +1 when F₁ > F₂ there (the first sample lies to the left), −1 otherwise. */
  sign: 1 | -1;
  n1: number;
  n2: number;
}

/** Options of ks2samp. */
export interface KsOptions {
  /** 'auto' (exact up to 10,000 values per sample, else asymptotic), or force one method. @default 'auto' */
  method?: 'auto' | KsMethod;
  /** Set when both inputs are already sorted ascending, to skip the copy and sort. @default false */
  sorted?: boolean;
}

/** Two-sided two-sample KS test of `a` against `b`; agrees with scipy.stats.ks_2samp to ~1e-12. */
export function ks2samp(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { method = 'auto', sorted = false }: KsOptions = {},
): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) {
    throw new DriftInputError('ks2samp needs two non-empty samples', { n1, n2 });
  }
  const x = sorted ? a : Float64Array.from(a).sort();
  const y = sorted ? b : Float64Array.from(b).sort();
  const { maxS, maxLoc, minS, minLoc } = ecdfExtremes(x, y);
  let d: number;
  let location: number;
  let sign: 1 | -1;
  if (minS > maxS) {
    d = minS;
    location = minLoc;
    sign = -1;
  } else {
    d = maxS;
    location = maxLoc;
    sign = 1;
  }
  let mode: KsMethod =
    method === 'auto' ? (Math.max(n1, n2) <= KS_EXACT_MAX_N ? 'exact' : 'asymp') : method;
  const g = gcd(n1, n2);
  if (method === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymp';
  let p = Number.NaN;
  if (mode === 'exact') {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) {
      p = 1;
    } else {
      p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
      if (!(p >= 0 && p <= 1)) mode = 'asymp';
    }
  }
  if (mode === 'asymp') {
    const en = (n1 * n2) / (n1 + n2);
    p = kolmogorovSf(roundHalfEven(en), d);
  }
  return {
    statistic: d,
    pValue: Math.min(1, Math.max(0, p)),
    method: mode,
    location,
    sign,
    n1,
    n2,
  };
}

// Largest positive and negative gaps between the right-continuous ECDFs, evaluated at every observed value
// (searchsorted side='right' in scipy), walking both sorted samples once.
function ecdfExtremes(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { maxS: number; maxLoc: number; minS: number; minLoc: number } {
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let maxS = Number.NEGATIVE_INFINITY;
  let maxLoc = Number.NaN;
  let minDiff = Number.POSITIVE_INFINITY;
  let minLoc = Number.NaN;
  while (i < n1 || j < n2) {
    const xi = i < n1 ? x[i]! : Number.POSITIVE_INFINITY;
    const yj = j < n2 ? y[j]! : Number.POSITIVE_INFINITY;
    const v = xi <= yj ? xi : yj;
    while (i < n1 && x[i]! <= v) i++;
    while (j < n2 && y[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) {
      maxS = diff;
      maxLoc = v;
    }
    if (diff < minDiff) {
      minDiff = diff;
      minLoc = v;
    }
  }
  const minS = Math.min(1, Math.max(0, -minDiff));
  return { maxS, maxLoc, minS, minLoc };
}

// P(D_{n,n} ≥ h/n) = 2·Σ_{k≥1} (−1)^{k+1} C(2n, n−kh)/C(2n, n), evaluated Horner-style from the innermost
// term outward so no large binomial is ever formed (Gnedenko–Korolyuk; Hodges 1958 §3).
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    // ratio C(2n, n−(k+1)h) / C(2n, n−kh) as a product of h factors
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

// Share of the monotone lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm(m,n)
// (Hodges 1958, "inside method"), computed directly as 1 − p with Viehmann's recursion
// q(i,j) = (i·q(i−1,j) + j·q(i,j−1)) / (i+j), q = 1 outside the band (Viehmann, arXiv:2102.08037), so the
// numbers stay in [0,1] instead of growing like binomial coefficients. Only one column is kept.
function probOutsideBand(n1: number, n2: number, g: number, h: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  const col = new Float64Array(n + 1).fill(1);
  let lo = 0;
  let hi = Math.min(Math.ceil(h / mg), n + 1); // band of column 0 is [lo, hi)
  for (let j = lo; j < hi; j++) col[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastLo = lo;
    const lastHi = hi;
    lo = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    hi = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (hi <= lo) return 1;
    let below = lo === 0 ? 0 : 1;
    for (let j = lo; j < hi; j++) {
      const left = j >= lastLo && j < lastHi ? col[j]! : 1;
      below = (left * i + below * j) / (i + j);
      col[j] = below;
    }
  }
  return col[n]!;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Rounds half to even, like numpy.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
