// bench:replay — replays simulated runs through every service in process and reports records/s, so changes to the
// host can be weighed against live-like input. Three inputs (bench/inputs.ts): dense (a simulated run as is, with its
// scorecard), sparse (60 hours of which only the first 20 minutes of every 4th hour carry traffic: long idle gaps),
// and the sparse input with one record dated 2099 (a producer with a broken clock) in its middle. The project rule:
// replay cost grows with events and due deadlines, never with the span of time — sparse runs at dense speed, and the
// 2099 record costs nothing (it is dead-lettered, MAX_FUTURE_SKEW).
import { performance } from 'node:perf_hooks';
import { formatScorecard, readFinding, score } from '@tidemark/sim';
import { memoryOutput, replay } from '../index.js';
import { benchContracts, denseInput, sparseInputs, type BenchInput } from './inputs.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const only = process.argv.includes('--case')
  ? process.argv[process.argv.indexOf('--case') + 1]
  : undefined;
const docs = arg('docs', 3000);
const days = arg('days', 2);
const seed = arg('seed', 1);
const { contracts, routing } = await benchContracts();
const HOUR = 3_600_000;

async function run({ name, lines, drainMs, spanHours }: BenchInput) {
  const out = memoryOutput();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { summary } = await replay({ input: lines, contracts, routing, out, drainMs });
  const ms = performance.now() - t0;
  // CPU time too: on a shared machine the wall clock measures the neighbours as much as the replay.
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    `${name.padEnd(14)} ${String(lines.length).padStart(7)} records over ${spanHours}h (+${(drainMs / HOUR).toFixed(1)}h drain) ` +
      `in ${(ms / 1000).toFixed(2).padStart(6)} s: ${String(Math.round(lines.length / (ms / 1000))).padStart(7)} records/s; ` +
      `${summary.findings.total} findings, ${summary.alerts.total} alerts, ${summary.tickets.total} tickets, ` +
      `${summary.dlq.total} dead letters; CPU ${(cpuMs / 1000).toFixed(2)} s: ` +
      `${Math.round(lines.length / (cpuMs / 1000))} records per CPU-second`,
  );
  return { out, ms };
}

if (!only || only === 'dense') {
  const dense = denseInput(contracts, { seed, docs, days });
  const { out } = await run(dense);
  const findings = out.lines('findings.jsonl').flatMap((l) => {
    const f = readFinding(JSON.parse(l));
    return f ? [f] : [];
  });
  console.log(formatScorecard(score({ truth: dense.sim.truth, findings })));
}

if (!only || only.startsWith('sparse')) {
  const { sparse, future } = sparseInputs(contracts, { seed, docs: arg('sparse-docs', 300) });
  const sparseRun = await run(sparse);
  if (only === 'sparse') process.exit(0);
  const futureRun = await run(future);
  console.log(`sparse+2099 / sparse time: ${(futureRun.ms / sparseRun.ms).toFixed(2)}x`);
}
