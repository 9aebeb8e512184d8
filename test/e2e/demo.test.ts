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
import { parseRoutingConfig, parseSilences } from '@tidemark/routing';
import { brokers } from '../setup/kafka.js';

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
      brokers: brokers().join(','),
      contractsDir: CONTRACTS,
      out,
      ...RUN,
      partitions: 3,
      basePort: await freePorts(),
      runId,
      live: false,
      settleMs: 60_000,
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
  }, 420_000);

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
        silences,
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
    expect([...replayed].filter((k) => !lived.has(k))).toEqual([]);
    // Not one live-only finding: a firing+resolved blip (once parity's handlers fired deadlines ahead of the slowest
    // input topic) fails here.
    const onlyLive = live.findings.filter((f) => !replayed.has(findingKey(f, runId)));
    expect(onlyLive.map((f) => findingKey(f, runId))).toEqual([]);
    console.info(`replay: ${replayed.size} (check, subject, status) like live, none live only`);
  }, 420_000); // two in-process replays of the whole demo: minutes on a busy 2-core machine
});
