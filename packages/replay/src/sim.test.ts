import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTime } from '@tidemark/core';
import { loadContractDir } from '@tidemark/contracts/node';
import { alignProfiles, defaultFaultPlan, readFinding, score, simulate } from '@tidemark/sim';
import { parseRoutingConfig } from '@tidemark/routing';
import { memoryOutput, REPLAY_FILES, replay } from './index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// Checks this run cannot decide, and why: framed records need a Schema Registry decoder (none here); null-rate and
// drift need more changes per window than a few hundred documents make (bench:replay shows them at 20,000).
const UNDECIDABLE_HERE = [
  'contract.schema',
  'contract.null-rate',
  'drift.numeric',
  'drift.categorical',
  'drift.volume',
];

describe('replay of a simulated run with every kind of fault', () => {
  it('finds every injected fault its checks can decide, nothing else, and the same on a second run', async () => {
    const contracts = await loadContractDir(join(ROOT, 'contracts'));
    const sim = simulate({
      seed: 11,
      docs: 300,
      days: 1,
      start: parseTime('2025-03-03T00:00:00Z'),
      faults: defaultFaultPlan(),
      profiles: alignProfiles(contracts),
    });
    const lines = () => Array.from(sim.events, (r) => JSON.stringify(r));
    // Run the clock to where the simulator says every required fault is decidable.
    const drainMs = Math.max(
      0,
      parseTime(sim.meta.decidableBy ?? sim.meta.end) - parseTime(sim.meta.end),
    );
    const out = memoryOutput();
    await replay({ input: lines(), contracts, out, drainMs });
    const findings = out.lines('findings.jsonl').flatMap((l) => {
      const f = readFinding(JSON.parse(l));
      return f ? [f] : [];
    });
    const card = score({ truth: sim.truth, findings, ignoreChecks: UNDECIDABLE_HERE });
    const missed = card.checks.flatMap((c) =>
      c.missed.map((m) => `${c.check} ${JSON.stringify(m.subject)}`),
    );
    expect(missed).toEqual([]);
    const falseAlarms = card.checks.flatMap((c) =>
      c.falseAlarms.map((f) => `${c.check} ${JSON.stringify(f.subject)}`),
    );
    expect(falseAlarms).toEqual([]);
    expect(card.checks.filter((c) => c.injected > 0).length).toBeGreaterThan(10);

    const again = memoryOutput();
    await replay({ input: lines(), contracts, out: again, drainMs });
    expect(again.text('findings.jsonl')).toBe(out.text('findings.jsonl'));
    expect(again.text('dlq.jsonl')).toBe(out.text('dlq.jsonl'));
  }, 120_000);
});

describe('skipping idle ticks (nextTick) on a simulated run', () => {
  // Every service declares nextTick (contract-checker, freshness, parity, drift, router): a round is run only when
  // one of them is due. Over a day with every fault, routed, that must change no output byte: a nextTick that is
  // ever late (a deadline, a partial, a group flush, an escalation or a cleanup sweep it does not report) shows here.
  it('gives the same files as ticking every boundary', async () => {
    const contracts = await loadContractDir(join(ROOT, 'contracts'));
    const routing = parseRoutingConfig(
      await readFile(join(ROOT, 'contracts/routing.yaml'), 'utf8'),
      'routing.yaml',
    );
    const sim = simulate({
      seed: 5,
      docs: 60,
      days: 1.5,
      start: parseTime('2025-03-03T00:00:00Z'),
      // A mass removal needs a system of 50+ documents (the first test runs it); 60 keep this one quick.
      faults: {
        faults: defaultFaultPlan().faults.filter((f) => f.kind !== 'parity.mass-removal'),
      },
      profiles: alignProfiles(contracts),
    });
    const lines = Array.from(sim.events, (r) => JSON.stringify(r));
    // Past the router's 24h retention of resolved findings, so cleanup sweeps happen too.
    const drainMs = 26 * 3_600_000;
    // Minute ticks keep the run that ticks every boundary short (the cleanup cadence is a minute too).
    const opts = { input: lines, contracts, routing, drainMs, tickMs: 60_000 };
    const skipped = memoryOutput();
    const ticked = memoryOutput();
    await replay({ ...opts, out: skipped });
    await replay({ ...opts, out: ticked, skipIdleTicks: false });
    for (const f of REPLAY_FILES) expect(skipped.text(f), f).toBe(ticked.text(f));
    expect(skipped.lines('findings.jsonl').length).toBeGreaterThan(50);
    expect(skipped.lines('alerts.jsonl').length).toBeGreaterThan(0);
  }, 120_000);
});
