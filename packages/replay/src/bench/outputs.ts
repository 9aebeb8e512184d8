// replay:outputs — writes every replay output file of the bench inputs (dense, sparse, sparse+2099) and of the
// hand-written fixture (testdata/basic.jsonl, drained 24h) to `<dir>/<input>/`, so two builds can be diffed byte
// for byte (`diff -r before/ after/`): the host's speed-ups must not change a single output line.
//   node packages/replay/dist/bench/outputs.js <dir> [--docs 600 --days 1 --sparse-docs 300 --seed 1]
import { readFile } from 'node:fs/promises';
import { replay } from '../index.js';
import { benchContracts, denseInput, sparseInputs, type BenchInput } from './inputs.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const dir = process.argv[2];
if (!dir || dir.startsWith('--')) {
  console.error('usage: outputs.js <dir> [--docs N --days N --sparse-docs N --seed N]');
  process.exit(2);
}
const seed = arg('seed', 1);
const { contracts, routing } = await benchContracts();
const basic = (await readFile('packages/replay/testdata/basic.jsonl', 'utf8'))
  .split('\n')
  .filter((l) => l.length > 0);
const { sparse, future } = sparseInputs(contracts, { seed, docs: arg('sparse-docs', 300) });
const inputs: BenchInput[] = [
  { name: 'basic', lines: basic, drainMs: 24 * 3_600_000, spanHours: 0 },
  denseInput(contracts, { seed, docs: arg('docs', 600), days: arg('days', 1) }),
  sparse,
  future,
];
for (const input of inputs) {
  const { summary } = await replay({
    input: input.lines,
    contracts,
    routing,
    out: `${dir}/${input.name}`,
    drainMs: input.drainMs,
  });
  console.log(
    `${input.name}: ${input.lines.length} lines, ${summary.findings.total} findings, ${summary.alerts.total} alerts, ` +
      `${summary.tickets.total} tickets, ${summary.dlq.total} dead letters`,
  );
}
