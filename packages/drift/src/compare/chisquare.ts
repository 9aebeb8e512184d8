// Pearson's chi-square goodness-of-fit test. simple-statistics' chiSquaredGoodnessOfFit only compares against a
// critical-value table at fixed significance levels and gives no p-value, so the statistic and its p-value are
// computed here: X² = Σ (Oᵢ − Eᵢ)² / Eᵢ, p = Q((k − 1 − ddof)/2, X²/2) — what scipy.stats.chisquare returns.
import { sum } from 'simple-statistics';
import { DriftInputError } from '../errors.js';
import { chiSquareSf } from './special.js';

/** Result of a chi-square goodness-of-fit test. */
export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  /** Degrees of freedom: categories − 1 − ddof. */
  df: number;
}

/** Chi-square test of observed counts against expected counts of the same total (scipy.stats.chisquare). */
export function chiSquare(
  observed: readonly number[],
  expected: readonly number[],
  { ddof = 0 }: { ddof?: number } = {},
): ChiSquareResult {
  if (observed.length !== expected.length || observed.length < 2) {
    throw new DriftInputError(
      'chiSquare needs observed and expected of the same length, at least 2',
      {
        observed: observed.length,
        expected: expected.length,
      },
    );
  }
  const totalObserved = sum(observed as number[]);
  const totalExpected = sum(expected as number[]);
  // scipy rejects totals that differ by more than a relative 1e-8; so do we, to keep the statistic meaningful.
  if (Math.abs(totalObserved - totalExpected) > 1e-8 * Math.max(totalObserved, totalExpected)) {
    throw new DriftInputError('chiSquare: observed and expected totals differ', {
      totalObserved,
      totalExpected,
    });
  }
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    if (!(e > 0))
      throw new DriftInputError('chiSquare: every expected count must be > 0', {
        index: i,
        expected: e,
      });
    const diff = observed[i]! - e;
    statistic += (diff * diff) / e;
  }
  const df = observed.length - 1 - ddof;
  return { statistic, pValue: chiSquareSf(statistic, df), df };
}

/**
 * Pearson's chi-square test of homogeneity of two count vectors over the same categories (a 2 × K contingency
 * table): do both come from one distribution? Expected counts are row total × column total / N, estimated from both
 * sides together, so neither side's sampling noise is mistaken for the truth — unlike a goodness-of-fit test against
 * the baseline's shares, which with sparse categories (n = 50 over 20 categories) fires several times its nominal
 * rate. Categories empty on both sides are dropped; df = (categories used − 1). What
 * scipy.stats.chi2_contingency([a, b], correction=False) returns.
 */
export function chiSquareHomogeneity(a: readonly number[], b: readonly number[]): ChiSquareResult {
  if (a.length !== b.length || a.length < 2) {
    throw new DriftInputError(
      'chiSquareHomogeneity needs two count vectors of the same length, at least 2',
      {
        a: a.length,
        b: b.length,
      },
    );
  }
  const na = sum(a as number[]);
  const nb = sum(b as number[]);
  if (!(na > 0) || !(nb > 0) || [...a, ...b].some((c) => !(c >= 0))) {
    throw new DriftInputError('chiSquareHomogeneity needs non-negative counts, some on each side', {
      na,
      nb,
    });
  }
  const n = na + nb;
  let statistic = 0;
  let used = 0;
  for (let i = 0; i < a.length; i++) {
    const column = a[i]! + b[i]!;
    if (column === 0) continue;
    used++;
    const ea = (column * na) / n;
    const eb = (column * nb) / n;
    statistic += (a[i]! - ea) ** 2 / ea + (b[i]! - eb) ** 2 / eb;
  }
  const df = used - 1;
  return { statistic, pValue: df < 1 ? 1 : chiSquareSf(statistic, df), df };
}
