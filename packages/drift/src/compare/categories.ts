// Categorical comparison of a window against its baseline over the top-K categories and one "other" bucket: the
// chi-square test of homogeneity (is the change significant? what the check decides on), Jensen–Shannon distance
// (is it large?), and the chi-square goodness of fit against the baseline's smoothed shares (evidence only).
//
// Category set: every category of either side, ranked by its larger share (baseline or window), ties by name; the
// first topK stay, the rest fold into OTHER_CATEGORY. Ranking by the larger share keeps a category that is new in the
// window (e.g. `language` flipping to `und`) visible on its own instead of hiding it in "other".
// Unseen categories: expected counts come from the baseline shares with additive smoothing
//   Eᵢ = n_window · (bᵢ + α) / (n_baseline + α·K), α = 0.5 (Jeffreys / Krichevsky–Trofimov),
// so a category the baseline never had gets a small, non-zero expectation and a large (finite) term instead of a
// division by zero. JS distance needs no smoothing (0·log 0 = 0) and uses the raw shares, base 2 (range [0, 1]).
import { chiSquare, chiSquareHomogeneity, type ChiSquareResult } from './chisquare.js';
import { jensenShannonDistance } from './jensen-shannon.js';

/** Key under which categories beyond the tracked ones are counted. */
export const OTHER_CATEGORY = '__other__';

/** Additive smoothing of baseline counts for the chi-square expectation. */
export const CATEGORY_SMOOTHING = 0.5;

/** One category's movement between baseline and window. */
export interface CategoryShift {
  category: string;
  baseline: number;
  window: number;
  /** Window share minus baseline share. */
  delta: number;
}

/** Result of comparing two categorical count tables. */
export interface CategoryComparison {
  categories: string[];
  /** Goodness of fit of the window against the baseline's smoothed shares (scipy.stats.chisquare); evidence only. */
  chiSquare: ChiSquareResult;
  /** Test of homogeneity of the two count vectors (scipy.stats.chi2_contingency, no continuity correction). */
  homogeneity: ChiSquareResult;
  jsDistance: number;
  /** Categories ordered by |delta|, largest first. */
  shifts: CategoryShift[];
  baselineCount: number;
  windowCount: number;
}

/** Options of compareCategories. */
export interface CompareCategoriesOptions {
  /** Categories kept apart; the rest fold into "other". @default 20 */
  topK?: number;
  /** Additive smoothing α of the baseline counts. @default 0.5 */
  smoothing?: number;
}

/** Compares window category counts with baseline counts; null when fewer than two categories remain. */
export function compareCategories(
  baseline: Readonly<Record<string, number>>,
  window: Readonly<Record<string, number>>,
  { topK = 20, smoothing = CATEGORY_SMOOTHING }: CompareCategoriesOptions = {},
): CategoryComparison | null {
  const nb = total(baseline);
  const nw = total(window);
  if (!(nb > 0) || !(nw > 0)) return null;
  const names = new Set<string>();
  for (const c of Object.keys(baseline)) if (c !== OTHER_CATEGORY) names.add(c);
  for (const c of Object.keys(window)) if (c !== OTHER_CATEGORY) names.add(c);
  const score = (c: string): number => Math.max((baseline[c] ?? 0) / nb, (window[c] ?? 0) / nw);
  const ranked = [...names].sort((x, y) => score(y) - score(x) || (x < y ? -1 : x > y ? 1 : 0));
  const kept = ranked.slice(0, topK);
  let otherB = baseline[OTHER_CATEGORY] ?? 0;
  let otherW = window[OTHER_CATEGORY] ?? 0;
  for (const c of ranked.slice(topK)) {
    otherB += baseline[c] ?? 0;
    otherW += window[c] ?? 0;
  }
  const categories = otherB + otherW > 0 ? [...kept, OTHER_CATEGORY] : kept;
  if (categories.length < 2) return null;
  const b = categories.map((c) => (c === OTHER_CATEGORY ? otherB : (baseline[c] ?? 0)));
  const w = categories.map((c) => (c === OTHER_CATEGORY ? otherW : (window[c] ?? 0)));
  const k = categories.length;
  const expected = b.map((bi) => (nw * (bi + smoothing)) / (nb + smoothing * k));
  const chi = chiSquare(w, expected);
  const shifts = categories
    .map((category, i) => ({
      category,
      baseline: b[i]! / nb,
      window: w[i]! / nw,
      delta: w[i]! / nw - b[i]! / nb,
    }))
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
  return {
    categories,
    chiSquare: chi,
    homogeneity: chiSquareHomogeneity(b, w),
    jsDistance: jensenShannonDistance(b, w, 2),
    shifts,
    baselineCount: nb,
    windowCount: nw,
  };
}

function total(counts: Readonly<Record<string, number>>): number {
  let t = 0;
  for (const v of Object.values(counts)) t += v;
  return t;
}
