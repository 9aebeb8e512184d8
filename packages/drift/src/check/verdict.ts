// When a compared window counts as drifted: the change must be LARGE (an effect size above its threshold) AND
// SIGNIFICANT (a test's p-value below its threshold). Either alone misleads. An effect size measured on few values is
// mostly sampling noise — PSI of 60 values in 10 bins averages ≈ (bins − 1)(1/n + 1/m) ≈ 0.3 with no change at all,
// so "PSI > 0.25" alone fired in 8 of 44 quiet hourly windows. A test alone flags any real but trivial change once
// windows hold tens of thousands of values. Together, the per-window false-alarm rate is at most the p-value
// threshold at every sample size and bin count (the test bounds it), and what fires is a change worth a look.
//
// Numeric significance is one p-value from two tests on the same samples: KS (location and shape) and Mood's
// squared-rank test (spread, which KS barely sees), combined by Bonferroni, p = min(1, 2·min(p_KS, p_Mood)), so it
// still bounds the false-alarm rate by the configured `ksPValue`. Categorical significance is the chi-square test of
// homogeneity on the two count vectors. Measured rates: README "When a window drifts".
import type { NumericComparison } from '../stat/accumulation.js';
import type { CategoryComparison } from '../compare/categories.js';
import type { DriftThresholds } from './config.js';

/** Significance level used when a feature sets an effect-size threshold only. */
export const DEFAULT_SIGNIFICANCE = 0.001;

/** Why a compared window is (or is not) drifted. */
export interface DistributionVerdict {
  drifted: boolean;
  /** Effect size above its threshold (true when no effect threshold is configured). */
  large: boolean;
  /** p-value below its threshold. */
  significant: boolean;
  /** The p-value judged (numeric: the Bonferroni combination of KS and Mood). */
  pValue: number;
  /** The significance level it was judged against. */
  alpha: number;
  /** Human-readable reasons, e.g. `PSI 0.41 > 0.25` and `p 0.3 ≥ 0.001`. */
  parts: string[];
}

/**
 * Numeric verdict: PSI > `psi` (when set) AND min(1, 2·min(p_KS, p_Mood)) < `ksPValue` (default
 * DEFAULT_SIGNIFICANCE).
 */
export function judgeNumeric(r: NumericComparison, t: DriftThresholds): DistributionVerdict {
  const alpha = t.ksPValue ?? DEFAULT_SIGNIFICANCE;
  const pValue = Math.min(1, 2 * Math.min(r.ks.pValue, r.mood.pValue));
  const large = t.psi === undefined || r.psi.psi > t.psi;
  const significant = pValue < alpha;
  const parts: string[] = [];
  if (t.psi !== undefined) parts.push(`PSI ${fmt(r.psi.psi)} ${large ? '>' : '≤'} ${t.psi}`);
  parts.push(`KS/Mood p ${fmt(pValue)} ${significant ? '<' : '≥'} ${alpha}`);
  return { drifted: large && significant, large, significant, pValue, alpha, parts };
}

/**
 * Categorical verdict: JS distance > `jsDistance` (when set) AND the homogeneity p-value < `chiSquarePValue`
 * (default DEFAULT_SIGNIFICANCE).
 */
export function judgeCategorical(r: CategoryComparison, t: DriftThresholds): DistributionVerdict {
  const alpha = t.chiSquarePValue ?? DEFAULT_SIGNIFICANCE;
  const pValue = r.homogeneity.pValue;
  const large = t.jsDistance === undefined || r.jsDistance > t.jsDistance;
  const significant = pValue < alpha;
  const parts: string[] = [];
  if (t.jsDistance !== undefined)
    parts.push(`JS distance ${fmt(r.jsDistance)} ${large ? '>' : '≤'} ${t.jsDistance}`);
  parts.push(`chi-square p ${fmt(pValue)} ${significant ? '<' : '≥'} ${alpha}`);
  return { drifted: large && significant, large, significant, pValue, alpha, parts };
}

/**
 * First-order expectation of PSI between two samples of one distribution: (bins − 1)(1/n + 1/m). Evidence only — it
 * tells a reader how much of a PSI is noise (more at small n, since empty bins count as ε = 1e-4).
 */
export function psiNoiseFloor(bins: number, n: number, m: number): number {
  return (bins - 1) * (1 / n + 1 / m);
}

/** Formats a statistic for a summary: 3 significant digits, exponent form outside [0.001, 1e6). */
export function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 0.001 && a < 1e6 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
}
