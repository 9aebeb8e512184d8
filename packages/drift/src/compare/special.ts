// Special functions behind the p-values. simple-statistics has gammaln (Lanczos, g = 607/128) but neither the
// incomplete gamma function nor any Kolmogorov–Smirnov distribution, so those are written here from the
// published algorithms named at each function.
import { gammaln } from 'simple-statistics';

const MAX_ITERATIONS = 10_000;
const TINY = 1e-300;
const EPS = 2.220446049250313e-16;

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): the chi-square survival function is Q(df/2, x/2).
 * Series for P when x < a + 1, Lentz's continued fraction for Q otherwise (Numerical Recipes 3rd ed., §6.2).
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const logPrefix = a * Math.log(x) - x - gammaln(a);
  if (x < a + 1) {
    // P(a, x) = e^{-x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return clamp01(1 - sum * Math.exp(logPrefix));
  }
  // Q(a, x) = e^{-x} x^a / Γ(a) · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- …))), modified Lentz.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return clamp01(Math.exp(logPrefix) * h);
}

/** Survival function of the chi-square distribution with `df` degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** Natural log of the binomial coefficient C(n, k). */
export function logBinomial(n: number, k: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (k === 0 || k === n) return 0;
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/**
 * One-sided Kolmogorov–Smirnov survival function P(D⁺ₙ ≥ d), by the Birnbaum–Tingey (Smirnov 1944) sum
 *   Σ_{v=0}^{⌊n(1−d)⌋} C(n,v) · d · (d + v/n)^{v−1} · (1 − d − v/n)^{n−v}
 * whose terms are all positive, evaluated in log space with a running maximum so nothing overflows
 * (Birnbaum & Tingey, Ann. Math. Statist. 1951; van Mulbregt, arXiv:1802.06966).
 */
export function smirnovSf(n: number, d: number): number {
  if (!(d > 0)) return 1;
  if (d >= 1) return 0;
  if (n === 1) return 1 - d;
  const last = Math.floor(n * (1 - d) + 1e-12 * n);
  const logD = Math.log(d);
  let maxLog = Number.NEGATIVE_INFINITY;
  let scaled = 0;
  let logC = 0; // log C(n, v), updated incrementally
  for (let v = 0; v <= last; v++) {
    if (v > 0) logC += Math.log((n - v + 1) / v);
    const p = (n * d + v) / n;
    const q = (n * (1 - d) - v) / n;
    if (q <= 0 && n - v > 0) continue;
    const logTerm = logC + logD + (v - 1) * Math.log(p) + (n - v === 0 ? 0 : (n - v) * Math.log(q));
    if (logTerm > maxLog) {
      scaled = scaled * Math.exp(maxLog - logTerm) + 1;
      maxLog = logTerm;
    } else {
      scaled += Math.exp(logTerm - maxLog);
      // The terms are unimodal in v: past the peak, once they are e^-60 of it, the rest cannot matter.
      if (logTerm < maxLog - 60) break;
    }
  }
  if (maxLog === Number.NEGATIVE_INFINITY) return 0;
  return clamp01(Math.exp(maxLog + Math.log(scaled)));
}

const TWO_POW_128 = 2 ** 128;
const TWO_POW_M128 = 2 ** -128;

/**
 * CDF of the two-sided one-sample statistic, P(Dₙ < d), by the Durbin matrix as computed by
 * Marsaglia, Tsang & Wang, "Evaluating Kolmogorov's distribution", J. Stat. Softw. 8(18), 2003:
 * P = n!/nⁿ · (Hⁿ)[k−1][k−1] with k = ⌈nd⌉, h = k − nd, H of order 2k−1; the power is scaled by 2^128
 * steps with the exponent kept aside.
 */
export function kolmogorovDurbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const H = new Float64Array(m * m);
  // Reciprocal factorials 1/j! for j = 0..m.
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let j = 1; j <= m; j++) invFact[j] = invFact[j - 1]! / j;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const e = i - j + 1;
      if (e >= 0) H[i * m + j] = invFact[e]!;
    }
  }
  for (let i = 0; i < m; i++) {
    const v = (1 - h ** (i + 1)) * invFact[i + 1]!;
    H[i * m] = v; // first column
    H[(m - 1) * m + (m - 1 - i)] = v; // last row, mirrored
  }
  H[(m - 1) * m] = (1 - 2 * h ** m + Math.max(0, 2 * h - 1) ** m) * invFact[m]!;

  let power: Float64Array<ArrayBufferLike> | null = null; // accumulated H^(bits so far)
  let powerExp = 0;
  let base: Float64Array<ArrayBufferLike> = H;
  let baseExp = 0;
  let rest = n;
  while (rest > 0) {
    if (rest % 2 === 1) {
      power = power === null ? base.slice() : matMul(power, base, m);
      powerExp += baseExp;
    }
    rest = Math.floor(rest / 2);
    if (rest > 0) {
      base = matMul(base, base, m);
      baseExp *= 2;
      if (Math.abs(base[(k - 1) * m + (k - 1)]!) > TWO_POW_128) {
        for (let i = 0; i < base.length; i++) base[i] = base[i]! * TWO_POW_M128;
        baseExp += 128;
      }
    }
  }
  let p = power![(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < TWO_POW_M128) {
      p *= TWO_POW_128;
      powerExp -= 128;
    }
  }
  return clamp01(p * 2 ** powerExp);
}

function matMul(
  a: Float64Array<ArrayBufferLike>,
  b: Float64Array<ArrayBufferLike>,
  m: number,
): Float64Array<ArrayBufferLike> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l]!;
      if (ail === 0) continue;
      const rowB = l * m;
      const rowOut = i * m;
      for (let j = 0; j < m; j++) out[rowOut + j] = out[rowOut + j]! + ail * b[rowB + j]!;
    }
  }
  return out;
}

const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);

/**
 * Pelz–Good asymptotic series for P(Dₙ ≤ x) (Pelz & Good, J. R. Statist. Soc. B 38, 1976), in the form given by
 * Simard & L'Ecuyer, "Computing the two-sided Kolmogorov–Smirnov distribution", J. Stat. Softw. 39(11), 2011:
 * K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2} with z = x√n, each Kᵢ written with Jacobi theta series.
 */
export function kolmogorovPelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  // Horner in q^(8k) over k = maxk..1 of the terms with m = 2k − 1.
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpow = q ** (8 * k);
    K[0] = K[0]! * qpow + 1;
    K[1] = K[1]! * qpow + (k1a + k1b * m2);
    K[2] = K[2]! * qpow + (k2a + k2b * m2 + k2c * m4);
    K[3] = K[3]! * qpow + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
  }
  const denominators = [z, 6 * z4, 72 * z6 * z, 6480 * z6 * z4];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / denominators[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let extra2 = 0;
  let extra3 = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    extra2 += k2 * qk;
    const kpi = Math.PI * k;
    extra3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2] = K[2]! + (extra2 * PI2 * SQRT2PI) / (-36 * z3);
  K[3] = K[3]! + (extra3 * PI2 * SQRT2PI) / (216 * z6);
  return K[0]! + K[1]! / Math.sqrt(n) + K[2]! / n + K[3]! / (n * Math.sqrt(n));
}

// Stirling series coefficients (B₂ₖ / (2k(2k−1)), highest order first), at double precision.
const STIRLING = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

// log(n! / n^n) by Stirling's series, for the Ruben–Gambino branch with large n.
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  const t = rn / n;
  for (const c of STIRLING) poly = poly * t + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/**
 * Survival function P(Dₙ ≥ x) of the two-sided one-sample Kolmogorov–Smirnov statistic, choosing the method by
 * (n, x) as Simard & L'Ecuyer (2011) recommend — the same regions scipy.stats.kstwo uses: Ruben–Gambino closed forms
 * at the ends, 2·Smirnov where the two one-sided tails do not overlap, the Durbin matrix for small n·x², Pelz–Good
 * otherwise. Where scipy uses Pomeranz's recursion (n ≤ 140, 0.754693 < n·x² ≤ 4) the Durbin matrix is used: both
 * are exact algorithms for that region.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clamp01(1 - cdf);
  }
  if (t >= n - 1) return clamp01(2 * (1 - x) ** n);
  if (x >= 0.5) return clamp01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clamp01(1 - kolmogorovDurbinCdf(n, x));
    return clamp01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clamp01(2 * smirnovSf(n, x));
  const cdf =
    n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogorovDurbinCdf(n, x) : kolmogorovPelzGoodCdf(n, x);
  return clamp01(1 - cdf);
}

/** Clamps to [0, 1]; NaN stays NaN. */
export function clamp01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}
