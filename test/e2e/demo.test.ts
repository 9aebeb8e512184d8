// End to end through the real broker: the demo (`runDemo`) creates a run's topics, starts all five services as
// processes on event time, produces the simulator's events live with every kind of fault, collects the output
// topics and scores them. Then the same input (`events.jsonl`) is replayed in-process with @tidemark/replay — the
// same compositions on the same event time — and must give the same (check, subject, status) set; and a replay
// run twice must write byte-identical files. The replay's ticks trail its clock by the services' EVENT_SKEW and it
// drains nothing (drainMs 0): live services tick only as event time arrives, so neither fires a deadline later than
// EVENT_SKEW before the last event. Differences allowed: the instance names (`<service>-<run id>`) and run-scoped topic
// names inside envelope.invalid subjects. Nothing else: a transient live-only finding is a bug.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { DEMO_EVENT_SKEW_MS, runDemo, type DemoResult } from '@tidemark/cli';
import type { Finding } from '@tidemark/core';
import { loadContractDir } from '@tidemark/contracts/node';
import { replay } from '@tidemark/replay';
import {
  matchesAll,
  parseMatchers,
  parseRoutingConfig,
  parseSilences,
  type Silence,
} from '@tidemark/routing';
import type { TruthEntry } from '@tidemark/sim';
import { BROKERS } from '../runtime/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONTRACTS = path.join(ROOT, 'contracts');

// The demo's default world (3,000 documents changing 8 times a day, 18 hours, so null-rate and drift have enough
// changes per window), produced faster than the demo does: 18 hours in two minutes.
const RUN = { seed: 7, docs: 3000, changesPerDocPerDay: 8, days: 0.75, speed: 540 };

// Services that read each input topic (each dead-letters a poison record on its own).
const READERS: Record<string, string[]> = {
  content: ['contract-checker', 'drift-detector', 'freshness-monitor', 'parity-verifier'],
  sync: ['drift-detector', 'freshness-monitor', 'parity-verifier'],
  inventory: ['parity-verifier'],
};

const dirs: string[] = [];
let keep = false;
afterAll(async () => {
  // A failed run keeps its files (events.jsonl, findings, truth, service logs) for a look.
  if (keep) console.error(`demo e2e failed; its files are kept in ${dirs.join(', ')}`);
  else for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Five consecutive free loopback ports (the demo's services listen on basePort … basePort + 4). */
async function freePorts(): Promise<number> {
  const taken = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer()
        .once('error', () => resolve(true))
        .listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let free = true;
    for (let p = base; p < base + 5 && free; p++) free = !(await taken(p));
    if (free) return base;
  }
  throw new Error('no five consecutive free ports found');
}

/** (check, subject, status) of a finding; the instance names in envelope.invalid's feature carry the run id. */
function findingKey(f: Finding, runId: string): string {
  const subject = { ...f.subject } as Record<string, unknown>;
  if (f.check === 'envelope.invalid' && typeof subject['feature'] === 'string')
    subject['feature'] = subject['feature']
      .replaceAll(`-${runId}`, '')
      .replaceAll(`demo.${runId}.`, '');
  const sorted = Object.fromEntries(Object.entries(subject).sort(([a], [b]) => a.localeCompare(b)));
  return `${f.check} ${JSON.stringify(sorted)} ${f.status}`;
}

/** An alert or ticket notification as read from the run's output files: its record time and `data`. */
interface Note<T> {
  time: number;
  data: T;
}
interface AlertData {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  receiver: string;
  groupKey: string;
  findings: { count: number };
}
interface TicketData {
  ticketKey: string;
  action: 'open' | 'update' | 'resolve';
  items: Array<{ system: string; docId: string; check: string }>;
  itemCount: number;
}

async function notesOf<T>(file: string): Promise<Array<Note<T>>> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const e = JSON.parse(l) as { time: string; data: T };
      return { time: Date.parse(e.time), data: e.data };
    });
}

/**
 * The silence the run starts with: zendesk's freshness alerts, from half an hour after its connector-failing fault is
 * decidable (its alert has been sent firing by then) to a day past the end (so no expiry notice comes). The
 * connector recovers inside it: that resolve must still be delivered.
 */
function zendeskSilence(truth: readonly TruthEntry[], end: string): Silence {
  const failing = truth.find(
    (t) => t.check === 'freshness.connector-failing' && t.subject.system === 'zendesk',
  );
  if (!failing?.detectableAt)
    throw new Error('the plan has no decidable zendesk connector-failing fault');
  return {
    id: 'e2e-zendesk-freshness',
    matchers: parseMatchers('system="zendesk", check=~"freshness\\..*"'),
    startsAt: Date.parse(failing.detectableAt) + 30 * 60_000,
    endsAt: Date.parse(end) + 86_400_000,
    createdBy: 'e2e',
    comment: 'a resolve is delivered through a silence',
  };
}

async function findingsOf(file: string): Promise<Finding[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { data: Finding }).data);
}

describe('demo end to end (broker, five service processes, simulator, scorecard, replay)', () => {
  let live: DemoResult;
  let runId: string;
  let replayDirs: string[] = [];

  it('finds every injected fault with no false alarm, and dead-letters every poison record', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'tidemark-e2e-'));
    dirs.push(out);
    runId = `e2e-${Date.now().toString(36)}`;
    onTestFailed(() => {
      keep = true;
    });
    const progress: string[] = [];
    const started = Date.now();
    live = await runDemo({
      root: ROOT,
      brokers: BROKERS.join(','),
      contractsDir: CONTRACTS,
      out,
      ...RUN,
      partitions: 3,
      basePort: await freePorts(),
      runId,
      live: false,
      settleMs: 60_000,
      silences: ({ truth, meta }) => [zendeskSilence(truth, meta.end)],
      write: (text) => progress.push(text),
    });
    console.info(
      `demo e2e: ${live.counters.total} records in ${((Date.now() - started) / 1000).toFixed(0)}s; ${progress.at(-1)?.trim()}`,
    );

    // Every windowed fault of this run is big enough to decide: nothing is excused.
    expect(live.undecidable.map((t) => t.check)).toEqual([]);
    const card = live.scorecard;
    const scored = card.checks.filter((c) => c.injected > 0).map((c) => c.check);
    expect(scored.length).toBeGreaterThanOrEqual(18);
    // Recall 1.0 for every check that had a fault injected.
    const recall = card.checks
      .filter((c) => c.injected > 0)
      .map((c) => [c.check, c.detected, c.injected, c.missed.map((m) => m.subject)]);
    expect(recall).toEqual(
      card.checks.filter((c) => c.injected > 0).map((c) => [c.check, c.injected, c.injected, []]),
    );
    // No false positive: every firing finding matches an injected fault or a consequence the truth allows.
    const falseAlarms = card.checks.flatMap((c) =>
      c.falseAlarms.map((f) => `${c.check} ${JSON.stringify(f.subject)} at ${f.observedAt}`),
    );
    expect(falseAlarms).toEqual([]);
    expect(card.total.falsePositives).toBe(0);

    // No finding on a clean document: documents the truth does not name get a finding only where the truth allows a
    // whole system's consequence (a connector outage's sync lag, the owner nulls of a null-rate fault).
    const named = new Set(
      live.truth
        .filter((t) => t.subject.docId)
        .map((t) => `${t.subject.system}/${t.subject.docId}`),
    );
    // Only entries that say they cover every document (`covers: ['docId']`); a reconciliation summary's entry does not.
    const systemWide = new Set(
      live.truth
        .filter((t) => !t.subject.docId && t.covers?.includes('docId'))
        .map((t) => `${t.check} ${t.subject.system}`),
    );
    const documents = new Set(
      (await readFile(path.join(out, 'events.jsonl'), 'utf8'))
        .split('\n')
        .filter((l) => l.startsWith('{"topic":"content.changes.v1"'))
        .map((l) => (JSON.parse(l) as { key: string }).key),
    );
    const clean = [...documents].filter((d) => !named.has(d));
    expect(clean.length).toBeGreaterThan(2500);
    const cleanHit = new Set(clean);
    const onClean = live.findings
      .filter((f) => f.status === 'firing' && f.subject.docId !== undefined)
      .filter((f) => cleanHit.has(`${f.subject.system}/${f.subject.docId}`))
      .filter((f) => !systemWide.has(`${f.check} ${f.subject.system}`))
      .map((f) => `${f.check} ${f.subject.system}/${f.subject.docId}`);
    expect(onClean).toEqual([]);
    // … and many clean documents got no finding at all (the rest lived through an outage or a null-rate fault).
    const withFinding = new Set(live.findings.map((f) => `${f.subject.system}/${f.subject.docId}`));
    expect(clean.filter((d) => !withFinding.has(d)).length).toBeGreaterThan(clean.length / 3);

    // Every poison record is in the DLQ, once per service that reads its topic, and nothing else is.
    const poison = live.truth.filter(
      (t) => (t.check === 'envelope.invalid' && !t.optional) || t.check === 'contract.schema', // framed: no registry here
    );
    expect(poison.length).toBeGreaterThanOrEqual(5);
    const expected = poison
      .flatMap((t) =>
        READERS[String(t.detail?.['topic'] ?? 'content')]!.map(
          (service) => `${t.subject.system}/${t.subject.docId} ${service}`,
        ),
      )
      .sort();
    const dead = live.dlq
      .map((d) => `${d.key} ${d.headers['tidemark.dlq.service']?.replace(`-${runId}`, '')}`)
      .sort();
    expect(dead).toEqual(expected);
    // The producer waits for the services (backlog gate), so on a shared machine under load the run is slower, never
    // wrong: about 3 minutes on a quiet 2-core machine, 10 at a load of 20.
  }, 900_000);

  it('injects mass removal, an incomplete and shuffled multi-chunk inventories, binary mode, stale and duplicate deliveries — and nothing fires for the noise', async () => {
    expect(live).toBeDefined();
    onTestFailed(() => {
      keep = true;
    });
    const truthOf = (check: string) => live.truth.filter((t) => t.check === check && !t.optional);
    expect(truthOf('parity.mass-removal').map((t) => t.subject)).toEqual([{ system: 'zendesk' }]);
    expect(truthOf('parity.snapshot-incomplete').map((t) => t.subject)).toEqual([
      { system: 'zendesk', feature: 'inventory.index' },
    ]);
    // One mass-removal finding for the system (not one per partition), fired once and resolved once.
    const mass = live.findings.filter((f) => f.check === 'parity.mass-removal');
    expect(mass.map((f) => `${f.status} ${JSON.stringify(f.subject)}`)).toEqual([
      'firing {"system":"zendesk"}',
      'resolved {"system":"zendesk"}',
    ]);
    // The null burst spans several classes; the system-level null-rate entry fires once, for the system.
    const [nullRate] = truthOf('contract.null-rate');
    expect((nullRate!.detail!['classes'] as string[]).length).toBeGreaterThan(1);
    const nullFindings = live.findings.filter(
      (f) => f.check === 'contract.null-rate' && f.status === 'firing',
    );
    expect(nullFindings.map((f) => f.subject)).toEqual([
      { system: nullRate!.subject.system, field: nullRate!.subject.field },
    ]);

    // The noise is in the input: binary-mode records of every topic, duplicates, stale index events, chunks shuffled.
    const records = (await readFile(path.join(live.out, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map(
        (l) =>
          JSON.parse(l) as {
            topic: string;
            key: string;
            headers?: Record<string, string>;
            value: string;
          },
      );
    const binaryTopics = new Set(
      records.filter((r) => r.headers?.['ce_specversion'] === '1.0').map((r) => r.topic),
    );
    expect([...binaryTopics].sort()).toEqual(
      ['content.changes.v1', 'inventory.snapshots.v1', 'sync.events.v1'].sort(),
    );
    const idOf = (r: (typeof records)[number]) =>
      r.headers?.['ce_id'] ?? (JSON.parse(r.value) as { id?: string }).id ?? '';
    const seen = new Set<string>();
    let duplicates = 0;
    const stale = new Set<string>();
    const newest = new Map<string, number>();
    const chunkOrder = new Map<string, number[]>();
    for (const r of records) {
      if (r.value.startsWith('AAAA') || !r.value.startsWith('{')) continue; // framed or broken on purpose
      let id: string;
      try {
        id = idOf(r);
      } catch {
        continue; // a poison record
      }
      if (seen.has(id)) duplicates++;
      seen.add(id);
      const type = r.headers?.['ce_type'] ?? (JSON.parse(r.value) as { type?: string }).type;
      const data = (
        r.headers?.['ce_type']
          ? JSON.parse(r.value)
          : (JSON.parse(r.value) as { data: unknown }).data
      ) as Record<string, unknown>;
      if (type === 'index.upserted') {
        const revision = data['revision'] as number;
        if (revision < (newest.get(r.key) ?? -1)) stale.add(r.key);
        newest.set(r.key, Math.max(revision, newest.get(r.key) ?? -1));
      } else if (type === 'inventory.snapshot') {
        const snap = data['snapshotId'] as string;
        chunkOrder.set(snap, [...(chunkOrder.get(snap) ?? []), data['chunk'] as number]);
      }
    }
    expect(duplicates).toBeGreaterThan(100);
    expect(stale.size).toBeGreaterThan(10);
    const orders = [...chunkOrder.values()];
    expect(orders.filter((o) => new Set(o).size > 1).length).toBeGreaterThan(10);
    expect(orders.some((o) => o.join() !== [...new Set(o)].sort((a, b) => a - b).join())).toBe(
      true,
    );
    // No finding on a document with a stale index event (none of them is a fault's victim).
    const named = new Set(live.truth.map((t) => `${t.subject.system}/${t.subject.docId}`));
    const staleClean = [...stale].filter((k) => !named.has(k));
    expect(staleClean.length).toBe(stale.size);
    const onStale = live.findings.filter(
      (f) =>
        f.status === 'firing' &&
        stale.has(`${f.subject.system}/${f.subject.docId}`) &&
        !live.truth.some(
          (t) =>
            t.optional &&
            t.covers?.includes('docId') &&
            t.check === f.check &&
            t.subject.system === f.subject.system,
        ),
    );
    expect(onStale.map((f) => `${f.check} ${f.subject.system}/${f.subject.docId}`)).toEqual([]);
    // Duplicates make no second finding: a document's finding never repeats its status without a change between.
    const lastStatus = new Map<string, string>();
    const repeated: string[] = [];
    for (const f of live.findings) {
      if (f.subject.docId === undefined) continue;
      if (lastStatus.get(f.fingerprint) === f.status)
        repeated.push(`${f.check} ${f.subject.docId} ${f.status}`);
      lastStatus.set(f.fingerprint, f.status);
    }
    expect(repeated).toEqual([]);
  });

  it('alerts and tickets: grouped, inhibited during an outage and a mass removal, a resolve delivered through a silence', async () => {
    expect(live).toBeDefined();
    onTestFailed(() => {
      keep = true;
    });
    const alerts = await notesOf<AlertData>(path.join(live.out, 'alerts.jsonl'));
    const tickets = await notesOf<TicketData>(path.join(live.out, 'tickets.jsonl'));
    expect(alerts.length).toBeGreaterThan(20);
    const is = (a: Note<AlertData>, check: string, system: string) =>
      a.data.labels['check'] === check && a.data.labels['system'] === system;
    // gdrive's contract runs in shadow mode: its findings never alert.
    expect(alerts.filter((a) => a.data.labels['system'] === 'gdrive')).toEqual([]);

    // Grouping: confluence's sync-lag victims are one alert per label set (content class), counting its documents,
    // and the alerts of one group (system, connector, check) share its groupKey and go out in one flush.
    const lagVictims = live.truth.filter(
      (t) => t.check === 'freshness.sync-lag' && !t.optional && t.subject.system === 'confluence',
    );
    const perClass = new Map<string, number>();
    for (const t of lagVictims) {
      const k = t.detail!['contentClass'] as string;
      perClass.set(k, (perClass.get(k) ?? 0) + 1);
    }
    const lag = alerts.filter(
      (a) => is(a, 'freshness.sync-lag', 'confluence') && a.data.status === 'firing',
    );
    const lagAlerts = new Map<string, Note<AlertData>>();
    for (const a of lag)
      if (!lagAlerts.has(a.data.fingerprint)) lagAlerts.set(a.data.fingerprint, a);
    expect(
      [...lagAlerts.values()]
        .map((a) => `${a.data.labels['contentClass']} ${a.data.findings.count}`)
        .sort(),
    ).toEqual([...perClass].map(([k, n]) => `${k} ${n}`).sort());
    const firsts = [...lagAlerts.values()];
    expect(new Set(firsts.map((a) => a.data.groupKey)).size).toBe(1);
    expect(new Set(firsts.map((a) => a.time)).size).toBe(1);

    // One mass-removal alert for zendesk, and while it fires no per-document parity or sync-lag alert of zendesk goes out.
    const massAlerts = alerts.filter((a) => is(a, 'parity.mass-removal', 'zendesk'));
    expect(new Set(massAlerts.map((a) => a.data.fingerprint)).size).toBe(1);
    const massFired = massAlerts.find((a) => a.data.status === 'firing')!;
    const massResolved = massAlerts.find((a) => a.data.status === 'resolved')!;
    expect(massResolved.data.findings.count).toBe(1);
    const massSpan = [
      Date.parse(massFired.data.startsAt),
      Date.parse(massResolved.data.endsAt),
    ] as const;
    const underMass = alerts.filter(
      (a) =>
        a.data.labels['system'] === 'zendesk' &&
        /^(freshness\.sync-lag|parity\.(?!mass-removal).*)$/.test(a.data.labels['check']!) &&
        a.data.status === 'firing' &&
        a.time >= massSpan[0] &&
        a.time < massSpan[1],
    );
    expect(
      underMass.map((a) => `${a.data.labels['check']} at ${new Date(a.time).toISOString()}`),
    ).toEqual([]);

    // Inhibition during an outage: while zendesk-guide's connector-failing alert fires, none of its per-document
    // sync-lag alerts goes out firing, although sync-lag findings of that connector keep firing meanwhile.
    const failing = alerts.filter((a) => is(a, 'freshness.connector-failing', 'zendesk'));
    const failFired = failing.find((a) => a.data.status === 'firing')!;
    const failResolved = failing.find(
      (a) => a.data.status === 'resolved' && a.data.receiver === failFired.data.receiver,
    )!;
    expect(failFired).toBeDefined();
    const outage = [
      Date.parse(failFired.data.startsAt),
      Date.parse(failResolved.data.endsAt),
    ] as const;
    const lagDuring = live.findings.filter(
      (f) =>
        f.check === 'freshness.sync-lag' &&
        f.status === 'firing' &&
        f.subject.system === 'zendesk' &&
        f.subject.connector === 'zendesk-guide' &&
        Date.parse(f.observedAt) > outage[0] &&
        Date.parse(f.observedAt) < outage[1],
    );
    expect(lagDuring.length).toBeGreaterThan(0);
    const lagAlertsDuring = alerts.filter(
      (a) =>
        is(a, 'freshness.sync-lag', 'zendesk') &&
        a.data.labels['connector'] === 'zendesk-guide' &&
        a.data.status === 'firing' &&
        a.time > outage[0] &&
        a.time < outage[1],
    );
    expect(lagAlertsDuring.map((a) => new Date(a.time).toISOString())).toEqual([]);

    // A resolve delivered through a silence: the connector-failing alert went out firing before the silence, resolved
    // inside it, and that resolve was sent; meanwhile the silence muted every firing notification it matches,
    // although a matching alert kept firing through it (its repeats were due).
    const [silence] = live.silences;
    expect(silence).toBeDefined();
    expect(failFired.time).toBeLessThan(silence!.startsAt);
    expect(failResolved.time).toBeGreaterThanOrEqual(silence!.startsAt);
    const silenced = alerts.filter((a) => matchesAll(silence!.matchers, a.data.labels));
    const mutedFiring = silenced.filter(
      (a) => a.data.status === 'firing' && a.time >= silence!.startsAt && a.time < silence!.endsAt,
    );
    expect(mutedFiring.map((a) => `${a.data.labels['check']} ${a.data.fingerprint}`)).toEqual([]);
    const resolvedFps = new Set(
      silenced.filter((a) => a.data.status === 'resolved').map((a) => a.data.fingerprint),
    );
    const firingThrough = silenced.filter(
      (a) =>
        a.data.status === 'firing' &&
        a.time < silence!.startsAt &&
        !resolvedFps.has(a.data.fingerprint),
    );
    expect(firingThrough.length).toBeGreaterThan(0);

    // Tickets: one `open` per ticket key, first; nothing after a `resolve`; every contract and review fault of an
    // enforced contract is an item of a ticket about its check.
    const byKey = new Map<string, string[]>();
    for (const t of tickets)
      byKey.set(t.data.ticketKey, [...(byKey.get(t.data.ticketKey) ?? []), t.data.action]);
    expect(byKey.size).toBeGreaterThan(3);
    for (const [key, actions] of byKey) {
      expect([key, actions[0]]).toEqual([key, 'open']);
      expect(actions.filter((a) => a === 'open')).toHaveLength(1);
      const r = actions.indexOf('resolve');
      if (r >= 0) expect(actions.slice(r + 1)).toEqual([]);
    }
    const items = new Set(
      tickets.flatMap((t) => t.data.items.map((i) => `${i.check} ${i.system}/${i.docId}`)),
    );
    const ticketed = live.truth.filter(
      (t) =>
        !t.optional &&
        t.subject.system !== 'gdrive' &&
        [
          'contract.allowed',
          'contract.rule',
          'contract.reference',
          'freshness.review-overdue',
        ].includes(t.check),
    );
    expect(ticketed.length).toBeGreaterThan(5);
    expect(
      ticketed
        .filter((t) => !items.has(`${t.check} ${t.subject.system}/${t.subject.docId}`))
        .map((t) => t.check),
    ).toEqual([]);
  });

  it('replays the same input in-process to the same (check, subject, status) set, byte-identical twice', async () => {
    expect(live).toBeDefined();
    onTestFailed(() => {
      keep = true;
    });
    const contracts = await loadContractDir(CONTRACTS);
    const routing = parseRoutingConfig(
      await readFile(path.join(CONTRACTS, 'routing.yaml'), 'utf8'),
      'routing.yaml',
    );
    const silences = parseSilences(
      await readFile(path.join(CONTRACTS, 'silences.yaml'), 'utf8'),
      'silences.yaml',
    );
    replayDirs = [];
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(path.join(tmpdir(), 'tidemark-e2e-replay-'));
      dirs.push(dir);
      replayDirs.push(dir);
      // Like live: ticks trail event time by the services' EVENT_SKEW, and nothing runs past the last event.
      await replay({
        input: path.join(live.out, 'events.jsonl'),
        contracts,
        routing,
        // The file's silences and the one the live run started with.
        silences: [...silences, ...live.silences],
        out: dir,
        drainMs: 0,
        tickLagMs: DEMO_EVENT_SKEW_MS,
        partitions: 3,
      });
    }
    const [a, b] = replayDirs as [string, string];
    const files = (await readdir(a)).sort();
    expect(files).toEqual(
      ['alerts.jsonl', 'dlq.jsonl', 'findings.jsonl', 'summary.json', 'tickets.jsonl'].sort(),
    );
    expect((await readdir(b)).sort()).toEqual(files);
    // Compared by digest: a deep equality of multi-megabyte buffers is very slow in expect().
    const digests = async (dir: string) =>
      Promise.all(
        files.map(
          async (f) =>
            `${f} ${createHash('sha256')
              .update(await readFile(path.join(dir, f)))
              .digest('hex')}`,
        ),
      );
    expect(await digests(b)).toEqual(await digests(a));

    const replayed = new Set(
      (await findingsOf(path.join(a, 'findings.jsonl'))).map((f) => findingKey(f, runId)),
    );
    const lived = new Set(live.findings.map((f) => findingKey(f, runId)));
    expect(lived.size).toBeGreaterThan(100);
    const replayOnly = [...replayed].filter((k) => !lived.has(k));
    expect(replayOnly, `replay only: ${replayOnly.join('; ')}`).toEqual([]);
    // Not one live-only finding: a firing+resolved blip (once parity's handlers fired deadlines ahead of the slowest
    // input topic) fails here.
    const onlyLive = live.findings.filter((f) => !replayed.has(findingKey(f, runId)));
    const liveOnly = onlyLive.map((f) => `${findingKey(f, runId)} @${f.observedAt}`);
    expect(liveOnly, `live only: ${liveOnly.join('; ')}`).toEqual([]);
    console.info(`replay: ${replayed.size} (check, subject, status) like live, none live only`);
  }, 600_000);
});
