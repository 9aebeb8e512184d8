// Volume: a robust z-score of a window's event count against baseline counts, and the choice of those counts —
// the same slot of the week (hour-of-week for hourly windows) over past weeks when enough weeks are known, else the
// last N windows. simple-statistics supplies median and the (unscaled) median absolute deviation.
//
// A seasonal baseline has only 3–4 counts, and the MAD of three counts is a poor scale: with 10 % hour-to-hour
// variation on top of Poisson noise, |score| > 3.5 fired in 17 % of ordinary windows at 1,000 events each. So a
// seasonal verdict takes its scale from the week-over-week residuals of the recent windows (each window's count minus
// the median of its own same-slot weeks) — the very quantity the score measures, estimated from up to N points.
import { mean, median, medianAbsoluteDeviation } from 'simple-statistics';

/** Consistency constant making MAD estimate σ for normal data (1/Φ⁻¹(3/4)). */
export const MAD_SCALE = 1.4826;
/** Makes the mean absolute deviation estimate σ for normal data (√(π/2)); used when the MAD is 0. */
export const MEAN_AD_SCALE = 1.2533;
/** One week in milliseconds. */
export const WEEK_MS = 7 * 24 * 3600_000;

/** A robust score of one value against a baseline. */
export interface RobustScore {
  score: number;
  median: number;
  mad: number;
  /** The σ estimate used: 1.4826·MAD (else 1.2533·mean absolute deviation when the MAD is 0), at least √max(median, 1). */
  scale: number;
  scaleMethod: 'mad' | 'meanAbsoluteDeviation' | 'poisson' | 'seasonalResiduals';
}

/** Fewest week-over-week residuals a seasonal scale is estimated from (fewer: the baseline counts' own MAD). */
export const MIN_SEASONAL_RESIDUALS = 8;

/**
 * (value − median) / scale. When more than half the baseline is one number the MAD is 0; then the mean absolute
 * deviation stands in (Iglewicz & Hoaglin's modified z-score convention). The scale is never below the Poisson
 * standard deviation √median: a count series that happened not to vary still has counting noise.
 */
export function robustScore(
  value: number,
  baseline: readonly number[],
  residuals: readonly number[] = [],
): RobustScore {
  const med = median(baseline as number[]);
  const mad = medianAbsoluteDeviation(baseline as number[]);
  let scale = MAD_SCALE * mad;
  let scaleMethod: RobustScore['scaleMethod'] = 'mad';
  if (residuals.length >= MIN_SEASONAL_RESIDUALS) {
    // Residuals are centred near 0 by construction; their spread about 0 is what (value − median) is measured by.
    const spread = median(residuals.map((r) => Math.abs(r)));
    scale =
      spread > 0 ? MAD_SCALE * spread : MEAN_AD_SCALE * mean(residuals.map((r) => Math.abs(r)));
    scaleMethod = 'seasonalResiduals';
  } else if (!(scale > 0)) {
    scale = MEAN_AD_SCALE * mean(baseline.map((x) => Math.abs(x - med)));
    scaleMethod = 'meanAbsoluteDeviation';
  }
  // Counts vary at least like a Poisson count (σ = √mean): with a handful of seasonal points the MAD can come out
  // far smaller than that, and a score against it would fire on ordinary noise.
  const poisson = Math.sqrt(Math.max(med, 1));
  if (!(scale >= poisson)) {
    scale = poisson;
    scaleMethod = 'poisson';
  }
  return { score: (value - med) / scale, median: med, mad, scale, scaleMethod };
}

/** Which counts a volume window is compared with. */
export interface VolumeBaseline {
  method: 'seasonal' | 'rolling';
  /** Window starts of the baseline counts, oldest first. */
  starts: number[];
  counts: number[];
  /**
   * seasonal only: for each of the last `rollingWindows` known windows before `start` with at least `minSeasons`
   * same-slot weeks of their own, its count minus their median (the scale of a seasonal score).
   */
  residuals: number[];
}

/** Options of selectVolumeBaseline. */
export interface VolumeBaselineOptions {
  windowMs: number;
  /** Windows used when the seasonal baseline is not available. */
  rollingWindows: number;
  /** Past weeks looked at for the same slot. @default 4 */
  seasonalWeeks?: number;
  /** Same-slot weeks needed before the seasonal baseline is used. @default 3 */
  minSeasons?: number;
}

/**
 * Picks the baseline counts for the window starting at `start` from `history` (window start → count, decided windows
 * only): same slot of the week over up to `seasonalWeeks` past weeks when at least `minSeasons` of them are known and
 * the window size divides a week (with the recent windows' week-over-week residuals); otherwise the last
 * `rollingWindows` known windows before `start`.
 */
export function selectVolumeBaseline(
  history: ReadonlyMap<number, number>,
  start: number,
  { windowMs, rollingWindows, seasonalWeeks = 4, minSeasons = 3 }: VolumeBaselineOptions,
): VolumeBaseline {
  if (WEEK_MS % windowMs === 0) {
    const sameSlot = (at: number): number[] => {
      const starts: number[] = [];
      for (let w = seasonalWeeks; w >= 1; w--) {
        const s = at - w * WEEK_MS;
        if (history.has(s)) starts.push(s);
      }
      return starts;
    };
    const starts = sameSlot(start);
    if (starts.length >= minSeasons) {
      const residuals: number[] = [];
      for (const s of lastBefore(history, start, rollingWindows)) {
        const slot = sameSlot(s);
        if (slot.length >= minSeasons)
          residuals.push(history.get(s)! - median(slot.map((x) => history.get(x)!)));
      }
      return {
        method: 'seasonal',
        starts,
        counts: starts.map((s) => history.get(s)!),
        residuals,
      };
    }
  }
  const starts = lastBefore(history, start, rollingWindows);
  return { method: 'rolling', starts, counts: starts.map((s) => history.get(s)!), residuals: [] };
}

function lastBefore(history: ReadonlyMap<number, number>, start: number, n: number): number[] {
  return [...history.keys()]
    .filter((s) => s < start)
    .sort((a, b) => a - b)
    .slice(-n);
}
