// npm run bench:contracts — 100k realistic content events: Ajv-only envelope validation (JSON.parse + the event
// schema, the floor of per-event cost) against full contract evaluation (the same validation, then every required
// field, allowed value, CEL rule, reference and null-rate counter of the example contracts through the checker's
// handler). Prints both rates and their ratio (goal ≥ 0.5); alternating rounds, best of each.
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  noopMetrics,
  parseEnvelope,
  resolveTopics,
  type HandlerContext,
  type InputRecord,
} from '@tidemark/core';
import { loadContractsOrThrow, type ContractSet } from '@tidemark/contracts';
import { readContractDir } from '@tidemark/contracts/node';
import {
  ContractCheckerState,
  createContractCheckerService,
  type ContractCheckerEvent,
} from '@tidemark/contract-checks';
import { alignProfiles, defaultFaultPlan, simulate } from '@tidemark/sim';

const N = 100_000;
const ROUNDS = 3;

const files = await readContractDir(
  fileURLToPath(new URL('../../../../contracts', import.meta.url)),
);
const contracts = loadContractsOrThrow(files);
// The same contracts with a shadow candidate (an identical copy, so every check runs twice: the worst case) beside
// every enforced system contract: what running a candidate costs the checker.
const withCandidates = loadContractsOrThrow([
  ...files,
  ...files
    .filter((f) => /^kind: SourceContract$/m.test(f.text) && !/^mode: shadow$/m.test(f.text))
    .map((f) => ({
      path: f.path.replace(/\.ya?ml$/, '-next.yaml'),
      text: f.text.replace(/^version: .*$/m, 'version: candidate\nmode: shadow'),
    })),
]);
const systems = contracts.systems;
// The simulator's events: realistic documents of the example contracts' systems and classes, with its default
// fault plan (a few percent of documents break a rule), so the checker does the work it does in production.
const sim = simulate({
  seed: 42,
  docs: 20_000,
  days: 5,
  start: Date.parse('2026-11-02T00:00:00Z'),
  faults: defaultFaultPlan(),
  profiles: alignProfiles(contracts),
});
const values: Buffer[] = [];
for (const rec of sim.events) {
  if (values.length === N) break;
  if (rec.encoding || rec.headers?.['ce_specversion'] || !rec.value.includes('"content.upserted"'))
    continue;
  try {
    if (parseEnvelope({ value: rec.value }).type !== 'content.upserted') continue;
  } catch {
    continue; // poison records are the DLQ's business, not this benchmark's
  }
  values.push(Buffer.from(rec.value));
}
if (values.length < N)
  throw new Error(`the simulation gave only ${values.length} content events; raise docs or days`);
const bytes = values.reduce((n, v) => n + v.length, 0);

const topics = resolveTopics();
const record = (value: Buffer, partition: number): InputRecord => ({
  topic: topics.contentChanges,
  partition,
  offset: '0',
  timestamp: '0',
  key: null,
  value,
  headers: {},
});

function ajvOnly(): number {
  const t0 = performance.now();
  let ok = 0;
  for (const value of values) if (parseEnvelope({ value }).type === 'content.upserted') ok++;
  if (ok !== N) throw new Error(`expected ${N} valid events, got ${ok}`);
  return performance.now() - t0;
}

let findings = 0;
function fullEvaluation(set: ContractSet = contracts): number {
  const service = createContractCheckerService({ contracts: set, topics });
  const states = [
    new ContractCheckerState(),
    new ContractCheckerState(),
    new ContractCheckerState(),
  ];
  const t0 = performance.now();
  findings = 0;
  for (let i = 0; i < values.length; i++) {
    const partition = i % 3;
    const ctx: HandlerContext = {
      now: 0,
      partition,
      service: 'contract-checker',
      topics,
      metrics: noopMetrics,
    };
    const event = parseEnvelope({ value: values[i]! }) as ContractCheckerEvent;
    findings += service.handle(
      states[partition]!,
      event,
      record(values[i]!, partition),
      ctx,
    ).length;
  }
  return performance.now() - t0;
}

let bestAjv = Infinity;
let bestFull = Infinity;
let bestShadow = Infinity;
let shadowFindings = 0;
for (let round = 0; round < ROUNDS; round++) {
  bestAjv = Math.min(bestAjv, ajvOnly());
  bestFull = Math.min(bestFull, fullEvaluation());
  bestShadow = Math.min(bestShadow, fullEvaluation(withCandidates));
  shadowFindings = findings;
}
const plainFindings = (() => {
  fullEvaluation();
  return findings;
})();
const rate = (ms: number) => Math.round((N / ms) * 1000);
const rules = systems.reduce(
  (n, s) =>
    n +
    contracts
      .contentClasses(s)
      .reduce((m, c) => m + (contracts.settingsFor(s, c)?.rules.length ?? 0), 0),
  0,
);
console.log(
  `bench:contracts — ${N} content.upserted events (${(bytes / N).toFixed(0)} B avg), ${systems.length} systems, ${rules} class rule sets`,
);
console.log(
  `  Ajv-only validation:        ${rate(bestAjv).toLocaleString('en')} events/s (${((bestAjv / N) * 1000).toFixed(2)} µs/event)`,
);
console.log(
  `  full contract evaluation:   ${rate(bestFull).toLocaleString('en')} events/s (${((bestFull / N) * 1000).toFixed(2)} µs/event), ${plainFindings} output records`,
);
console.log(
  `  + shadow candidates (${withCandidates.shadowSystems.join(', ')}): ${rate(bestShadow).toLocaleString('en')} events/s (${((bestShadow / N) * 1000).toFixed(2)} µs/event), ${shadowFindings} output records; ${(bestFull / bestShadow).toFixed(2)} of the rate without`,
);
console.log(`  ratio full/Ajv:             ${(bestAjv / bestFull).toFixed(2)} (goal ≥ 0.5)`);
