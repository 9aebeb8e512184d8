// Seeded synthetic windows for measuring the drift verdicts' false-alarm rate and power: each trial records a fresh
// baseline and a fresh window of n values into real accumulations (sketch, sample, category counts — the path the
// decider takes), compares them and judges them with the verdict rule. A trial's data does not depend on the bin
// count, so one trial is judged at every requested bin count. Used by the unit test (verdict.test.ts) and by
// `npm run bench:drift-fpr` (the full table in the README). Not exported from the package.
import {
  compareCategorical,
  comparePsi,
  compareSamples,
  createAccumulation,
  recordCategorical,
  recordNumeric,
  type CategoricalAccumulation,
  type NumericAccumulation,
} from '../stat/accumulation.js';
import { createRng, normal, type Rng } from '../stat/random.js';
import type { DriftThresholds } from './config.js';
import { judgeCategorical, judgeNumeric, type DistributionVerdict } from './verdict.js';
import { chiSquareSf } from '../compare/special.js';
import { robustScore, selectVolumeBaseline, WEEK_MS } from '../compare/volume.js';

/** What one grid cell measured: windows judged, windows fired, and (significance alone) how often p < α. */
export interface RateCell {
  bins: number;
  trials: number;
  fired: number;
  /** Windows whose p-value alone was below α (the rule without its effect-size half). */
  significant: number;
  /** Windows whose effect size alone was above its threshold (the rule without its significance half). */
  large: number;
  /**
   * Windows the rule before issue 13 fired on: effect size above its threshold OR the single test below α (numeric:
   * KS alone; categorical: goodness of fit against the baseline's shares, X² / (1 + n/m)).
   */
  previous: number;
  /** Distinct PSI bin counts actually used (numeric; fewer than requested only when baseline ties merge edges). */
  binsUsed: number[];
}

/** Options of simulateNumeric. */
export interface NumericSimulation {
  /** Values per window. */
  n: number;
  /** Values per baseline. @default n */
  m?: number;
  /** PSI bin counts to judge each trial at. */
  bins: readonly number[];
  trials: number;
  seed: number;
  thresholds: DriftThresholds;
  /** Window values are N(shift, scale²); the baseline is N(0, 1). @default 0 */
  shift?: number;
  /** @default 1 */
  scale?: number;
}

/** Judges `trials` seeded numeric windows against same-size baselines at each bin count. */
export function simulateNumeric(o: NumericSimulation): RateCell[] {
  const rng = createRng(o.seed);
  const cells = o.bins.map((bins) => cell(bins, o.trials));
  for (let t = 0; t < o.trials; t++) {
    const baseline = numericWindow(rng, o.m ?? o.n, 0, 1);
    const window = numericWindow(rng, o.n, o.shift ?? 0, o.scale ?? 1);
    // compareNumeric is comparePsi + compareSamples; the tests do not depend on the bin count, so they run once.
    const tests = compareSamples(baseline, window);
    for (const c of cells) {
      const r = { psi: comparePsi(baseline, window, c.bins)!, ...tests };
      const v = judgeNumeric(r, o.thresholds);
      count(c, v, v.large || r.ks.pValue < v.alpha);
      if (!c.binsUsed.includes(r.psi.binCount)) c.binsUsed.push(r.psi.binCount);
    }
  }
  return cells;
}

/** Options of simulateCategorical. */
export interface CategoricalSimulation {
  n: number;
  /** Category counts to simulate (one distribution per count). */
  categories: readonly number[];
  trials: number;
  seed: number;
  thresholds: DriftThresholds;
  /**
   * Share of the most common category the window moves to the others (0 = no change). The shares are Zipf-like,
   * ∝ 1/(i + 1), so the rarer categories are often absent from a small window or baseline. @default 0
   */
  move?: number;
}

/** Judges `trials` seeded categorical windows per category count (Zipf-like shares, topK 20). */
export function simulateCategorical(o: CategoricalSimulation): RateCell[] {
  return o.categories.map((k) => {
    const rng = createRng(o.seed + k);
    const base = zipf(k);
    const moved = base.map((s, i) => (i === 0 ? s * (1 - (o.move ?? 0)) : s));
    const total = moved.reduce((a, b) => a + b, 0);
    const shifted = moved.map((s) => s / total);
    const c = cell(k, o.trials);
    for (let t = 0; t < o.trials; t++) {
      const baseline = categoricalWindow(rng, o.n, base);
      const window = categoricalWindow(rng, o.n, shifted);
      const r = compareCategorical(baseline, window, { topK: 20 });
      if (r === null) continue;
      const v = judgeCategorical(r, o.thresholds);
      const fit = chiSquareSf(
        r.chiSquare.statistic / (1 + r.windowCount / r.baselineCount),
        r.chiSquare.df,
      );
      count(c, v, v.large || fit < v.alpha);
    }
    return c;
  });
}

function cell(bins: number, trials: number): RateCell {
  return { bins, trials, fired: 0, significant: 0, large: 0, previous: 0, binsUsed: [] };
}

function count(c: RateCell, v: DistributionVerdict, previous: boolean): void {
  if (v.drifted) c.fired++;
  if (previous) c.previous++;
  if (v.significant) c.significant++;
  if (v.large) c.large++;
}

function numericWindow(rng: Rng, n: number, shift: number, scale: number): NumericAccumulation {
  const acc = createAccumulation('numeric') as NumericAccumulation;
  for (let i = 0; i < n; i++) recordNumeric(acc, normal(rng, shift, scale), rng());
  return acc;
}

const NAMES = Array.from({ length: 64 }, (_, i) => `c${i}`);

function categoricalWindow(
  rng: Rng,
  n: number,
  shares: readonly number[],
): CategoricalAccumulation {
  const acc = createAccumulation('categorical') as CategoricalAccumulation;
  for (let i = 0; i < n; i++) {
    let u = rng();
    let k = 0;
    while (k < shares.length - 1 && (u -= shares[k]!) >= 0) k++;
    recordCategorical(acc, NAMES[k]!);
  }
  return acc;
}

function zipf(k: number): number[] {
  const w = Array.from({ length: k }, (_, i) => 1 / (i + 1));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Options of simulateVolume. */
export interface VolumeSimulation {
  /** Mean events per window. */
  mean: number;
  /** Hour-to-hour variation of the rate on top of Poisson noise (coefficient of variation; 0 = pure Poisson). */
  variation: number;
  /**
   * Past weeks known for each window's slot (seasonal baseline, 3–4) or 0 (rolling baseline of the last
   * `rollingWindows` windows).
   */
  seasonalWeeks: number;
  rollingWindows: number;
  /** |robust score| thresholds to count alarms at. */
  thresholds: readonly number[];
  trials: number;
  seed: number;
}

const HOUR_MS = 3600_000;

/**
 * Fraction of same-process hourly volume windows whose |robust score| exceeds each threshold, through the decider's
 * own baseline choice (selectVolumeBaseline) and score (robustScore). Only the windows the verdict reads are drawn:
 * the last `rollingWindows` hours and, for a seasonal baseline, the same slots `seasonalWeeks` weeks back of each.
 */
export function simulateVolume(o: VolumeSimulation): number[] {
  const rng = createRng(o.seed);
  const sigma = Math.sqrt(Math.log(1 + o.variation * o.variation));
  const draw = (): number =>
    poisson(rng, o.mean * Math.exp(normal(rng, -(sigma * sigma) / 2, sigma)));
  const start = 10 * WEEK_MS;
  const alarms = o.thresholds.map(() => 0);
  for (let t = 0; t < o.trials; t++) {
    const history = new Map<number, number>();
    for (let h = o.rollingWindows; h >= 1; h--) {
      for (let w = o.seasonalWeeks; w >= 0; w--)
        history.set(start - h * HOUR_MS - w * WEEK_MS, draw());
    }
    for (let w = o.seasonalWeeks; w >= 1; w--) history.set(start - w * WEEK_MS, draw());
    const baseline = selectVolumeBaseline(history, start, {
      windowMs: HOUR_MS,
      rollingWindows: o.rollingWindows,
      seasonalWeeks: Math.max(o.seasonalWeeks, 1),
      minSeasons: Math.max(o.seasonalWeeks, 1),
    });
    const score = Math.abs(robustScore(draw(), baseline.counts, baseline.residuals).score);
    o.thresholds.forEach((thr, i) => {
      if (score > thr) alarms[i]!++;
    });
  }
  return alarms.map((a) => a / o.trials);
}

// Knuth's product method for small means, the normal approximation (rounded, ≥ 0) above 50.
function poisson(rng: Rng, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(normal(rng, mean, Math.sqrt(mean))));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}
