import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTime, parseTime } from '@tidemark/core';
import type { ContractSet } from '@tidemark/contracts';
import { loadContractDir } from '@tidemark/contracts/node';
import { parseRoutingConfig, type RoutingConfig } from '@tidemark/routing';
import {
  memoryOutput,
  REPLAY_FILES,
  replay,
  replayServices,
  type ReplayProgress,
} from './index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'packages/replay/testdata/basic.jsonl');
const DAY = 86_400_000;

let contracts: ContractSet;
let routing: RoutingConfig;
let fixture: string[];
let tmp: string;

beforeAll(async () => {
  contracts = await loadContractDir(join(ROOT, 'contracts'));
  const routingFile = join(ROOT, 'contracts/routing.yaml');
  routing = parseRoutingConfig(await readFile(routingFile, 'utf8'), routingFile);
  fixture = (await readFile(FIXTURE, 'utf8')).split('\n').slice(0, -1);
  tmp = await mkdtemp(join(tmpdir(), 'tidemark-replay-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface FindingData {
  check: string;
  status: string;
  subject: { system: string; docId?: string; field?: string };
  observedAt: string;
}
const findingsOf = (lines: readonly string[]): FindingData[] =>
  lines.map((l) => (JSON.parse(l) as { data: FindingData }).data);
/** The fixture's event with this id (the tests derive expectations from the input, not from a previous run). */
const event = (id: string) => {
  for (const l of fixture) {
    try {
      const v = JSON.parse(l) as { id?: string; value?: unknown; time: string };
      if (v.id === id) return v;
    } catch {
      // not JSON: one of the fixture's broken lines
    }
  }
  throw new Error(`no event ${id} in the fixture`);
};
const runbook = () => contracts.settingsFor('confluence', 'runbook')!;

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of REPLAY_FILES) out[f] = await readFile(join(dir, f), 'utf8');
  return out;
}

describe('replay of the fixture with the example contracts', () => {
  it('fires sync-lag and delete-missed once the drain passes their SLAs, and contract.required at once', async () => {
    const out = memoryOutput();
    await replay({ input: FIXTURE, contracts, routing, out, drainMs: DAY });
    const findings = findingsOf(out.lines('findings.jsonl'));
    const firing = (check: string, docId: string) =>
      findings.filter(
        (f) => f.check === check && f.subject.docId === docId && f.status === 'firing',
      );

    const upsert2 = parseTime(event('c-OPS-2-1').time);
    expect(firing('freshness.sync-lag', 'OPS-2').map((f) => f.observedAt)).toEqual([
      formatTime(upsert2 + runbook().slas.syncLagMs),
    ]);
    const delete3 = parseTime(event('d-OPS-3-2').time);
    expect(firing('parity.delete-missed', 'OPS-3').map((f) => f.observedAt)).toEqual([
      formatTime(delete3 + runbook().slas.deleteSlaMs),
    ]);
    expect(
      firing('contract.required', 'OPS-4').map((f) => [f.subject.field, f.observedAt]),
    ).toEqual([['owner', event('c-OPS-4-1').time]]);
    // Documents that were indexed in time and follow their contract are never mentioned.
    expect(
      findings.filter((f) => f.subject.docId === 'OPS-1' || f.subject.docId === 'OPS-5'),
    ).toEqual([]);
  });

  it('fires neither deadline without a drain: the clock stops at the last event', async () => {
    const out = memoryOutput();
    const { summary } = await replay({ input: FIXTURE, contracts, out });
    const checks = findingsOf(out.lines('findings.jsonl')).map(
      (f) => `${f.check} ${f.subject.docId ?? ''}`,
    );
    expect(checks).toContain('contract.required OPS-4');
    expect(checks).not.toContain('freshness.sync-lag OPS-2');
    expect(checks).not.toContain('parity.delete-missed OPS-3');
    expect(summary.eventTime.end).toBe(summary.eventTime.last);
    // No routing: no alert-router, so no alerts or tickets.
    expect([out.lines('alerts.jsonl'), out.lines('tickets.jsonl')]).toEqual([[], []]);
    expect(summary.settings.services).toEqual([
      'contract-checker',
      'freshness-monitor',
      'parity-verifier',
      'drift-detector',
    ]);
  });

  it('writes every rejected line to dlq.jsonl with its line number and reason, and goes on', async () => {
    const out = memoryOutput();
    const { summary } = await replay({ input: FIXTURE, contracts, out });
    const dlq = out.lines('dlq.jsonl').map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = dlq.filter((d) => d['service'] === undefined);
    expect(rejected.map((d) => [d['line'], d['value']])).toEqual(
      [6, 7, 8].map((n) => [n, fixture[n - 1]]),
    );
    expect(rejected.map((d) => String(d['reason']).replace(/:.*/, ''))).toEqual([
      'not valid JSON',
      'not a CloudEvent (no specversion) nor a record envelope ({ "topic", "value" })',
      'unknown event type "content.renamed"',
    ]);
    // The schema break is each content service's own dead letter, as live, with the original bytes.
    const readers = replayServices({ contracts })
      .filter((s) => s.inputs.includes('content.changes.v1'))
      .map((s) => s.name);
    expect(readers.length).toBeGreaterThan(1);
    const bySchema = dlq.filter((d) => d['service'] !== undefined);
    expect(
      bySchema.map((d) => [d['line'], d['service'], d['errorClass'], d['topic'], d['value']]),
    ).toEqual(readers.map((s) => [13, s, 'EnvelopeError', 'content.changes.v1', fixture[12]]));
    expect(bySchema.every((d) => String(d['reason']).includes('data.revision'))).toBe(true);
    expect(summary.dlq).toEqual({
      total: 3 + readers.length,
      input: 3,
      byService: Object.fromEntries(readers.map((s) => [s, 1]).sort()),
    });
    // Lines after the broken ones were replayed: OPS-2 (line 15) was seen by the checkers.
    expect(summary.input).toEqual({ lines: 15, records: 12, rejected: 3 });
  });

  it('writes byte-identical files on every run, from a file or from lines', async () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    await replay({ input: FIXTURE, contracts, routing, out: a, drainMs: DAY });
    await replay({ input: fixture, contracts, routing, out: b, drainMs: DAY });
    const fa = await files(a);
    expect(await files(b)).toEqual(fa);
    expect(fa['findings.jsonl']!.length).toBeGreaterThan(0);
    expect(fa['alerts.jsonl']!.length).toBeGreaterThan(0);
    const mem = memoryOutput();
    await replay({ input: fixture, contracts, routing, out: mem, drainMs: DAY });
    for (const f of REPLAY_FILES) expect(mem.text(f)).toBe(fa[f]);
  });

  it('routes findings to the alert-router: alerts for platform checks, a steward ticket for contract.required', async () => {
    const out = memoryOutput();
    await replay({ input: fixture, contracts, routing, out, drainMs: DAY });
    const alerts = out
      .lines('alerts.jsonl')
      .map((l) => JSON.parse(l).data as { status: string; labels: Record<string, string> });
    expect(
      alerts.some(
        (a) =>
          a.status === 'firing' &&
          a.labels['check'] === 'parity.delete-missed' &&
          a.labels['system'] === 'confluence',
      ),
    ).toBe(true);
    const tickets = out
      .lines('tickets.jsonl')
      .map(
        (l) =>
          JSON.parse(l).data as { action: string; items: Array<{ docId?: string; check: string }> },
      );
    expect(
      tickets.some(
        (t) =>
          t.action === 'open' &&
          t.items.some((i) => i.docId === 'OPS-4' && i.check === 'contract.required'),
      ),
    ).toBe(true);
  });

  it('summarizes what it wrote, the event-time range and the sync lag', async () => {
    const out = memoryOutput();
    const progress: ReplayProgress[] = [];
    const { summary, metrics } = await replay({
      input: fixture,
      contracts,
      routing,
      out,
      drainMs: DAY,
      onProgress: (p) => progress.push(p),
    });
    const findings = findingsOf(out.lines('findings.jsonl'));
    const byCheck: Record<string, number> = {};
    for (const f of findings) byCheck[f.check] = (byCheck[f.check] ?? 0) + 1;
    expect(summary.findings.byCheck).toEqual(byCheck);
    expect(summary.findings.total).toBe(findings.length);
    expect(summary.alerts.total).toBe(out.lines('alerts.jsonl').length);
    expect(summary.tickets.total).toBe(out.lines('tickets.jsonl').length);
    expect(JSON.parse(out.text('summary.json'))).toEqual(summary);

    const times = fixture.flatMap((l) => {
      try {
        const v = JSON.parse(l) as { time?: string; value?: { time?: string } | string };
        const t =
          v.time ??
          (typeof v.value === 'string'
            ? (JSON.parse(v.value) as { time: string }).time
            : v.value?.time);
        return t ? [parseTime(t)] : [];
      } catch {
        return [];
      }
    });
    expect(summary.eventTime).toEqual({
      first: formatTime(Math.min(...times)),
      last: formatTime(Math.max(...times)),
      end: formatTime(Math.max(...times) + DAY),
    });
    // Every index.upserted of the fixture applies its revision one minute after the source change.
    const indexed = fixture.filter((l) => l.includes('"index.upserted"')).length;
    expect(summary.syncLagSeconds).toMatchObject({ count: indexed, p50: 60, p99: 60, max: 60 });
    expect(metrics.histogram('tidemark_sync_lag_seconds', { system: 'confluence' }).count).toBe(
      indexed,
    );
    expect(progress.at(-1)).toMatchObject({ phase: 'done', lines: 15, findings: findings.length });
  });

  it('gives the same files whether idle ticks are skipped or run', async () => {
    const skipped = memoryOutput();
    const ticked = memoryOutput();
    await replay({ input: fixture, contracts, routing, out: skipped, drainMs: DAY });
    await replay({
      input: fixture,
      contracts,
      routing,
      out: ticked,
      drainMs: DAY,
      skipIdleTicks: false,
    });
    for (const f of REPLAY_FILES) expect(skipped.text(f)).toBe(ticked.text(f));
    expect(skipped.lines('findings.jsonl').length).toBeGreaterThan(0);
  });

  it('dead-letters a record dated far beyond the watermark (MAX_FUTURE_SKEW); it never moves the clock', async () => {
    const first = JSON.parse(fixture[0]!) as { time: string };
    const far = '2099-01-01T00:00:00.000Z';
    const broken = fixture[0]!.replace(`"time":"${first.time}"`, `"time":"${far}"`);
    expect(broken).not.toBe(fixture[0]);
    const input = [fixture[0]!, broken, ...fixture.slice(1)];
    const out = memoryOutput();
    const { summary } = await replay({ input, contracts, routing, out, drainMs: DAY });
    const plain = await replay({
      input: fixture,
      contracts,
      routing,
      out: memoryOutput(),
      drainMs: DAY,
    });
    expect(summary.eventTime).toEqual(plain.summary.eventTime);
    const dead = out
      .lines('dlq.jsonl')
      .map((l) => JSON.parse(l) as { line: number; reason: string; value: string });
    const skewed = dead.filter((d) => d.line === 2);
    expect(skewed).toEqual([
      {
        line: 2,
        reason: expect.stringMatching(
          new RegExp(
            `^event time ${far} is \\d+d.* ahead of the stream's watermark ${first.time.replace('.', '\\.')}, more than MAX_FUTURE_SKEW \\(1h\\)`,
          ),
        ),
        value: broken,
      },
    ]);
    expect(out.lines('findings.jsonl').length).toBe(plain.summary.findings.total);
  });

  it('replays a record after an idle gap longer than the skew when the stream goes on from there', async () => {
    const H = 3_600_000;
    const ev = (id: string, at: number, type = 'connector.run') =>
      JSON.stringify({
        specversion: '1.0',
        id,
        source: 'connector/confluence-prod',
        type,
        time: formatTime(at),
        data: {
          connector: 'confluence-prod',
          system: 'confluence',
          status: 'success',
          startedAt: formatTime(at),
          finishedAt: formatTime(at),
        },
      });
    const t0 = parseTime('2025-03-03T00:00:00Z');
    const lines = [
      ev('a', t0),
      ev('gap', t0 + 5 * H),
      ev('next', t0 + 5 * H + 1000),
      ev('last', t0 + 10 * H),
    ];
    const out = memoryOutput();
    const { summary } = await replay({ input: lines, contracts, out });
    // The 5h gap is confirmed by the record after it; the last one (5h later) has nothing after it to confirm it.
    const skewed = out
      .lines('dlq.jsonl')
      .map((l) => JSON.parse(l) as { line: number; reason: string })
      .filter((d) => d.reason.includes('MAX_FUTURE_SKEW'));
    expect(skewed.map((d) => d.line)).toEqual([4]);
    expect(summary.eventTime.end).toBe(formatTime(t0 + 5 * H + 1000));
    const wide = await replay({
      input: lines,
      contracts,
      out: memoryOutput(),
      maxFutureSkewMs: 6 * H,
    });
    expect(wide.summary.eventTime.end).toBe(formatTime(t0 + 10 * H));
  });

  it.each([-1, Number.NaN])('rejects the future skew %s', async (ms) => {
    await expect(
      replay({ input: [], contracts, out: memoryOutput(), maxFutureSkewMs: ms }),
    ).rejects.toThrow(
      new RangeError(`maxFutureSkewMs must be a non-negative number of milliseconds, got ${ms}`),
    );
  });

  it('rejects a negative drain', async () => {
    await expect(
      replay({ input: [], contracts, out: memoryOutput(), drainMs: -1 }),
    ).rejects.toThrow(
      new RangeError('drainMs must be a non-negative number of milliseconds, got -1'),
    );
  });
});
