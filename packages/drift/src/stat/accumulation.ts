// What one feature accumulates over one window, as a mergeable accumulation (create / record / merge / compare):
// numeric → KLL sketch (PSI) + bottom-k sample (KS); categorical → capped category counts; volume → a count.
import { compareCategories, type CategoryComparison } from '../compare/categories.js';
import { ks2samp, type KsResult } from '../compare/ks.js';
import { moodTest, type MoodResult } from '../compare/mood.js';
import { psiFromShares, uniqueSorted, checkBins, type PsiResult } from '../compare/psi.js';
import { DriftStateError } from '../errors.js';
import {
  categoryCountsFromJSON,
  categoryCountsToJSON,
  categoryTable,
  createCategoryCounts,
  mergeCategoryCounts,
  recordCategory,
  type CategoryCounts,
  type CategoryCountsJSON,
} from './categories.js';
import {
  createPrioritySample,
  mergePrioritySamples,
  prioritySampleFromJSON,
  prioritySampleToJSON,
  recordSample,
  type PrioritySample,
} from './sample.js';
import {
  createQuantileSketch,
  mergeQuantileSketches,
  quantileSketchFromJSON,
  recordValue,
  sketchQuantiles,
  sketchRank,
  type QuantileSketch,
} from './sketch.js';

/** What a feature measures. */
export type FeatureKind = 'numeric' | 'categorical' | 'volume';

/** Numeric values of one window: count, a quantile sketch and a bottom-k sample. */
export interface NumericAccumulation {
  kind: 'numeric';
  count: number;
  /** Values present but not finite numbers (strings, NaN…): counted, never recorded. */
  invalid: number;
  sketch: QuantileSketch;
  sample: PrioritySample;
}

/** Category counts of one window. */
export interface CategoricalAccumulation {
  kind: 'categorical';
  count: number;
  categories: CategoryCounts;
}

/** Event count of one window. */
export interface VolumeAccumulation {
  kind: 'volume';
  count: number;
}

/** Any feature's accumulation. */
export type FeatureAccumulation =
  NumericAccumulation | CategoricalAccumulation | VolumeAccumulation;

/** Sizes of the bounded structures inside an accumulation. */
export interface AccumulationLimits {
  /** KLL accuracy parameter. @default 200 */
  sketchK?: number;
  /** Values kept for the KS test. @default 1000 */
  sampleSize?: number;
  /** Distinct categories counted by name. @default 64 */
  categoryCapacity?: number;
}

/** Creates an empty accumulation of the given kind. */
export function createAccumulation(
  kind: FeatureKind,
  limits: AccumulationLimits = {},
): FeatureAccumulation {
  switch (kind) {
    case 'numeric':
      return {
        kind,
        count: 0,
        invalid: 0,
        sketch: createQuantileSketch({ k: limits.sketchK }),
        sample: createPrioritySample(limits.sampleSize),
      };
    case 'categorical':
      return { kind, count: 0, categories: createCategoryCounts(limits.categoryCapacity) };
    case 'volume':
      return { kind, count: 0 };
  }
}

/** Records a numeric value with its sampling priority in [0, 1); a non-finite value only counts as invalid. */
export function recordNumeric(
  acc: NumericAccumulation,
  value: number,
  priority: number,
): NumericAccumulation {
  if (!Number.isFinite(value)) {
    acc.invalid++;
    return acc;
  }
  acc.count++;
  recordValue(acc.sketch, value);
  recordSample(acc.sample, value, priority);
  return acc;
}

/** Records one category occurrence. */
export function recordCategorical(
  acc: CategoricalAccumulation,
  category: string,
): CategoricalAccumulation {
  acc.count++;
  recordCategory(acc.categories, category);
  return acc;
}

/** Records one event. */
export function recordVolume(acc: VolumeAccumulation, count = 1): VolumeAccumulation {
  acc.count += count;
  return acc;
}

/** Merges two accumulations of the same kind into a new one; the inputs are not changed. */
export function mergeAccumulations<A extends FeatureAccumulation>(a: A, b: A): A {
  if (a.kind !== b.kind) throw new DriftStateError(`cannot merge ${a.kind} with ${b.kind}`, {});
  switch (a.kind) {
    case 'numeric': {
      const y = b as NumericAccumulation;
      return {
        kind: 'numeric',
        count: a.count + y.count,
        invalid: a.invalid + y.invalid,
        sketch: mergeQuantileSketches(a.sketch, y.sketch),
        sample: mergePrioritySamples(a.sample, y.sample),
      } as A;
    }
    case 'categorical': {
      const y = b as CategoricalAccumulation;
      return {
        kind: 'categorical',
        count: a.count + y.count,
        categories: mergeCategoryCounts(a.categories, y.categories),
      } as A;
    }
    case 'volume':
      return { kind: 'volume', count: a.count + b.count } as A;
  }
}

/** Merges a non-empty list of accumulations (left to right). */
export function mergeAll<A extends FeatureAccumulation>(accs: readonly A[]): A {
  if (accs.length === 0) throw new DriftStateError('mergeAll needs at least one accumulation', {});
  let out = accs[0]!;
  for (let i = 1; i < accs.length; i++) out = mergeAccumulations(out, accs[i]!);
  return out;
}

/** JSON form of an accumulation (for the state changelog and the partials topic). */
export type FeatureAccumulationJSON =
  | Omit<NumericAccumulation, never>
  | { kind: 'categorical'; count: number; categories: CategoryCountsJSON }
  | VolumeAccumulation;

/** Serialises an accumulation to plain data. */
export function accumulationToJSON(acc: FeatureAccumulation): FeatureAccumulationJSON {
  if (acc.kind === 'categorical')
    return { kind: acc.kind, count: acc.count, categories: categoryCountsToJSON(acc.categories) };
  if (acc.kind === 'numeric') {
    return {
      kind: acc.kind,
      count: acc.count,
      invalid: acc.invalid,
      sketch: acc.sketch,
      sample: prioritySampleToJSON(acc.sample),
    };
  }
  return acc;
}

/** Restores an accumulation from plain data, checking its shape (throws DriftStateError). */
export function accumulationFromJSON(value: unknown): FeatureAccumulation {
  const v = value as {
    kind?: unknown;
    count?: unknown;
    invalid?: unknown;
    sketch?: unknown;
    sample?: unknown;
    categories?: unknown;
  } | null;
  if (v === null || typeof v !== 'object' || !Number.isInteger(v.count)) {
    throw new DriftStateError('not a serialized accumulation', {});
  }
  switch (v.kind) {
    case 'numeric':
      if (!Number.isInteger(v.invalid))
        throw new DriftStateError('numeric accumulation without invalid count', {});
      return {
        kind: 'numeric',
        count: v.count as number,
        invalid: v.invalid as number,
        sketch: quantileSketchFromJSON(v.sketch),
        sample: prioritySampleFromJSON(v.sample),
      };
    case 'categorical':
      return {
        kind: 'categorical',
        count: v.count as number,
        categories: categoryCountsFromJSON(v.categories),
      };
    case 'volume':
      return { kind: 'volume', count: v.count as number };
    default:
      throw new DriftStateError(`unknown accumulation kind ${JSON.stringify(v.kind)}`, {});
  }
}

/** Numeric comparison of a window with its baseline. */
export interface NumericComparison {
  psi: PsiResult;
  ks: KsResult;
  /** Mood's scale test on the same samples as KS (KS barely sees a change of spread alone). */
  mood: MoodResult;
}

/**
 * Compares numeric accumulations: PSI with bins from the baseline sketch's quantiles and shares from both sketches'
 * ranks; KS and Mood on the two bottom-k samples (so their p-values reflect at most `sampleSize` values a side).
 */
export function compareNumeric(
  baseline: NumericAccumulation,
  window: NumericAccumulation,
  { bins = 10 }: { bins?: number } = {},
): NumericComparison | null {
  const psi = comparePsi(baseline, window, bins);
  return psi === null ? null : { psi, ...compareSamples(baseline, window) };
}

/** PSI part of compareNumeric (sketches only); null when a side is empty. */
export function comparePsi(
  baseline: NumericAccumulation,
  window: NumericAccumulation,
  bins = 10,
): PsiResult | null {
  checkBins(bins);
  if (baseline.count === 0 || window.count === 0) return null;
  const qs: number[] = [];
  for (let i = 1; i < bins; i++) qs.push(i * (1 / bins));
  const edges = uniqueSorted(sketchQuantiles(baseline.sketch, qs));
  const shares = (s: QuantileSketch): number[] => {
    const out: number[] = [];
    let previous = 0;
    for (const e of edges) {
      const r = sketchRank(s, e);
      out.push(r - previous);
      previous = r;
    }
    out.push(1 - previous);
    return out;
  };
  return psiFromShares(bins, edges, shares(baseline.sketch), shares(window.sketch));
}

/** Test part of compareNumeric: KS and Mood on the samples (order-free, so the kept values are sorted directly). */
export function compareSamples(
  baseline: NumericAccumulation,
  window: NumericAccumulation,
): { ks: KsResult; mood: MoodResult } {
  const a = Float64Array.from(baseline.sample.values).sort();
  const b = Float64Array.from(window.sample.values).sort();
  return { ks: ks2samp(a, b, { sorted: true }), mood: moodTest(a, b, { sorted: true }) };
}

/** Compares categorical accumulations (chi-square + JS distance over top-K + other). */
export function compareCategorical(
  baseline: CategoricalAccumulation,
  window: CategoricalAccumulation,
  { topK = 20 }: { topK?: number } = {},
): CategoryComparison | null {
  return compareCategories(categoryTable(baseline.categories), categoryTable(window.categories), {
    topK,
  });
}
