// npm run bench — runs every benchmark (the root package.json's bench:* scripts) one after another on this
// machine and prints one table of their headline numbers next to the baseline each measured in the same run, so
// runs on different machines compare by ratio. Each benchmark's full output goes to BENCH_OUT (default
// .cache/bench/<bench>.log). Options: --only drift,router   BENCH_PARITY_IDS (default 1,000,000; 10M is the goal
// size but needs ~6 GB). The runtime benchmark needs the local broker (KAFKA_BROKERS / npm run kafka:up).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What to read from each benchmark's output: rows of [measure, value, same-run ratio, goal]. Each pattern is a
 * line the benchmark prints; one that no longer matches shows as "(not found)" instead of a wrong number.
 */
export const BENCHES = {
  drift: {
    args: [],
    rows: [
      [
        /^PSI \+ KS, 100k window vs 100k baseline\s+([\d.]+ ms)\s+(≤ 50 ms)\s+([\d.]+)× sort/,
        'PSI + KS, 100k vs 100k',
        'vs sorting the same arrays',
      ],
      [
        /^KLL sketch update, per value \(1M\)\s+([\d.]+ ns)\s+(≤ 1000 ns)\s+([\d.]+)× sort/,
        'sketch update per value',
        'vs sort per value',
      ],
    ],
  },
  router: {
    args: [],
    rows: [
      [/router:\s+([\d,]+ findings\/s)/, 'router throughput', null],
      [
        /router\/baseline time ratio ([\d.]+)×/,
        'router time per finding',
        'vs building its label map',
        { ratioOnly: true },
      ],
      [
        /latency:\s+p50 ([\d.]+ µs), p99 ([\d.]+ µs)/,
        'routing latency p50 / p99',
        null,
        { join: true },
      ],
    ],
  },
  contracts: {
    args: [],
    rows: [
      [/full contract evaluation:\s+([\d,]+ events\/s)/, 'full contract evaluation', null],
      [
        /ratio full\/Ajv:\s+([\d.]+) \(goal (≥ 0.5)\)/,
        'contract eval / Ajv-only rate',
        'vs Ajv envelope validation',
        { ratioOnly: true, goalFrom: 2 },
      ],
    ],
  },
  freshness: {
    args: [],
    rows: [
      [
        /memory: ([\d.]+ B\/doc) \(.*goal (≤ 200)\)/,
        'ledger memory per document',
        null,
        { goalFrom: 2 },
      ],
      [
        /ledger uses ([\d.]+)× of it/,
        'ledger memory',
        'vs a Map<string, object> ledger',
        { ratioOnly: true },
      ],
      [
        /applyEvent \(parsed events[^:]*: [\d,]+ ms per 100k events \(([\dk,]+ events\/s)\)/,
        'ledger events',
        null,
      ],
      [
        /tick with 1,000 due: .*\(ratio ([\d.]+);/,
        'tick cost at 1M vs 100k tracked',
        'vs the same tick at 100k',
        { ratioOnly: true },
      ],
      [/restore ([\d.]+ s)/, 'restore 1M documents', null],
    ],
  },
  parity: {
    args: () => ['--', '--ids', process.env['BENCH_PARITY_IDS'] ?? '1000000'],
    rows: [
      [/time total\s+([\d.]+ ?m?s) wall/, 'reconcile 2 × N ids (wall)', null],
      [
        /sort raw 64-bit hashes .*reconciliation \/ baseline = ([\d.]+)x CPU/,
        'reconciliation CPU',
        'vs hash + sort both sides',
        { ratioOnly: true },
      ],
      [
        /JS Set of strings .*reconciliation \/ baseline = [\d.]+x CPU, ([\d.]+)x memory/,
        'reconciliation memory',
        'vs a JS Set of the ids',
        { ratioOnly: true },
      ],
      [/extra memory\s+([\d.]+ ?[MG]B)/, 'extra memory', null],
    ],
  },
  runtime: {
    args: [],
    rows: [
      [/raw kafkajs eachBatch \(count only\):\s+([\d,]+ records\/s)/, 'raw kafkajs consumer', null],
      [
        /raw kafkajs eachBatch \+ JSON\.parse:\s+([\d,]+ records\/s)\s+ratio ([\d.]+)/,
        'raw kafkajs + JSON.parse',
        'vs raw kafkajs',
      ],
      [
        /runtime, no-op handler, default decode:\s+([\d,]+ records\/s)\s+ratio ([\d.]+)/,
        'runtime, envelope decode',
        'vs raw kafkajs',
      ],
      [
        /runtime, no-op handler, pass-through decode:\s+([\d,]+ records\/s)\s+ratio ([\d.]+)/,
        'runtime, pass-through',
        'vs raw kafkajs',
      ],
    ],
  },
  replay: {
    args: [],
    rows: [
      [
        /in ([\d.]+ s): ([\d,]+ records\/s)/,
        'replay through all five services',
        null,
        { valueFrom: 2 },
      ],
      [/^total\s+\d+\s+\d+\s+([\d.]+)/, 'scorecard recall', null],
    ],
  },
};

/** Rows [bench, measure, value, ratio, baseline, goal] read from one benchmark's output. */
export function extract(bench, output) {
  const lines = output.split('\n').map((l) => l.trim());
  return BENCHES[bench].rows.map(([pattern, measure, baseline, opts = {}]) => {
    const m = lines.map((l) => pattern.exec(l)).find(Boolean);
    if (!m) return [bench, measure, '(not found)', '', baseline ?? '', ''];
    let value = m[opts.valueFrom ?? 1];
    let ratio = '';
    let goal = '';
    if (opts.join) value = `${m[1]} / ${m[2]}`;
    else if (opts.ratioOnly) {
      ratio = `${m[1]}×`;
      value = '';
    } else if (baseline) {
      // A value followed by its ratio, or (drift) value, goal, ratio.
      ratio = `${m[m.length - 1]}×`;
      if (m.length === 4) goal = m[2];
    }
    if (opts.goalFrom) goal = m[opts.goalFrom];
    return [bench, measure, value, ratio, baseline ?? '', goal];
  });
}

export function formatTable(rows) {
  const head = ['bench', 'measure', 'value', 'same-run ratio', 'baseline (same run)', 'goal'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function run(bench) {
  const spec = BENCHES[bench];
  const args = typeof spec.args === 'function' ? spec.args() : spec.args;
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('npm', ['run', '-s', `bench:${bench}`, ...args], { cwd: root });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
      process.stderr.write(c);
    });
    child.stderr.on('data', (c) => {
      output += c;
      process.stderr.write(c);
    });
    child.on('close', (code) => resolve({ output, code, seconds: (Date.now() - started) / 1000 }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--only');
  const only = i > 0 ? process.argv[i + 1].split(',') : Object.keys(BENCHES);
  const unknown = only.filter((b) => !(b in BENCHES));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`,
    );
    process.exit(2);
  }
  const outDir = process.env['BENCH_OUT'] ?? join(root, '.cache/bench');
  mkdirSync(outDir, { recursive: true });
  const rows = [];
  const status = [];
  for (const bench of only) {
    process.stderr.write(`\n==== bench:${bench}\n`);
    const { output, code, seconds } = await run(bench);
    writeFileSync(join(outDir, `${bench}.log`), output);
    rows.push(...extract(bench, output));
    status.push(`${bench} ${code === 0 ? 'ok' : `exit ${code}`} in ${seconds.toFixed(0)} s`);
  }
  console.log(
    `\nTidemark benchmarks — node ${process.version}, ${(await import('node:os')).cpus().length} cores, ${new Date().toISOString()}`,
  );
  console.log(formatTable(rows));
  console.log(`\n${status.join('; ')}. Full output: ${outDir}/<bench>.log`);
  // A benchmark that missed a goal exits 1 on its own; the table is printed either way.
  if (status.some((s) => !s.includes(' ok '))) process.exitCode = 1;
}
