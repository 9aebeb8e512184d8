// Benchmark of the alert-router's pure logic: `npm run bench:router`.
// 100k findings over 10k fingerprints, routed by contracts/routing.yaml into 200 alert groups (50 systems ×
// 4 alert checks) plus steward tickets; reports findings/s, p50/p99 routing latency per finding, and the
// ratio to a same-run baseline (building each finding's label map, the least any router must do).
import { readFileSync } from 'node:fs';
import { buildFinding, findingFingerprint } from '@tidemark/core';
import type { Finding } from '@tidemark/core';
import { parseRoutingConfig } from '../config.js';
import type { RoutingConfig } from '../config.js';
import { findingLabels } from '../labels.js';
import { createRouter } from '../router.js';
import { RouterState } from '../state.js';

const FINDINGS = 100_000;
const FINGERPRINTS = 10_000;
const SYSTEMS = 50;
const ALERT_CHECKS = [
  'freshness.sync-lag',
  'parity.orphan',
  'drift.numeric',
  'contract.schema',
] as const;
const T0 = Date.parse('2025-03-03T10:00:00Z');
const STEP_MS = 10; // event time between findings: 100k findings span ~17 minutes
const TICK_EVERY = 100; // the host ticks once per simulated second
const RUNS = 3;

// A seeded generator (mulberry32) so every run routes the same sequence.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function subjectOf(
  i: number,
  system: number,
): { system: string; connector: string; docId: string; contentClass: string } {
  return {
    system: `sys${system}`,
    connector: `conn${system}`,
    docId: `doc${i}`,
    contentClass: 'page',
  };
}

function makeFindings(): Finding[] {
  const random = rng(42);
  // Each fingerprint: a fixed check (9 in 10 alert checks, 1 in 10 steward tickets) and subject.
  const templates = Array.from({ length: FINGERPRINTS }, (_, i) => {
    const check =
      random() < 0.1
        ? 'freshness.review-overdue'
        : (ALERT_CHECKS[Math.floor(random() * 4)] as string);
    const subject = subjectOf(i, Math.floor(random() * SYSTEMS));
    return { check, subject, fingerprint: findingFingerprint(check, subject) };
  });
  const out: Finding[] = [];
  for (let n = 0; n < FINDINGS; n++) {
    const t = templates[Math.floor(random() * FINGERPRINTS)]!;
    out.push(
      buildFinding({
        check: t.check,
        fingerprint: t.fingerprint,
        status: random() < 0.8 ? 'firing' : 'resolved',
        severity: random() < 0.5 ? 'warning' : 'high',
        subject: t.subject,
        owner: { steward: `steward${n % 7}`, team: 'content' },
        summary: `${t.check} on ${t.subject.docId}`,
        evidence: {},
        observedAt: new Date(T0 + n * STEP_MS).toISOString(),
      }),
    );
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

interface RunStats {
  routerNs: number;
  latency: Float64Array;
  tickNs: number;
  alerts: number;
  tickets: number;
  groups: number;
  stateSize: number;
}

function routeAll(config: RoutingConfig, findings: readonly Finding[]): RunStats {
  const router = createRouter({ config });
  const state = new RouterState(0);
  const latency = new Float64Array(findings.length);
  let alerts = 0;
  let tickets = 0;
  let tickNs = 0;
  const groups = new Set<string>();
  const r0 = process.hrtime.bigint();
  for (let n = 0; n < findings.length; n++) {
    const now = T0 + n * STEP_MS;
    const s = process.hrtime.bigint();
    router.ingest(state, findings[n]!, now);
    latency[n] = Number(process.hrtime.bigint() - s);
    if (n % TICK_EVERY === TICK_EVERY - 1) {
      const t = process.hrtime.bigint();
      const out = router.tick(state, now);
      tickNs += Number(process.hrtime.bigint() - t);
      alerts += out.alerts.length;
      tickets += out.tickets.length;
      for (const a of out.alerts) groups.add(a.groupKey);
    }
  }
  const routerNs = Number(process.hrtime.bigint() - r0);
  state.drainChanges();
  latency.sort();
  return {
    routerNs,
    latency,
    tickNs,
    alerts,
    tickets,
    groups: groups.size,
    stateSize: state.size(),
  };
}

function baseline(findings: readonly Finding[]): { ns: number; sink: number } {
  let sink = 0;
  const b0 = process.hrtime.bigint();
  for (const f of findings) sink += Object.keys(findingLabels(f)).length;
  return { ns: Number(process.hrtime.bigint() - b0), sink };
}

const median = <T>(xs: T[], by: (x: T) => number): T =>
  [...xs].sort((a, b) => by(a) - by(b))[Math.floor(xs.length / 2)]!;

function main(): void {
  const file = new URL('../../../../contracts/routing.yaml', import.meta.url);
  const config = parseRoutingConfig(readFileSync(file, 'utf8'), 'contracts/routing.yaml');
  const findings = makeFindings();

  // Warm up the JIT on a slice, then measure three full runs (each on fresh state) and report the median:
  // the machine is shared, and a single run swings with whatever else is running.
  routeAll(config, findings.slice(0, 20_000));
  baseline(findings);
  const runs: RunStats[] = [];
  const bases: Array<{ ns: number; sink: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    bases.push(baseline(findings));
    runs.push(routeAll(config, findings));
  }
  const run = median(runs, (r) => r.routerNs);
  const base = median(bases, (b) => b.ns);
  const perSec = (ns: number): number => Math.round(FINDINGS / (ns / 1e9));
  const us = (ns: number): string => (ns / 1000).toFixed(1);
  const lines = [
    `bench:router — ${FINDINGS} findings, ${FINGERPRINTS} fingerprints, ${run.groups} alert groups (node ${process.version}, median of ${RUNS} runs)`,
    `  router:   ${perSec(run.routerNs).toLocaleString('en-US')} findings/s (ingest + ${FINDINGS / TICK_EVERY} ticks, ${(run.routerNs / 1e6).toFixed(0)} ms; runs ${runs.map((r) => perSec(r.routerNs).toLocaleString('en-US')).join(' / ')})`,
    `  latency:  p50 ${us(percentile(run.latency, 0.5))} µs, p99 ${us(percentile(run.latency, 0.99))} µs, max ${us(run.latency[FINDINGS - 1] ?? 0)} µs per finding; tick avg ${us(run.tickNs / (FINDINGS / TICK_EVERY))} µs`,
    `  baseline: ${perSec(base.ns).toLocaleString('en-US')} label maps/s (same run); router/baseline time ratio ${(run.routerNs / base.ns).toFixed(1)}×`,
    `  output:   ${run.alerts} alert notifications, ${run.tickets} ticket actions, state ${run.stateSize} entries (checksum ${base.sink})`,
  ];
  console.log(lines.join('\n'));
}

main();
