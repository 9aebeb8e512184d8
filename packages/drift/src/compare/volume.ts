// Volume: a robust z-score of a window's event count against baseline counts, and the choice of those counts —
// the same slot of the week (hour-of-week for hourly windows) over past weeks when enough weeks are known, else the
// last N windows. simple-statistics supplies median and the (unscaled) median absolute deviation.
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
  scaleMethod: 'mad' | 'meanAbsoluteDeviation' | 'poisson';
}

/**
 * (value − median) / scale. When more than half the baseline is one number the MAD is 0; then the mean absolute
 * deviation stands in (Iglewicz & Hoaglin's modified z-score convention). The scale is never below the Poisson
 * standard deviation √median: a count series that happened not to vary still has counting noise.
 */
export function robustScore(value: number, baseline: readonly number[]): RobustScore {
  const med = median(baseline as number[]);
  const mad = medianAbsoluteDeviation(baseline as number[]);
  let scale = MAD_SCALE * mad;
  let scaleMethod: RobustScore['scaleMethod'] = 'mad';
  if (!(scale > 0)) {
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
 * the window size divides a week; otherwise the last `rollingWindows` known windows before `start`.
 */
export function selectVolumeBaseline(
  history: ReadonlyMap<number, number>,
  start: number,
  { windowMs, rollingWindows, seasonalWeeks = 4, minSeasons = 3 }: VolumeBaselineOptions,
): VolumeBaseline {
  if (WEEK_MS % windowMs === 0) {
    const starts: number[] = [];
    for (let w = seasonalWeeks; w >= 1; w--) {
      const s = start - w * WEEK_MS;
      if (history.has(s)) starts.push(s);
    }
    if (starts.length >= minSeasons)
      return { method: 'seasonal', starts, counts: starts.map((s) => history.get(s)!) };
  }
  const starts = [...history.keys()]
    .filter((s) => s < start)
    .sort((a, b) => a - b)
    .slice(-rollingWindows);
  return { method: 'rolling', starts, counts: starts.map((s) => history.get(s)!) };
}
