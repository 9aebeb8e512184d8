// npm run bench:drift — PSI + KS on a 100k-value window against a 100k-value baseline (goal ≤ 50 ms) and the sketch's
// cost per recorded value (goal ≤ 1 µs), each next to a baseline measured in the same run (sorting the raw arrays
// with Float64Array.prototype.sort), so numbers from different machines can be compared by ratio.
import { performance } from 'node:perf_hooks';
import { ks2samp } from '../compare/ks.js';
import { psi } from '../compare/psi.js';
import {
  compareNumeric,
  createAccumulation,
  recordNumeric,
  type NumericAccumulation,
} from '../stat/accumulation.js';
import { createRng, hashUnit, normal } from '../stat/random.js';
import { createQuantileSketch, recordValue } from '../stat/sketch.js';

const N = 100_000;
const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const rng = createRng(42);
const baseline = new Float64Array(N);
const window = new Float64Array(N);
for (let i = 0; i < N; i++) baseline[i] = Math.exp(normal(rng, 8, 1));
for (let i = 0; i < N; i++) window[i] = Math.exp(normal(rng, 8.01, 1));

const sortMs = time(() => {
  Float64Array.from(baseline).sort();
  Float64Array.from(window).sort();
});
let last = { psi: 0, ks: 0, p: 0, method: '' };
const psiKsMs = time(() => {
  // Each side sorted once and shared by both statistics.
  const b = Float64Array.from(baseline).sort();
  const w = Float64Array.from(window).sort();
  const p = psi(b, w, { bins: 10, sorted: true });
  const k = ks2samp(b, w, { sorted: true });
  last = { psi: p.psi, ks: k.statistic, p: k.pValue, method: k.method };
});
const psiMs = time(() => psi(baseline, window, { bins: 10 }));
const ksMs = time(() => ks2samp(baseline, window));

// The check's own path: accumulations (sketch + 1000-value sample) per side, compared.
const accB = createAccumulation('numeric') as NumericAccumulation;
const accW = createAccumulation('numeric') as NumericAccumulation;
for (let i = 0; i < N; i++) recordNumeric(accB, baseline[i]!, hashUnit(`b${i}`));
for (let i = 0; i < N; i++) recordNumeric(accW, window[i]!, hashUnit(`w${i}`));
const compareMs = time(() => compareNumeric(accB, accW, { bins: 10 }));

// Update cost per value: 1M values into a fresh sketch; baseline = copying them into a Float64Array and sorting it.
const M = 1_000_000;
const values = new Float64Array(M);
for (let i = 0; i < M; i++) values[i] = Math.exp(normal(rng, 8, 1));
const sketchNs =
  (time(() => {
    const s = createQuantileSketch();
    for (let i = 0; i < M; i++) recordValue(s, values[i]!);
  }) *
    1e6) /
  M;
const sortNs = (time(() => Float64Array.from(values).sort()) * 1e6) / M;
const ids = Array.from({ length: M }, (_, i) => `evt-${i}`);
const recordNs =
  (time(() => {
    const acc = createAccumulation('numeric') as NumericAccumulation;
    for (let i = 0; i < M; i++) recordNumeric(acc, values[i]!, hashUnit(ids[i]!));
  }) *
    1e6) /
  M;

const row = (name: string, value: string, goal: string, ratio: string): string =>
  `${name.padEnd(46)} ${value.padStart(12)}  ${goal.padEnd(10)} ${ratio}`;
console.log(`drift benchmark (node ${process.version}, median of ${RUNS} runs)`);
console.log(row('measure', 'value', 'goal', 'vs baseline'));
console.log(row('baseline: sort 2 × 100k Float64Array', `${sortMs.toFixed(2)} ms`, '', '1.00×'));
console.log(
  row(
    'PSI + KS, 100k window vs 100k baseline',
    `${psiKsMs.toFixed(2)} ms`,
    '≤ 50 ms',
    `${(psiKsMs / sortMs).toFixed(2)}× sort`,
  ),
);
console.log(
  row(
    '  PSI alone (10 bins)',
    `${psiMs.toFixed(2)} ms`,
    '',
    `${(psiMs / sortMs).toFixed(2)}× sort`,
  ),
);
console.log(
  row(
    `  KS alone (${last.method})`,
    `${ksMs.toFixed(2)} ms`,
    '',
    `${(ksMs / sortMs).toFixed(2)}× sort`,
  ),
);
console.log(
  row(
    'check path: compareNumeric on accumulations',
    `${compareMs.toFixed(2)} ms`,
    '',
    `${(compareMs / sortMs).toFixed(2)}× sort`,
  ),
);
console.log(
  row('baseline: Float64Array sort, per value (1M)', `${sortNs.toFixed(1)} ns`, '', '1.00×'),
);
console.log(
  row(
    'KLL sketch update, per value (1M)',
    `${sketchNs.toFixed(1)} ns`,
    '≤ 1000 ns',
    `${(sketchNs / sortNs).toFixed(2)}× sort`,
  ),
);
console.log(
  row(
    'numeric record (sketch + sample + id hash)',
    `${recordNs.toFixed(1)} ns`,
    '',
    `${(recordNs / sortNs).toFixed(2)}× sort`,
  ),
);
console.log(
  `result check: PSI ${last.psi.toFixed(5)}, KS D ${last.ks.toFixed(5)}, p ${last.p.toExponential(3)}`,
);
const ok = psiKsMs <= 50 && sketchNs <= 1000;
console.log(ok ? 'goals met' : 'GOALS MISSED');
process.exitCode = ok ? 0 : 1;
