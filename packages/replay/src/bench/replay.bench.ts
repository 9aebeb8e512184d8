// bench:replay — replays a simulated run (default fault plan) through every service in process and reports
// records/s, tick cost and the scorecard, so changes to the host can be weighed against live-like input.
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
const docs = arg('docs', 3000);
const days = arg('days', 2);
const contracts = await loadContractDir('contracts');
const routing = parseRoutingConfig(
  await readFile('contracts/routing.yaml', 'utf8'),
  'contracts/routing.yaml',
);
const sim = simulate({
  seed: arg('seed', 1),
  docs,
  days,
  start: parseTime('2025-03-03T00:00:00Z'),
  faults: defaultFaultPlan(),
  profiles: alignProfiles(contracts),
});
const lines: string[] = [];
for (const r of sim.events) lines.push(JSON.stringify(r));
const end = parseTime(sim.meta.end);
const drainMs = Math.max(0, parseTime(sim.meta.decidableBy ?? sim.meta.end) - end) + 3_600_000;
const out = memoryOutput();
const t0 = performance.now();
const { summary } = await replay({ input: lines, contracts, routing, out, drainMs });
const ms = performance.now() - t0;
console.log(
  `${lines.length} records, ${days} days (+${drainMs / 3_600_000}h drain) in ${(ms / 1000).toFixed(2)} s: ` +
    `${Math.round(lines.length / (ms / 1000))} records/s; ${summary.findings.total} findings, ` +
    `${summary.alerts.total} alerts, ${summary.tickets.total} tickets, ${summary.dlq.total} dead letters`,
);
const findings = out.lines('findings.jsonl').flatMap((l) => {
  const f = readFinding(JSON.parse(l));
  return f ? [f] : [];
});
console.log(formatScorecard(score({ truth: sim.truth, findings })));
