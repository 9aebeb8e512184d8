// Vitest reporter of the fault suite: after the run, one line per row — pass/fail/todo, time, and the
// counts the row reported (see report.ts) — and the suite's wall time.
import type { Reporter, TestModule } from 'vitest/node';
import type { RowCounts } from './report.js';

interface Row {
  name: string;
  state: string;
  seconds: string;
  counts: string;
}

function formatCounts(counts: RowCounts | undefined): string {
  if (!counts) return '';
  return Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Prints the fault table at the end of `npm run test:faults`. */
export default class FaultTableReporter implements Reporter {
  #started = Date.now();

  onTestRunStart(): void {
    this.#started = Date.now();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows: Row[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        const state = test.options.mode === 'todo' ? 'todo' : result.state;
        const duration = test.diagnostic()?.duration;
        rows.push({
          name: test.name,
          state: state === 'passed' ? 'pass' : state === 'failed' ? 'FAIL' : state,
          seconds: duration === undefined ? '' : (duration / 1000).toFixed(1),
          counts: formatCounts(test.meta().faultCounts),
        });
      }
    }
    const width = Math.max(4, ...rows.map((r) => r.name.length));
    const lines = [
      '',
      'Fault suite',
      `${'row'.padEnd(width)}  result  time(s)  counts`,
      ...rows.map(
        (r) =>
          `${r.name.padEnd(width)}  ${r.state.padEnd(6)}  ${r.seconds.padStart(7)}  ${r.counts}`,
      ),
      `${rows.filter((r) => r.state === 'pass').length} pass, ${
        rows.filter((r) => r.state === 'FAIL').length
      } fail, ${rows.filter((r) => r.state === 'todo').length} todo; wall time ${(
        (Date.now() - this.#started) /
        1000
      ).toFixed(0)} s`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
