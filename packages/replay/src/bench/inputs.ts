// The inputs bench:replay and the output-identity script replay: a simulated run (dense), a 60-hour input with
// traffic only in the first 20 minutes of every 4th hour (sparse), and the sparse input with one record dated 2099
// in its middle. Deterministic for a seed, so two builds can be compared on the same lines.
import { readFile } from 'node:fs/promises';
import { parseTime } from '@tidemark/core';
import { loadContractDir } from '@tidemark/contracts/node';
import type { ContractSet } from '@tidemark/contracts';
import { parseRoutingConfig, type RoutingConfig } from '@tidemark/routing';
import { alignProfiles, defaultFaultPlan, simulate, type SimResult } from '@tidemark/sim';

/** The example contracts and routing every bench input is replayed with. */
export async function benchContracts(
  dir = 'contracts',
): Promise<{ contracts: ContractSet; routing: RoutingConfig }> {
  const contracts = await loadContractDir(dir);
  const routing = parseRoutingConfig(
    await readFile(`${dir}/routing.yaml`, 'utf8'),
    `${dir}/routing.yaml`,
  );
  return { contracts, routing };
}

export const BENCH_START = parseTime('2025-03-03T00:00:00Z');
const HOUR = 3_600_000;

/** One bench input: its lines and how far to drain past its last event. */
export interface BenchInput {
  name: string;
  lines: string[];
  drainMs: number;
  spanHours: number;
}

/** A simulated run with the default fault plan, and the drain that lets every fault become decidable. */
export function simulated(
  contracts: ContractSet,
  opts: { seed: number; docs: number; days: number },
): { sim: SimResult; records: Array<{ time: number; value: string }>; drainMs: number } {
  const sim = simulate({
    seed: opts.seed,
    docs: opts.docs,
    days: opts.days,
    start: BENCH_START,
    faults: defaultFaultPlan(),
    profiles: alignProfiles(contracts),
  });
  const records = [...sim.events] as Array<{ time: number; value: string }>;
  const end = parseTime(sim.meta.end);
  const drainMs = Math.max(0, parseTime(sim.meta.decidableBy ?? sim.meta.end) - end) + HOUR;
  return { sim, records, drainMs };
}

/** The dense input: a simulated run as is. */
export function denseInput(
  contracts: ContractSet,
  opts: { seed: number; docs: number; days: number },
): BenchInput & { sim: SimResult } {
  const { sim, records, drainMs } = simulated(contracts, opts);
  return {
    name: 'dense',
    sim,
    lines: records.map((r) => JSON.stringify(r)),
    drainMs,
    spanHours: opts.days * 24,
  };
}

/**
 * The sparse input (traffic in the first 20 minutes of every 4th hour of a 2.5-day run: 3h40m idle gaps) and the
 * same with one upsert dated 2099 (its envelope time and CloudEvent time) in its middle.
 */
export function sparseInputs(
  contracts: ContractSet,
  opts: { seed: number; docs: number },
): { sparse: BenchInput; future: BenchInput } {
  const { records } = simulated(contracts, { ...opts, days: 2.5 });
  const kept = records.filter((r) => (r.time - BENCH_START) % (4 * HOUR) < 20 * 60_000);
  const lines = kept.map((r) => JSON.stringify(r));
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
  return {
    sparse: { name: 'sparse', lines, drainMs: HOUR, spanHours: 60 },
    future: { name: 'sparse+2099', lines: withFuture, drainMs: HOUR, spanHours: 60 },
  };
}
