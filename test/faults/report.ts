// The counts a fault row reports, carried to the table reporter in the test's task meta (vitest hands
// task.meta to reporters), set before the assertions so a failing row still shows what it saw.
import type { TestContext } from 'vitest';

/** Counts of one row, e.g. { inputs: 2520, findings: 2000, dlq: 20, lost: 0, restarts: 0 }. */
export type RowCounts = Record<string, number | string>;

declare module 'vitest' {
  interface TaskMeta {
    /** Set by fault rows; printed by test/faults/table-reporter.ts. */
    faultCounts?: RowCounts;
  }
}

/** Adds counts to the row of this test (later values for the same name win). */
export function reportCounts(ctx: TestContext, counts: RowCounts): void {
  ctx.task.meta.faultCounts = { ...ctx.task.meta.faultCounts, ...counts };
}
