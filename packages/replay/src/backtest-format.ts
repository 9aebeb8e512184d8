// The text report of a backtest: totals, then a table of what changed per check, system and rule, with samples.
import type { BacktestResult, BacktestRow } from './backtest.js';

function changed(r: BacktestRow): boolean {
  return (
    r.old.firing !== r.new.firing ||
    r.old.resolved !== r.new.resolved ||
    r.onlyOld.count > 0 ||
    r.onlyNew.count > 0
  );
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i >= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** A backtest as text a steward reads in a contract pull request: what changes, per rule, with examples. */
export function formatBacktest(result: BacktestResult): string {
  const out: string[] = [];
  const { input, eventTime, totals } = result;
  out.push(
    `Backtest over ${input.records} events` +
      (eventTime.first ? ` from ${eventTime.first} to ${eventTime.last}` : '') +
      (input.rejected > 0 ? ` (${input.rejected} input lines not replayed)` : ''),
  );
  const list = (v: Record<string, string>) =>
    Object.entries(v)
      .map(([s, ref]) => `${s} (${ref})`)
      .join(', ') || 'none';
  out.push(`old contracts: ${list(result.contracts.old)}`);
  out.push(`new contracts: ${list(result.contracts.new)}`);
  out.push(
    `firing findings: old ${totals.old.firing}, new ${totals.new.firing} (${signed(totals.new.firing - totals.old.firing)}); ` +
      `problems only under old: ${totals.onlyOld}, only under new: ${totals.onlyNew}`,
  );
  const { shadow } = totals;
  if (shadow.old + shadow.new > 0) {
    const enforced = (side: 'old' | 'new') => totals[side].firing - shadow[side];
    out.push(
      `of which enforced: old ${enforced('old')}, new ${enforced('new')} (${signed(enforced('new') - enforced('old'))}); ` +
        `shadow (never alert): old ${shadow.old}, new ${shadow.new} (${signed(shadow.new - shadow.old)})`,
    );
  }
  const routed = result.routed;
  if (routed) {
    const { alerts, tickets } = routed;
    const count = (r: Record<string, number>, a: string) => r[a] ?? 0;
    out.push(
      `alerts (grouping, inhibition, silences applied): would have fired old ${alerts.old.firing}, new ${alerts.new.firing} times (${signed(alerts.new.firing - alerts.old.firing)}); resolved old ${alerts.old.resolved}, new ${alerts.new.resolved}`,
      `tickets: would have opened old ${count(tickets.old, 'open')}, new ${count(tickets.new, 'open')} (${signed(count(tickets.new, 'open') - count(tickets.old, 'open'))}); updates old ${count(tickets.old, 'update')}, new ${count(tickets.new, 'update')}; resolves old ${count(tickets.old, 'resolve')}, new ${count(tickets.new, 'resolve')}`,
    );
    const changedAlerts = routed.alertRows.filter(
      (r) => r.old.firing !== r.new.firing || r.old.resolved !== r.new.resolved,
    );
    if (changedAlerts.length > 0) {
      out.push('');
      out.push(
        ...table([
          ['alert check', 'system', 'receiver', 'old', 'new', 'change'],
          ...changedAlerts.map((r) => [
            r.check,
            r.system,
            r.receiver,
            String(r.old.firing),
            String(r.new.firing),
            signed(r.new.firing - r.old.firing),
          ]),
        ]),
      );
    }
  }
  const rows = result.rows.filter(changed);
  if (rows.length === 0) {
    out.push('', 'No difference: both versions fire the same findings on these events.');
    return `${out.join('\n')}\n`;
  }
  out.push('');
  const head = ['check', 'system', 'rule/field', 'old', 'new', 'change', 'only old', 'only new'];
  const cells = rows.map((r) => [
    r.check,
    r.system,
    r.rule || '-',
    String(r.old.firing),
    String(r.new.firing),
    signed(r.new.firing - r.old.firing),
    String(r.onlyOld.count),
    String(r.onlyNew.count),
  ]);
  out.push(...table([head, ...cells]));
  for (const r of rows) {
    const samples = [
      ...r.onlyOld.samples.map((s) => ['only old', s] as const),
      ...r.onlyNew.samples.map((s) => ['only new', s] as const),
    ];
    if (samples.length === 0) continue;
    out.push('', `${r.check} ${r.system}${r.rule ? ` ${r.rule}` : ''}:`);
    for (const [which, s] of samples) {
      out.push(
        `  ${which}: ${s.subject} at ${s.observedAt} [${s.severity}${s.shadow ? ', shadow' : ''}] ${s.summary}`,
      );
    }
    const more =
      r.onlyOld.count - r.onlyOld.samples.length + r.onlyNew.count - r.onlyNew.samples.length;
    if (more > 0) out.push(`  … and ${more} more`);
  }
  const same = result.rows.length - rows.length;
  if (same > 0) out.push('', `${same} unchanged row${same === 1 ? '' : 's'} not shown.`);
  return `${out.join('\n')}\n`;
}
