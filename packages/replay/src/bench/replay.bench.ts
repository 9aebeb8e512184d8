// bench:replay — replays simulated runs through every service in process and reports records/s, so changes to the
// host can be weighed against live-like input. Three inputs: dense (a simulated run as is, with its scorecard),
// sparse (60 hours of which only the first 20 minutes of every 4th hour carry traffic: long idle gaps), and the
// sparse input with one record dated 2099 (a producer with a broken clock) in its middle. The project rule: replay
// cost grows with events and due deadlines, never with the span of time — sparse runs at dense speed, and the 2099
// record costs nothing (it is dead-lettered, MAX_FUTURE_SKEW).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseTime } from '@tidemark/core';
import { loadContractDir } from '@tidemark/contracts/node';
import { parseRoutingConfig } from '@tidemark/routing';
import {
  alignProfiles,
  defaultFaultPlan,
  formatScorecard,
  readFinding,
  score,
  simulate,
} from '@tidemark/sim';
import { memoryOutput, replay } from '../index.js';

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
const contracts = await loadContractDir('contracts');
const routing = parseRoutingConfig(
  await readFile('contracts/routing.yaml', 'utf8'),
  'contracts/routing.yaml',
);
const START = parseTime('2025-03-03T00:00:00Z');
const HOUR = 3_600_000;

function simulated(simDocs: number, simDays: number) {
  const sim = simulate({
    seed,
    docs: simDocs,
    days: simDays,
    start: START,
    faults: defaultFaultPlan(),
    profiles: alignProfiles(contracts),
  });
  const records = [...sim.events] as Array<{ time: number; value: string }>;
  const end = parseTime(sim.meta.end);
  const drainMs = Math.max(0, parseTime(sim.meta.decidableBy ?? sim.meta.end) - end) + HOUR;
  return { sim, records, drainMs };
}

async function run(name: string, lines: string[], drainMs: number, spanHours: number) {
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
  const { sim, records, drainMs } = simulated(docs, days);
  const { out } = await run(
    'dense',
    records.map((r) => JSON.stringify(r)),
    drainMs,
    days * 24,
  );
  const findings = out.lines('findings.jsonl').flatMap((l) => {
    const f = readFinding(JSON.parse(l));
    return f ? [f] : [];
  });
  console.log(formatScorecard(score({ truth: sim.truth, findings })));
}

if (!only || only.startsWith('sparse')) {
  const { records } = simulated(arg('sparse-docs', 300), 2.5);
  // Traffic in the first 20 minutes of every 4th hour only: 3h40m idle gaps between bursts.
  const kept = records.filter((r) => (r.time - START) % (4 * HOUR) < 20 * 60_000);
  const lines = kept.map((r) => JSON.stringify(r));
  const drainMs = HOUR;
  const sparse = await run('sparse', lines, drainMs, 60);
  if (only === 'sparse') process.exit(0);
  // One upsert dated 2099 in the middle of the stream: its envelope time and its CloudEvent time.
  const middle = kept.findIndex(
    (r, i) => i >= kept.length / 2 && r.value.includes('content.upserted'),
  );
  const far = Date.parse('2099-01-01T00:00:00Z');
  const broken = {
    ...kept[middle]!,
    time: far,
    value: kept[middle]!.value.replace(/"time":"[^"]+"/, `"time":"${new Date(far).toISOString()}"`),
  };
  const withFuture = [...lines.slice(0, middle), JSON.stringify(broken), ...lines.slice(middle)];
  const future = await run('sparse+2099', withFuture, drainMs, 60);
  console.log(`sparse+2099 / sparse time: ${(future.ms / sparse.ms).toFixed(2)}x`);
}
