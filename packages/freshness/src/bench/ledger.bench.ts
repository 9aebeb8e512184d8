// npm run bench:freshness — memory per document, event cost, tick cost vs tracked documents, restore.
// Runs on the built JS with --expose-gc (see the root package.json script). Not a test: prints numbers.
import { formatTime } from '@tidemark/core';
import { advanceTo, applyEvent, type FreshnessInputEvent } from '../checks.js';
import { FreshnessLedger } from '../ledger.js';
import { DAY, MINUTE, T0, testSettings } from '../test-events.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc (npm run bench:freshness does)');
  process.exit(2);
}

// CPU time of this process (ms), not wall time: the machine is shared, and other jobs' load would
// otherwise show up as our latency. GC on helper threads is included, which is fair.
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
const performance = { now: cpuMs };

const DOCS = Number(process.env['BENCH_DOCS'] ?? 1_000_000);
const CHUNK = 10_000;
const CLASSES = ['policy', 'runbook', 'faq', 'macro', 'postmortem'];
const OWNERS = Array.from({ length: 2000 }, (_, i) => `steward-${i}@example.com`);
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** JS heap plus ArrayBuffer backing stores (typed arrays live outside the V8 heap), after full GCs. */
function heapUsed(): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Document ids as a consumer gets them: flat strings out of JSON.parse, e.g. `PAGE-12345678`. */
function idChunk(start: number, count: number, prefix = 'PAGE-'): string[] {
  const ids: string[] = [];
  for (let i = start; i < start + count; i++) ids.push(`${prefix}${10_000_000 + i}`);
  return JSON.parse(JSON.stringify(ids)) as string[];
}

function upsert(docId: string, i: number, revision: number, at: number): FreshnessInputEvent {
  return {
    type: 'content.upserted',
    time: formatTime(at),
    data: {
      system: 'confluence',
      docId,
      revision,
      contentClass: CLASSES[i % CLASSES.length],
      title: 't',
      owner: OWNERS[i % OWNERS.length],
      // Review clocks spread over the next ~90 days, so none is due during the tick measurements.
      reviewedAt: formatTime(at - 89 * DAY + (i % 1000) * 5 * MINUTE + DAY),
    },
  };
}

function index(
  docId: string,
  revision: number,
  at: number,
  sourceTime: number,
): FreshnessInputEvent {
  return {
    type: 'index.upserted',
    time: formatTime(at),
    data: {
      connector: 'confluence-prod',
      system: 'confluence',
      docId,
      revision,
      sourceTime: formatTime(sourceTime),
    },
  };
}

/** Loads `docs` documents (upserted and indexed); returns the ledger and ms spent in applyEvent. */
function load(docs: number): { ledger: FreshnessLedger; applyMs: number; events: number } {
  const ledger = new FreshnessLedger({ settings: testSettings });
  let applyMs = 0;
  let events = 0;
  for (let start = 0; start < docs; start += CHUNK) {
    const ids = idChunk(start, Math.min(CHUNK, docs - start));
    const batch: Array<[FreshnessInputEvent, number]> = [];
    ids.forEach((id, k) => {
      const i = start + k;
      const at = T0 + i;
      batch.push([upsert(id, i, 1, at), at]);
      batch.push([index(id, 1, at + 30_000, at), at + 30_000]);
    });
    const t = performance.now();
    for (const [event, now] of batch) applyEvent(ledger, event, now, TRACE);
    applyMs += performance.now() - t;
    events += batch.length;
  }
  ledger.drainChanges();
  return { ledger, applyMs, events };
}

/** The obvious ledger, for comparison: one object per document in a Map keyed by `system/docId`. */
function naiveLoad(docs: number): Map<string, object> {
  const map = new Map<string, object>();
  for (let start = 0; start < docs; start += CHUNK) {
    const keys = JSON.parse(
      JSON.stringify(idChunk(start, Math.min(CHUNK, docs - start)).map((id) => `confluence/${id}`)),
    ) as string[];
    keys.forEach((key, k) => {
      const i = start + k;
      map.set(key, {
        sourceRevision: 1,
        sourceTime: T0 + i,
        indexedRevision: 1,
        indexedTime: T0 + i + 30_000,
        deleted: false,
        deprecated: false,
        reviewedAt: T0 + i - 88 * DAY,
        contentClass: CLASSES[i % CLASSES.length],
        owner: OWNERS[i % OWNERS.length],
        connector: 'confluence-prod',
        syncFiring: false,
        reviewFiring: false,
      });
    });
  }
  return map;
}

/**
 * A tick measurement on one ledger: each round gives `due` untouched documents a revision the index
 * does not apply (due 15 minutes later), times the tick that fires exactly those, then catches the index up.
 */
function ticker(ledger: FreshnessLedger, docs: number, due: number) {
  let now = T0 + docs + DAY;
  let round = 0;
  return {
    get now() {
      return now;
    },
    round(): number {
      const ids = idChunk(docs - (round + 1) * due, due);
      round++;
      ids.forEach((id, k) => applyEvent(ledger, upsert(id, k, 2, now), now));
      now += 15 * MINUTE;
      const t = performance.now();
      const fired = advanceTo(ledger, now);
      const ms = performance.now() - t;
      if (fired.length !== due) throw new Error(`expected ${due} findings, got ${fired.length}`);
      ids.forEach((id) => applyEvent(ledger, index(id, 2, now, now - 15 * MINUTE), now));
      ledger.drainChanges();
      now += MINUTE;
      return ms;
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}

// ---- memory ---------------------------------------------------------------------------------------

const base = heapUsed();
const { ledger, applyMs, events } = load(DOCS);
const ledgerBytes = heapUsed() - base;
const perDoc = ledgerBytes / DOCS;
console.log(
  `freshness ledger, ${DOCS.toLocaleString('en')} documents (ids like confluence/PAGE-12345678); times are process CPU time`,
);
console.log(
  `  memory: ${fmt(perDoc)} B/doc (heap + array buffers delta after GC; goal ≤ 200) — typed columns ${fmt(ledger.columnBytes / DOCS)} B/doc, ` +
    `heap entries ${ledger.heap.size.toLocaleString('en')}`,
);

const naiveBase = heapUsed();
let naive: Map<string, object> | undefined = naiveLoad(DOCS);
const naivePerDoc = (heapUsed() - naiveBase) / DOCS;
console.log(
  `  baseline Map<string, object> ledger: ${fmt(naivePerDoc)} B/doc (no deadline heap) → ledger uses ${fmt(perDoc / naivePerDoc, 2)}× of it`,
);
naive?.clear();
naive = undefined;

// ---- event cost -----------------------------------------------------------------------------------

console.log(
  `  applyEvent (parsed events, upsert + index per doc, growing ledger): ${fmt((applyMs / events) * 100_000, 0)} ms per 100k events ` +
    `(${fmt(events / (applyMs / 1000) / 1000, 0)}k events/s)`,
);
{
  // Steady state: new revisions of existing documents and their index events, ledger at full size.
  // The first documents only: tickCost() takes its documents from the end.
  const ids = idChunk(0, Math.min(50_000, DOCS / 4));
  const now = T0 + DOCS + DAY;
  const batch: Array<[FreshnessInputEvent, number]> = [];
  ids.forEach((id, i) => {
    batch.push([upsert(id, i, 100, now + i), now + i]);
    batch.push([index(id, 100, now + i + 1000, now + i), now + i + 1000]);
  });
  const t = performance.now();
  for (const [event, at] of batch) applyEvent(ledger, event, at, TRACE);
  const ms = performance.now() - t;
  console.log(
    `  applyEvent (updates of tracked docs at ${DOCS.toLocaleString('en')}): ${fmt((ms / batch.length) * 100_000, 0)} ms per 100k events`,
  );
  ledger.drainChanges();
}

// ---- tick cost ------------------------------------------------------------------------------------

const ROUNDS = 21;
const small = load(100_000).ledger;
// Referenced again at the end, so neither ledger is collected while the restore is measured.
const keepAlive = [ledger, small];
// Rounds alternate between the two ledgers so load on the machine hits both alike.
const smallTicker = ticker(small, 100_000, 1000);
const largeTicker = ticker(ledger, DOCS, 1000);
const smallTimes: number[] = [];
const largeTimes: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  smallTimes.push(smallTicker.round());
  largeTimes.push(largeTicker.round());
}
const tickSmall = median(smallTimes);
const tickLarge = median(largeTimes);
const lastTick = largeTicker.now;
console.log(
  `  tick with 1,000 due: ${fmt(tickSmall, 2)} ms at 100,000 tracked, ${fmt(tickLarge, 2)} ms at ${DOCS.toLocaleString('en')} tracked ` +
    `(ratio ${fmt(tickLarge / tickSmall, 2)}; median of ${ROUNDS}, mostly building the 1,000 findings)`,
);
{
  const t = performance.now();
  const fired = advanceTo(ledger, lastTick + 1);
  console.log(
    `  tick with nothing due at ${DOCS.toLocaleString('en')} tracked: ${fmt(performance.now() - t, 3)} ms (${fired.length} findings)`,
  );
}

// ---- changelog and restore ------------------------------------------------------------------------

{
  // The changelog of a fresh 1M load, drained in chunks as a host would between commits.
  const fresh = new FreshnessLedger({ settings: testSettings });
  const changes: Array<{ key: string; value: Buffer | null }> = [];
  const t0 = performance.now();
  for (let start = 0; start < DOCS; start += CHUNK) {
    const ids = idChunk(start, Math.min(CHUNK, DOCS - start));
    ids.forEach((id, k) => {
      const i = start + k;
      applyEvent(fresh, upsert(id, i, 1, T0 + i), T0 + i, TRACE);
      applyEvent(fresh, index(id, 1, T0 + i + 30_000, T0 + i), T0 + i + 30_000);
    });
    changes.push(...fresh.drainChanges());
  }
  const drainMs = performance.now() - t0;
  const bytes = changes.reduce((sum, c) => sum + c.key.length + (c.value?.length ?? 0), 0);
  const restoreBase = heapUsed();
  const t1 = performance.now();
  const restored = new FreshnessLedger({ settings: testSettings });
  for (const { key, value } of changes) restored.restore(key, value);
  restored.ensureHeap();
  const restoreMs = performance.now() - t1;
  const restoredPerDoc = (heapUsed() - restoreBase) / DOCS;
  changes.length = 0;
  // Keeps `fresh` reachable until here, so its collection does not show up in the restore delta.
  if (fresh.documentCount !== restored.documentCount) throw new Error('restore lost documents');
  console.log(
    `  changelog: ${fmt(bytes / DOCS)} B/doc (key + value), load+drain ${fmt(drainMs / 1000, 2)} s; restore ${fmt(restoreMs / 1000, 2)} s, ` +
      `${fmt(restoredPerDoc)} B/doc after restore, ${restored.armedCount.toLocaleString('en')} deadlines re-armed`,
  );
}
if (keepAlive.some((l) => l.documentCount === 0)) throw new Error('empty ledger');
