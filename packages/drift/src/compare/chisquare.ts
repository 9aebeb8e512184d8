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
