// scripts/bench.mjs reads each benchmark's headline lines into one table; a line it no longer recognises shows as
// "(not found)" rather than a wrong number.
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without types
import { extract, formatTable } from '../../scripts/bench.mjs';

type Row = [string, string, string, string, string, string];
const rows = (bench: string, output: string) => extract(bench, output) as Row[];

describe('scripts/bench.mjs', () => {
  it.each([
    [
      'drift',
      'PSI + KS, 100k window vs 100k baseline            243.88 ms  ≤ 50 ms    1.05× sort',
      [
        'drift',
        'PSI + KS, 100k vs 100k',
        '243.88 ms',
        '1.05×',
        'vs sorting the same arrays',
        '≤ 50 ms',
      ],
    ],
    [
      'runtime',
      'runtime, no-op handler, default decode:          41,230 records/s  ratio 0.62  (vs raw + JSON.parse 0.81)',
      ['runtime', 'runtime, envelope decode', '41,230 records/s', '0.62×', 'vs raw kafkajs', ''],
    ],
    [
      'runtime',
      'raw kafkajs eachBatch + JSON.parse:               98,400 records/s  ratio 0.76',
      ['runtime', 'raw kafkajs + JSON.parse', '98,400 records/s', '0.76×', 'vs raw kafkajs', ''],
    ],
    [
      'contracts',
      '  ratio full/Ajv:             0.34 (goal ≥ 0.5)',
      [
        'contracts',
        'contract eval / Ajv-only rate',
        '',
        '0.34×',
        'vs Ajv envelope validation',
        '≥ 0.5',
      ],
    ],
    [
      'router',
      '  baseline: 749,311 label maps/s (same run); router/baseline time ratio 65.5×',
      ['router', 'router time per finding', '', '65.5×', 'vs building its label map', ''],
    ],
  ])('reads %s', (bench, line, expected) => {
    expect(rows(bench, `noise\n${line}\nmore noise`)).toContainEqual(expected);
  });

  it('marks a headline it cannot find instead of inventing one', () => {
    const out = rows('runtime', 'the benchmark printed something else');
    expect(out.map((r) => r[2])).toEqual([
      '(not found)',
      '(not found)',
      '(not found)',
      '(not found)',
    ]);
  });

  it('prints one aligned table', () => {
    const table = formatTable([['a', 'measure', '1 ms', '2.00×', 'vs b', '']]) as string;
    expect(table.split('\n')).toEqual([
      'bench  measure  value  same-run ratio  baseline (same run)  goal',
      '-----  -------  -----  --------------  -------------------  ----',
      'a      measure  1 ms   2.00×           vs b',
    ]);
  });
});
