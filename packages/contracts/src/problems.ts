import { ConfigError } from '@tidemark/core';

/** One reason a contract file cannot be used, at a 1-based line and column. */
export interface LintProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Formats one problem as `file:line:column: message` (the form editors and CI annotate). */
export function formatProblem(problem: LintProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`;
}

/** Formats problems one per line, in file/line/column order. */
export function formatProblems(problems: readonly LintProblem[]): string {
  return sortProblems(problems).map(formatProblem).join('\n');
}

/** Sorts by file, line, column, message and drops exact duplicates. */
export function sortProblems(problems: readonly LintProblem[]): LintProblem[] {
  const sorted = [...problems].sort(
    (a, b) =>
      compare(a.file, b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      compare(a.message, b.message),
  );
  return sorted.filter(
    (p, i) => i === 0 || formatProblem(p) !== formatProblem(sorted[i - 1] as LintProblem),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Contracts that do not lint: services refuse to start on them (fail closed), listing every problem. */
export class ContractLintError extends ConfigError {
  readonly lintProblems: readonly LintProblem[];

  constructor(problems: readonly LintProblem[]) {
    const sorted = sortProblems(problems);
    super(
      `contracts do not lint (${sorted.length} problem${sorted.length === 1 ? '' : 's'})`,
      sorted.map(formatProblem),
    );
    this.lintProblems = Object.freeze(sorted);
  }
}
