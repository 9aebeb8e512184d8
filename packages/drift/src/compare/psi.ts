// Population Stability Index. simple-statistics has no PSI, so it is written here:
//   PSI = Σᵢ (cᵢ − bᵢ) · ln(cᵢ / bᵢ)
// over bins whose inner edges are the baseline's i/B quantiles (i = 1..B−1, numpy's default 'linear' quantile),
// duplicates removed (ties in the baseline would otherwise make empty zero-width bins). A value x falls in bin i
// when edge[i−1] < x ≤ edge[i] (right-closed, numpy.searchsorted side='left'), so a pile of equal values such as
// `sizeBytes = 0` lands in the lowest bin with its own kind.
// Empty bins: a proportion of exactly 0 is replaced by ε = 1e-4 (no renormalisation), as Evidently does
// (np.place(p, p == 0, 0.0001)); the reference in test/drift/make-fixtures.py does the same.
import { DriftInputError } from '../errors.js';

/** Proportion that stands in for an empty bin. */
export const PSI_EPSILON = 1e-4;

/** One PSI bin: (lower, upper], with the baseline and window shares and its term of the sum. */
export interface PsiBin {
  /** Exclusive lower edge; null for the first bin (−∞). */
  lower: number | null;
  /** Inclusive upper edge; null for the last bin (+∞). */
  upper: number | null;
  baseline: number;
  window: number;
  contribution: number;
}

/** Result of a PSI computation. */
export interface PsiResult {
  psi: number;
  /** Bins asked for. */
  requestedBins: number;
  /** Bins used: fewer than requested only when baseline ties make quantile edges coincide. */
  binCount: number;
  edges: number[];
  bins: PsiBin[];
}

/** Options of psi. */
export interface PsiOptions {
  /** Number of quantile bins. @default 10 */
  bins?: number;
  /** Stand-in proportion for an empty bin. @default 1e-4 */
  epsilon?: number;
  /** Set when `baseline` is already sorted ascending, to skip its copy and sort. @default false */
  sorted?: boolean;
}

/** PSI of `current` against `baseline`, with bins from the baseline's quantiles. */
export function psi(
  baseline: ArrayLike<number>,
  current: ArrayLike<number>,
  { bins = 10, epsilon = PSI_EPSILON, sorted = false }: PsiOptions = {},
): PsiResult {
  checkBins(bins);
  if (baseline.length === 0 || current.length === 0) {
    throw new DriftInputError('psi needs non-empty baseline and current samples', {
      baseline: baseline.length,
      current: current.length,
    });
  }
  const sortedBaseline = sorted ? Float64Array.from(baseline) : Float64Array.from(baseline).sort();
  const edges = uniqueSorted(quantileEdges(sortedBaseline, bins));
  const baselineCounts = countSorted(sortedBaseline, edges);
  const currentCounts = new Float64Array(edges.length + 1);
  for (let i = 0; i < current.length; i++) currentCounts[binOf(edges, current[i]!)]! += 1;
  return psiFromShares(
    bins,
    edges,
    Array.from(baselineCounts, (c) => c / baseline.length),
    Array.from(currentCounts, (c) => c / current.length),
    epsilon,
  );
}

/** PSI from bin shares already computed (e.g. from sketches); `edges` are the inner edges, shares one longer. */
export function psiFromShares(
  requestedBins: number,
  edges: readonly number[],
  baselineShares: readonly number[],
  currentShares: readonly number[],
  epsilon: number = PSI_EPSILON,
): PsiResult {
  if (baselineShares.length !== edges.length + 1 || currentShares.length !== edges.length + 1) {
    throw new DriftInputError('psiFromShares: shares must have one more entry than edges', {
      edges: edges.length,
      baseline: baselineShares.length,
      current: currentShares.length,
    });
  }
  let total = 0;
  const out: PsiBin[] = [];
  for (let i = 0; i <= edges.length; i++) {
    const b = baselineShares[i]! === 0 ? epsilon : baselineShares[i]!;
    const c = currentShares[i]! === 0 ? epsilon : currentShares[i]!;
    const contribution = (c - b) * Math.log(c / b);
    total += contribution;
    out.push({
      lower: i === 0 ? null : edges[i - 1]!,
      upper: i === edges.length ? null : edges[i]!,
      baseline: baselineShares[i]!,
      window: currentShares[i]!,
      contribution,
    });
  }
  return { psi: total, requestedBins, binCount: edges.length + 1, edges: [...edges], bins: out };
}

/** Inner bin edges: the i/bins quantiles (i = 1..bins−1) of sorted data, numpy 'linear' method, unsorted ties kept. */
export function quantileEdges(sorted: ArrayLike<number>, bins: number): number[] {
  const step = 1 / bins; // numpy.linspace multiplies the index by the step
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) edges.push(quantileSortedLinear(sorted, i * step));
  return edges;
}

/** numpy.quantile(sorted, q) with the default 'linear' method (Hyndman & Fan type 7), on ascending data. */
export function quantileSortedLinear(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new DriftInputError('quantile of an empty sample', {});
  const virtualIndex = n * q + (1 - q) - 1;
  const lo = Math.max(0, Math.min(n - 1, Math.floor(virtualIndex)));
  const hi = Math.min(n - 1, lo + 1);
  const t = virtualIndex - Math.floor(virtualIndex);
  return lerp(sorted[lo]!, sorted[hi]!, t);
}

// numpy's _lerp: interpolate from the nearer end so t = 1 gives b exactly.
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Bin index of x: the number of edges strictly below it (numpy.searchsorted(edges, x, 'left')). */
export function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countSorted(sorted: ArrayLike<number>, edges: readonly number[]): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    while (bin < edges.length && edges[bin]! < x) bin++;
    counts[bin]! += 1;
  }
  return counts;
}

/** Removes repeated values from an ascending list. */
export function uniqueSorted(values: readonly number[]): number[] {
  const out: number[] = [];
  for (const v of values) if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  return out;
}

/** Throws unless `bins` is an integer in [2, 1000]. */
export function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 2 || bins > 1000) {
    throw new DriftInputError(`bins must be an integer from 2 to 1000, got ${bins}`, { bins });
  }
}
