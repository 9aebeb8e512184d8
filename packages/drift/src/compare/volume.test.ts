import { describe, expect, it } from 'vitest';
import { simulateVolume } from '../check/simulate.js';
import { robustScore, selectVolumeBaseline, WEEK_MS } from './volume.js';

const HOUR = 3600_000;
const START = 10 * WEEK_MS;

/** History with `weeks` same-slot weeks for the window at START and for each of the `recent` hours before it. */
function history(
  weeks: number,
  recent: number,
  count: (at: number) => number,
): Map<number, number> {
  const h = new Map<number, number>();
  for (let r = recent; r >= 0; r--) {
    for (let w = weeks; w >= 0; w--) {
      const at = START - r * HOUR - w * WEEK_MS;
      if (at !== START) h.set(at, count(at));
    }
  }
  return h;
}

describe('selectVolumeBaseline', () => {
  const options = { windowMs: HOUR, rollingWindows: 24, seasonalWeeks: 4, minSeasons: 3 };

  it('gives a seasonal baseline the week-over-week residuals of the last N windows', () => {
    // Each week adds 10 events to every slot: a window's count minus the median of its 3 past weeks is 20.
    const h = history(3, 24, (at) => 100 + 10 * Math.floor(at / WEEK_MS));
    const b = selectVolumeBaseline(h, START, options);
    expect(b.method).toBe('seasonal');
    expect(b.counts).toEqual([170, 180, 190]);
    expect(b.residuals).toEqual(Array.from({ length: 24 }, () => 20));
  });

  it('leaves out recent windows without minSeasons weeks of their own, and gives rolling baselines none', () => {
    const h = history(3, 24, () => 50);
    for (let w = 1; w <= 3; w++) h.delete(START - HOUR - w * WEEK_MS); // an hour ago has no past weeks
    expect(selectVolumeBaseline(h, START, options).residuals).toHaveLength(23);
    const rolling = selectVolumeBaseline(
      history(0, 24, () => 50),
      START,
      options,
    );
    expect(rolling).toMatchObject({ method: 'rolling', residuals: [] });
    expect(rolling.counts).toHaveLength(24);
  });
});

describe('robustScore', () => {
  it.each([
    // [name, value, baseline, residuals, score, scaleMethod]
    ['three counts: their MAD', 130, [100, 110, 120], [], 20 / 14.826, 'mad'],
    [
      'enough residuals: their spread about 0',
      130,
      [100, 110, 120],
      [-20, 20, -20, 20, 20, -20, 20, -20],
      20 / 29.652,
      'seasonalResiduals',
    ],
    [
      'too few residuals: the counts again',
      130,
      [100, 110, 120],
      [-20, 20, -20],
      20 / 14.826,
      'mad',
    ],
    [
      'residual scale still floored by Poisson noise',
      140,
      [100, 100, 100],
      [1, -1, 1, -1, 1, -1, 1, -1],
      4,
      'poisson',
    ],
  ] as const)('%s', (_name, value, baseline, residuals, score, method) => {
    const r = robustScore(value, baseline, residuals);
    expect(r.score).toBeCloseTo(score, 9);
    expect(r.scaleMethod).toBe(method);
  });
});

describe('volume false-alarm rate per window (2,000 seeded hourly windows each)', () => {
  // Counts with 10 % hour-to-hour variation on top of Poisson noise: with a 3-week seasonal baseline scored by its
  // own three counts, |score| > 3.5 fired in ~17 % of such windows at 1,000 events and ~26 % at 10,000.
  it.each([
    [1000, 3],
    [10_000, 3],
    [1000, 0],
  ])(
    'mean %i events, %i seasonal weeks (0 = rolling 24): ≤ 1 % above 3.5',
    (mean, seasonalWeeks) => {
      const [rate] = simulateVolume({
        mean,
        variation: 0.1,
        seasonalWeeks,
        rollingWindows: 24,
        thresholds: [3.5],
        trials: 2000,
        seed: mean + seasonalWeeks,
      });
      expect(rate).toBeLessThanOrEqual(0.01);
    },
  );
});
