// A scorecard's verdict against pass marks, and its text form for the CLI, the demo and the bench reports.
import { formatDuration } from '@tidemark/core';
import type { Scorecard } from './score.js';

/** Pass marks for `failures`. */
export interface ScoreThresholds {
  /** Lowest acceptable recall of every check with injected faults. */
  minRecall?: number;
  /** Lowest acceptable precision of every check that reported anything. */
  minPrecision?: number;
  /** Longest acceptable time to detect (the maximum per check), ms. */
  maxTtdMs?: number;
}

/** Every way a scorecard falls short of the thresholds, one line each; empty when it passes. */
export function failures(card: Scorecard, thresholds: ScoreThresholds): string[] {
  const out: string[] = [];
  for (const row of card.checks) {
    if (
      thresholds.minRecall !== undefined &&
      row.recall !== null &&
      row.recall < thresholds.minRecall
    ) {
      out.push(
        `${row.check}: recall ${fixed(row.recall)} < ${fixed(thresholds.minRecall)} (${row.injected - row.detected} of ${row.injected} injected faults not found)`,
      );
    }
    if (
      thresholds.minPrecision !== undefined &&
      row.precision !== null &&
      row.precision < thresholds.minPrecision
    ) {
      out.push(
        `${row.check}: precision ${fixed(row.precision)} < ${fixed(thresholds.minPrecision)} (${row.falsePositives} of ${row.findings} findings match no injected fault)`,
      );
    }
    if (
      thresholds.maxTtdMs !== undefined &&
      row.ttd !== null &&
      row.ttd.maxMs > thresholds.maxTtdMs
    ) {
      out.push(
        `${row.check}: time to detect up to ${formatDuration(row.ttd.maxMs)} > ${formatDuration(thresholds.maxTtdMs)}`,
      );
    }
  }
  return out;
}

const fixed = (v: number) => v.toFixed(2);

/** The scorecard as a plain-text table, with samples of what was missed and what was wrongly reported. */
export function formatScorecard(card: Scorecard): string {
  const header = [
    'check',
    'injected',
    'detected',
    'recall',
    'findings',
    'FP',
    'precision',
    'TTD p50',
    'mean',
    'max',
  ];
  const dur = (ms: number | undefined) =>
    ms === undefined ? '—' : formatDuration(Math.round(ms / 1000) * 1000);
  const ratio = (v: number | null) => (v === null ? '—' : fixed(v));
  const rows = card.checks.map((r) => [
    r.check,
    String(r.injected),
    String(r.detected),
    ratio(r.recall),
    String(r.findings),
    String(r.falsePositives),
    ratio(r.precision),
    dur(r.ttd?.p50Ms),
    dur(r.ttd?.meanMs),
    dur(r.ttd?.maxMs),
  ]);
  const t = card.total;
  rows.push([
    'total',
    String(t.injected),
    String(t.detected),
    ratio(t.recall),
    String(t.findings),
    String(t.falsePositives),
    ratio(t.precision),
    '',
    '',
    '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.slice(0, -1).map(line),
  ];
  out.push(line(widths.map((w) => '-'.repeat(w))), line(rows[rows.length - 1]!));
  const where = (s: {
    system: string;
    docId?: string | undefined;
    connector?: string | undefined;
    field?: string | undefined;
    feature?: string | undefined;
  }) =>
    [s.docId ? `${s.system}/${s.docId}` : s.system, s.connector, s.field, s.feature]
      .filter(Boolean)
      .join(' ');
  for (const r of card.checks) {
    for (const m of r.missed)
      out.push(`missed      ${r.check} ${where(m.subject)} (injected ${m.injectedAt})`);
  }
  for (const r of card.checks) {
    for (const f of r.falseAlarms)
      out.push(`false alarm ${r.check} ${where(f.subject)} (observed ${f.observedAt})`);
  }
  return `${out.join('\n')}\n`;
}
