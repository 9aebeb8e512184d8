// npm run bench:drift-fpr — the drift verdicts' false-alarm rate per window on same-distribution windows, for
// n = m ∈ {50, 100, 1,000, 10,000} × bins (numeric) or categories (categorical) ∈ {5, 10, 20}, 1,000 seeded windows
// per cell, and their power on planted changes. Prints the Markdown tables of the README ("When a window drifts").
// Exits 1 when a false-alarm rate is above 1 % or a numeric power below 95 % (the goals of issue 13). Usage:
// npm run bench:drift-fpr [-- windows per cell]
import { performance } from 'node:perf_hooks';
import {
  simulateCategorical,
  simulateNumeric,
  simulateVolume,
  type RateCell,
} from '../check/simulate.js';
import type { DriftThresholds } from '../check/config.js';

const TRIALS = Number(process.argv[2] ?? 1000);
const SIZES = [50, 100, 1000, 10_000];
const BINS = [5, 10, 20];
const NUMERIC: DriftThresholds = { psi: 0.1, ksPValue: 0.001 };
const CATEGORICAL: DriftThresholds = { jsDistance: 0.1, chiSquarePValue: 0.001 };
const MAX_RATE = 0.01;
const MIN_POWER = 0.95;

let failed = false;
const pct = (k: number, of: number): string => `${((100 * k) / of).toFixed(1)} %`;

function table(title: string, unit: string, rows: Array<{ n: number; cells: RateCell[] }>): void {
  console.log(
    `\n${title} (${TRIALS} windows per cell; fired / p < α alone / effect alone / rule before)\n`,
  );
  console.log(`| n = m | ${BINS.map((b) => `${b} ${unit}`).join(' | ')} |`);
  console.log(`|---|${BINS.map(() => '---').join('|')}|`);
  for (const { n, cells } of rows) {
    const text = cells.map((c) => {
      if (c.fired / c.trials > MAX_RATE) failed = true;
      return `**${pct(c.fired, c.trials)}** / ${pct(c.significant, c.trials)} / ${pct(c.large, c.trials)} / ${pct(c.previous, c.trials)}`;
    });
    console.log(`| ${n.toLocaleString('en')} | ${text.join(' | ')} |`);
  }
}

function power(name: string, cells: RateCell[], gated = true): void {
  for (const c of cells) {
    if (gated && c.fired / c.trials < MIN_POWER) failed = true;
    console.log(
      `| ${name} | ${c.bins} | ${pct(c.fired, c.trials)} | ${pct(c.significant, c.trials)} | ${pct(c.large, c.trials)} |`,
    );
  }
}

const t0 = performance.now();
table(
  `numeric, psi ${NUMERIC.psi} AND KS/Mood p < ${NUMERIC.ksPValue}`,
  'bins',
  SIZES.map((n) => ({
    n,
    cells: simulateNumeric({ n, bins: BINS, trials: TRIALS, seed: n, thresholds: NUMERIC }),
  })),
);
table(
  `categorical (Zipf-like shares), JS ${CATEGORICAL.jsDistance} AND chi-square p < ${CATEGORICAL.chiSquarePValue}`,
  'categories',
  SIZES.map((n) => ({
    n,
    cells: simulateCategorical({
      n,
      categories: BINS,
      trials: TRIALS,
      seed: n,
      thresholds: CATEGORICAL,
    }),
  })),
);
console.log('\npower (planted change)\n');
console.log('| change | bins / categories | fired | p < α alone | effect alone |');
console.log('|---|---|---|---|---|');
power(
  'numeric 0.5σ location, n = 1,000',
  simulateNumeric({
    n: 1000,
    bins: BINS,
    trials: TRIALS,
    seed: 7,
    thresholds: NUMERIC,
    shift: 0.5,
  }),
);
power(
  'numeric 2× scale, n = 100',
  simulateNumeric({ n: 100, bins: BINS, trials: TRIALS, seed: 9, thresholds: NUMERIC, scale: 2 }),
);
power(
  'categorical: top category loses half its share, n = 1,000',
  simulateCategorical({
    n: 1000,
    categories: BINS,
    trials: TRIALS,
    seed: 11,
    thresholds: CATEGORICAL,
    move: 0.5,
  }),
  false,
);
power(
  'numeric 0.5σ location, n = 1,000, psi 0.25 (ungated: a 0.5σ shift is PSI ≈ 0.25)',
  simulateNumeric({
    n: 1000,
    bins: BINS,
    trials: TRIALS,
    seed: 7,
    thresholds: { psi: 0.25, ksPValue: 0.001 },
    shift: 0.5,
  }),
  false,
);

console.log('\nother settings, numeric, same distribution, 10 bins (fired now / rule before)\n');
console.log('| thresholds | n | m | fired | rule before |');
console.log('|---|---|---|---|---|');
for (const [t, n, m] of [
  [{ psi: 0.25, ksPValue: 0.001 }, 60, 24 * 60],
  [{ psi: 0.2, ksPValue: 0.01 }, 50, 50],
  [{ psi: 0.2, ksPValue: 0.01 }, 100, 100],
  [{ psi: 0.2, ksPValue: 0.01 }, 100, 24 * 100],
  [{ psi: 0.2, ksPValue: 0.01 }, 1000, 1000],
] as Array<[DriftThresholds, number, number]>) {
  const [c] = simulateNumeric({ n, m, bins: [10], trials: TRIALS, seed: n + m, thresholds: t });
  if (c!.fired / c!.trials > MAX_RATE) failed = true;
  console.log(
    `| psi ${t.psi}, ksPValue ${t.ksPValue} | ${n} | ${m} | ${pct(c!.fired, c!.trials)} | ${pct(c!.previous, c!.trials)} |`,
  );
}
console.log(
  '\nvolume: same-process hourly windows, |robust score| above 3.5 / 5, 20,000 windows per row (seasonal: 3 weeks,',
);
console.log(
  "scale from the last 24 windows' week-over-week residuals; rolling: the last 24 windows)\n",
);
console.log('| mean count | baseline | extra variation | > 3.5 | > 5 |');
console.log('|---|---|---|---|---|');
for (const variation of [0, 0.1]) {
  for (const mean of [60, 1000, 10_000]) {
    for (const seasonalWeeks of [3, 0]) {
      const [a, b] = simulateVolume({
        mean,
        variation,
        seasonalWeeks,
        rollingWindows: 24,
        thresholds: [3.5, 5],
        trials: 20_000,
        seed: mean + seasonalWeeks,
      });
      if (b! > MAX_RATE) failed = true;
      console.log(
        `| ${mean.toLocaleString('en')} | ${seasonalWeeks > 0 ? 'seasonal' : 'rolling'} | ${variation === 0 ? 'Poisson' : `${variation * 100} %`} | ${pct(a!, 1)} | ${pct(b!, 1)} |`,
      );
    }
  }
}
console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (failed) {
  console.error('a false-alarm rate is above 1 % or a power below 95 %');
  process.exitCode = 1;
}
