import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContractsOrThrow, type ContractSet } from '@tidemark/contracts';
import { readContractDir } from '@tidemark/contracts/node';
import { formatTime, parseTime } from '@tidemark/core';
import { parseMatchers, parseRoutingConfig, type RoutingConfig } from '@tidemark/routing';
import { backtest, formatBacktest, type BacktestProgress } from './index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'packages/replay/testdata/basic.jsonl');
const DAY = 86_400_000;

let routing: RoutingConfig;
let oldContracts: ContractSet;
let newContracts: ContractSet;
/** Runbook upserts of the fixture, in input order, that pass the event schema (integer revision): the documents a new rule sees. */
let runbooks: string[];
/** Of those, the ones deleted later (a deletion resolves a document's open findings). */
let deleted: string[];

beforeAll(async () => {
  const files = await readContractDir(join(ROOT, 'contracts'));
  routing = parseRoutingConfig(
    await readFile(join(ROOT, 'contracts/routing.yaml'), 'utf8'),
    'contracts/routing.yaml',
  );
  oldContracts = loadContractsOrThrow(files);
  // The contract change under review: runbooks must now carry an effective date, in confluence v4.
  const changed = files.map((f) => {
    if (!f.path.endsWith('confluence.yaml')) return f;
    const text = f.text
      .replace('version: 3', 'version: 4')
      .replace(/( {2}runbook:[\s\S]*?required: \[reviewedAt)\]/, '$1, effectiveDate]');
    expect(text).not.toBe(f.text);
    return { ...f, text };
  });
  newContracts = loadContractsOrThrow(changed);
  const events = (await readFile(FIXTURE, 'utf8')).split('\n').flatMap((l) => {
    try {
      const v = JSON.parse(l) as {
        type?: string;
        value?: string;
        data?: { docId: string; revision: unknown; contentClass: string };
      };
      return [typeof v.value === 'string' ? (JSON.parse(v.value) as typeof v) : v];
    } catch {
      return [];
    }
  });
  runbooks = events
    .filter((e) => e.type === 'content.upserted' && Number.isInteger(e.data?.revision))
    .filter((e) => e.data?.contentClass === 'runbook')
    .map((e) => e.data!.docId);
  deleted = events
    .filter((e) => e.type === 'content.deleted' && runbooks.includes(e.data!.docId))
    .map((e) => e.data!.docId);
});

describe('backtest', () => {
  it('shows what a new required field fires, per rule, and nothing else changing', async () => {
    const progress: BacktestProgress[] = [];
    const result = await backtest({
      input: FIXTURE,
      oldContracts,
      newContracts,
      drainMs: DAY,
      onProgress: (p) => progress.push(p),
    });
    expect(progress.at(-1)).toEqual({
      phase: 'done',
      lines: 15,
      records: 12,
      eventTime: formatTime(parseTime(result.eventTime.last!) + DAY),
    });
    const row = result.rows.find(
      (r) =>
        r.check === 'contract.required' && r.system === 'confluence' && r.rule === 'effectiveDate',
    );
    expect(row).toBeDefined();
    expect(row!.old).toEqual({ firing: 0, resolved: 0 });
    expect(row!.new).toEqual({ firing: runbooks.length, resolved: deleted.length });
    expect(deleted.length).toBeGreaterThan(0);
    expect(row!.onlyOld.count).toBe(0);
    expect(row!.onlyNew.count).toBe(runbooks.length);
    expect(row!.onlyNew.samples.map((s) => s.subject)).toEqual(
      // The first problems to fire, in event order.
      runbooks.slice(0, 3).map((d) => `confluence/${d}`),
    );
    // Every other row fires the same under both versions.
    for (const r of result.rows.filter((x) => x !== row)) {
      expect([r.check, r.rule, r.old]).toEqual([r.check, r.rule, r.new]);
      expect([r.onlyOld.count, r.onlyNew.count]).toEqual([0, 0]);
    }
    expect(result.totals.new.firing - result.totals.old.firing).toBe(runbooks.length);
    expect(result.totals).toMatchObject({ onlyOld: 0, onlyNew: runbooks.length });
    expect(result.contracts.old['confluence']).toMatch(/confluence\.yaml v3$/);
    expect(result.contracts.new['confluence']).toMatch(/confluence\.yaml v4$/);
    expect(result.input).toEqual({ lines: 15, records: 12, rejected: 3 });

    const text = formatBacktest(result);
    expect(text).toMatch(
      /^contract\.required\s+confluence\s+effectiveDate\s+0\s+(\d+)\s+\+\1\s+0\s+\1$/m,
    );
    expect(text).toContain(`only new: confluence/${runbooks[0]} at `);
    expect(text).toContain(`${result.rows.length - 1} unchanged rows not shown.`);
  });

  it('reports no difference for the same contracts, and is deterministic', async () => {
    const a = await backtest({
      input: FIXTURE,
      oldContracts,
      newContracts: oldContracts,
      drainMs: DAY,
    });
    const b = await backtest({
      input: FIXTURE,
      oldContracts,
      newContracts: oldContracts,
      drainMs: DAY,
    });
    expect(b).toEqual(a);
    expect(a.totals.onlyOld + a.totals.onlyNew).toBe(0);
    expect(a.rows.length).toBeGreaterThan(0);
    expect(formatBacktest(a)).toContain(
      'No difference: both versions fire the same findings on these events.',
    );
  });

  it('shows a shadow candidate apart: its findings are counted as shadow, the enforced ones unchanged', async () => {
    const files = await readContractDir(join(ROOT, 'contracts'));
    const candidate = `apiVersion: tidemark/v1
kind: SourceContract
system: confluence
version: 4
mode: shadow
classes:
  runbook:
    required: [reviewedAt, effectiveDate]
`;
    const withCandidate = loadContractsOrThrow([
      ...files,
      { path: 'contracts/confluence-next.yaml', text: candidate },
    ]);
    const result = await backtest({
      input: FIXTURE,
      oldContracts,
      newContracts: withCandidate,
      drainMs: DAY,
    });
    const { totals } = result;
    // Every extra finding is a shadow one: the candidate's effectiveDate findings and its shadow diffs.
    expect(totals.new.firing - totals.shadow.new).toBe(totals.old.firing - totals.shadow.old);
    expect(totals.shadow.new - totals.shadow.old).toBe(totals.new.firing - totals.old.firing);
    const row = (check: string, rule: string) =>
      result.rows.find((r) => r.check === check && r.system === 'confluence' && r.rule === rule);
    expect(row('contract.required', 'effectiveDate')?.new.firing).toBe(runbooks.length);
    expect(row('contract.required', 'effectiveDate')?.onlyNew.samples[0]?.shadow).toBe(true);
    expect(row('contract.shadow-diff', '')?.new.firing).toBeGreaterThan(0);
    expect(result.contracts.new['confluence']).toBe(
      'contracts/confluence.yaml v3; shadow candidate contracts/confluence-next.yaml v4',
    );
    const text = formatBacktest(result);
    const extra = totals.new.firing - totals.old.firing;
    expect(text).toContain(
      `of which enforced: old ${totals.old.firing - totals.shadow.old}, new ${totals.new.firing - totals.shadow.new} (0); ` +
        `shadow (never alert): old ${totals.shadow.old}, new ${totals.shadow.new} (+${extra})`,
    );
  });

  it('finds what a loosened contract stops firing', async () => {
    const result = await backtest({
      input: FIXTURE,
      oldContracts: newContracts,
      newContracts: oldContracts,
    });
    const row = result.rows.find(
      (r) => r.check === 'contract.required' && r.rule === 'effectiveDate',
    );
    expect(row?.onlyOld.count).toBe(runbooks.length);
    expect(row?.new.firing).toBe(0);
    expect(formatBacktest(result)).toContain(`only old: confluence/${runbooks[0]} at `);
  });

  it('through the router: alerts and tickets each side would have sent (grouping, inhibition, silences)', async () => {
    const result = await backtest({
      input: FIXTURE,
      oldContracts,
      newContracts,
      drainMs: DAY,
      routing,
    });
    const routed = result.routed!;
    // The new required field is steward work: tickets change, alerts do not.
    const actions = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    expect(actions(routed.tickets.new)).toBeGreaterThan(actions(routed.tickets.old));
    expect(routed.alerts.new).toEqual(routed.alerts.old);
    expect(routed.alerts.old.firing).toBeGreaterThan(0);
    // Notifications, repeats included: the pager route repeats every hour of the day-long drain.
    const pager = routed.alertRows.find(
      (r) => r.check === 'freshness.connector-silent' && r.receiver === 'platform-pager',
    );
    expect(pager?.old.firing).toBe(24);
    // The router's own notices are not contract rows.
    expect(result.rows.some((r) => r.check.startsWith('routing.'))).toBe(false);
    const text = formatBacktest(result);
    expect(text).toContain(
      `alerts (grouping, inhibition, silences applied): would have fired old ${routed.alerts.old.firing}, new ${routed.alerts.new.firing} times (0)`,
    );
    expect(text).toMatch(/^tickets: would have opened old \d+, new \d+ /m);

    // A silence over the whole run mutes confluence's alerts on both sides.
    const silenced = await backtest({
      input: FIXTURE,
      oldContracts,
      newContracts,
      drainMs: DAY,
      routing,
      silences: [
        {
          id: 's1',
          matchers: parseMatchers('system="confluence"'),
          startsAt: parseTime('2000-01-01T00:00:00Z'),
          endsAt: parseTime('2100-01-01T00:00:00Z'),
          createdBy: 'test',
          comment: 'backtest',
        },
      ],
    });
    const confluence = (r: typeof routed) =>
      r.alertRows.filter((a) => a.system === 'confluence').reduce((n, a) => n + a.old.firing, 0);
    expect(confluence(routed)).toBeGreaterThan(0);
    expect(confluence(silenced.routed!)).toBe(0);
  });
});
