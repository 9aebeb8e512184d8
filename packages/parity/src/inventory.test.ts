import { describe, expect, it } from 'vitest';
import { InventoryChunkError } from './errors.js';
import { ParityState } from './state.js';
import {
  HOUR,
  Harness,
  MINUTE,
  T0,
  brief,
  chunk,
  chunksOf,
  deleted,
  indexed,
  removed,
  upserted,
} from './test-helpers.js';

const SETTINGS = {
  deleteSlaMs: 10 * MINUTE,
  syncLagMs: 10 * MINUTE,
  inventoryToleranceMs: 15 * MINUTE,
  snapshotExpiryMs: HOUR,
  maxDocumentFindings: 100,
  sampleSize: 20,
};
const SOURCE = ['a', 'b', 'c', 'd', 'e'];
const INDEX = ['a', 'b', 'c', 'x', 'y'];

function shuffledWithDuplicates<T>(items: T[]): T[] {
  // A fixed interleaving: reversed, with the first and last delivered twice.
  const reversed = [...items].reverse();
  return [reversed[0] as T, ...reversed, items[0] as T];
}

describe('snapshot assembly', () => {
  it('assembles chunks arriving shuffled and duplicated, compares once when both sides are complete', () => {
    const h = new Harness(SETTINGS);
    const source = chunksOf('source', 's1', SOURCE, 0);
    const index = chunksOf('index', 'i1', INDEX, MINUTE);
    expect(h.handle(...shuffledWithDuplicates(source))).toEqual([]);
    expect(h.state.side('wiki', 'source').latest).toBe('s1');
    const findings = h.handle(...shuffledWithDuplicates(index));
    expect(brief(findings).sort()).toEqual([
      'firing parity.missing wiki',
      'firing parity.missing wiki/d',
      'firing parity.missing wiki/e',
      'firing parity.orphan wiki',
      'firing parity.orphan wiki/x',
      'firing parity.orphan wiki/y',
    ]);
    const summary = findings.find((f) => f.check === 'parity.orphan' && !f.subject.docId);
    expect(summary).toMatchObject({
      severity: 'high',
      summary: '2 wiki documents in the index that the source no longer has',
      evidence: {
        count: 2,
        inFlightExcluded: 0,
        sourceCount: 5,
        indexCount: 5,
        perDocumentFindings: 2,
        perDocumentCap: 100,
        sourceSnapshot: 's1',
        indexSnapshot: 'i1',
        sourceTakenAt: '2026-01-01T00:00:00.000Z',
        indexTakenAt: '2026-01-01T00:01:00.000Z',
      },
    });
    expect([...(summary?.evidence['sample'] as string[])].sort()).toEqual(['x', 'y']);
    // Duplicates after completion change nothing.
    expect(h.handle(...index)).toEqual([]);
  });

  it('expires an incomplete snapshot with an info finding, frees it, ignores its late chunks, resolves on the next', () => {
    const h = new Harness(SETTINGS);
    const partial = chunksOf('source', 's1', SOURCE, 0).filter((_, i) => i !== 1);
    h.handle(...partial);
    const key = ParityState.snapshotKey('wiki', 'source', 's1');
    expect(h.state.snapshots.get(key)?.received).toBe(2);
    h.state.drainChanges();
    expect(h.tickAt(HOUR - 1)).toEqual([]);
    const [expired] = h.tickAt(HOUR);
    expect(expired).toMatchObject({
      check: 'parity.snapshot-incomplete',
      status: 'firing',
      severity: 'info',
      subject: { system: 'wiki', feature: 'inventory.source' },
      summary: 'wiki source inventory snapshot s1 got 2 of 3 chunks within 1h and was dropped',
      evidence: { snapshotId: 's1', chunks: 3, received: 2, missingChunks: [1] },
    });
    expect(h.state.snapshots.has(key)).toBe(false);
    const changes = h.state.drainChanges();
    expect(
      changes
        .filter((c) => c.value === null)
        .map((c) => c.key)
        .sort(),
    ).toEqual(['c:["wiki","source","s1",0]', 'c:["wiki","source","s1",2]', key]);
    // The missing chunk arriving late does not start a new assembly.
    expect(h.handle(chunksOf('source', 's1', SOURCE, 0)[1]!)).toEqual([]);
    expect(h.state.snapshots.size).toBe(0);
    // The next complete snapshot of that side resolves it.
    expect(brief(h.handle(...chunksOf('source', 's2', SOURCE, 2 * HOUR)))).toEqual([
      'resolved parity.snapshot-incomplete wiki',
    ]);
  });

  it('rejects a chunk whose count contradicts its snapshot', () => {
    const h = new Harness(SETTINGS);
    h.handle(chunk({ side: 'index', snapshotId: 'i1', chunk: 0, chunks: 3, docIds: ['a'], t: 0 }));
    expect(() =>
      h.handle(
        chunk({ side: 'index', snapshotId: 'i1', chunk: 1, chunks: 4, docIds: ['b'], t: 0 }),
      ),
    ).toThrow(
      new InventoryChunkError(
        'inventory chunk 1 of wiki index snapshot i1 says chunks=4, earlier chunks said 3',
        {
          system: 'wiki',
          side: 'index',
          snapshotId: 'i1',
          chunk: 1,
        },
      ),
    );
  });

  it('resumes an assembly and keeps the latest complete snapshot across a restart', () => {
    const h = new Harness(SETTINGS);
    const log = new Map<string, Buffer | null>();
    h.handle(...chunksOf('source', 's1', SOURCE, 0));
    const index = chunksOf('index', 'i1', INDEX, MINUTE);
    h.handle(index[2]!, index[0]!);
    h.restart(log);
    expect(h.state.snapshots.get(ParityState.snapshotKey('wiki', 'index', 'i1'))?.received).toBe(2);
    expect(h.state.pendingDeadlines()).toEqual([
      { kind: 'expiry', key: ParityState.snapshotKey('wiki', 'index', 'i1'), due: T0 + HOUR },
    ]);
    expect(brief(h.handle(index[1]!)).filter((b) => !b.includes('/'))).toEqual([
      'firing parity.orphan wiki',
      'firing parity.missing wiki',
    ]);
  });
});

describe('reconciliation', () => {
  it('compares only snapshots taken within the tolerance', () => {
    const h = new Harness(SETTINGS);
    h.handle(...chunksOf('source', 's1', SOURCE, 0));
    expect(h.handle(...chunksOf('index', 'i1', INDEX, 16 * MINUTE))).toEqual([]);
    expect(h.handle(...chunksOf('source', 's2', SOURCE, 20 * MINUTE)).length).toBeGreaterThan(0);
  });

  it('drops a snapshot completing after a newer one of its side', () => {
    const h = new Harness(SETTINGS);
    h.handle(...chunksOf('source', 'new', SOURCE, 10 * MINUTE));
    h.handle(...chunksOf('source', 'old', ['a'], 0));
    expect(h.state.side('wiki', 'source')).toMatchObject({ latest: 'new', finished: ['old'] });
    expect(h.state.snapshots.size).toBe(1);
  });

  it('leaves out documents in flight per the ledger, the in-flight lookup, and the snapshot times', () => {
    const h = new Harness(SETTINGS);
    h.clock.set(T0 + 30 * MINUTE);
    h.handle(
      // x: deleted at the source 2 minutes before the index snapshot: in flight for the 10m delete SLA.
      indexed({ docId: 'x', revision: 1, t: 0 }),
      deleted({ docId: 'x', revision: 2, t: 28 * MINUTE }),
      // d: created at the source between the two snapshots.
      upserted({ docId: 'd', revision: 1, t: 29 * MINUTE + 30_000 }),
      // e: changed long before both snapshots: really missing.
      upserted({ docId: 'e', revision: 1, t: 0 }),
    );
    h.inFlight = (_system, docId) => (docId === 'y' ? 29 * MINUTE + T0 : undefined);
    h.handle(...chunksOf('source', 's1', SOURCE, 29 * MINUTE));
    const findings = h.handle(...chunksOf('index', 'i1', INDEX, 30 * MINUTE));
    expect(brief(findings)).toEqual(['firing parity.missing wiki/e', 'firing parity.missing wiki']);
    expect(findings[1]?.evidence).toMatchObject({ count: 1, inFlightExcluded: 1, sample: ['e'] });
    expect(h.state.recons.get('wiki')?.summary).toEqual({ missing: 1 });
  });

  it('caps per-document findings, keeps them stable, re-emits the summary when the count changes, resolves', () => {
    const h = new Harness({ ...SETTINGS, maxDocumentFindings: 2, sampleSize: 3 });
    const base = ['a', 'b'];
    const orphans = ['o1', 'o2', 'o3', 'o4', 'o5'];
    h.handle(...chunksOf('source', 's1', base, 0));
    const first = h.handle(...chunksOf('index', 'i1', [...base, ...orphans], 0));
    const firstDocs = first.filter((f) => f.subject.docId).map((f) => f.subject.docId as string);
    expect(firstDocs).toHaveLength(2);
    const summary = first.find((f) => !f.subject.docId);
    expect(summary?.evidence).toMatchObject({
      count: 5,
      perDocumentFindings: 2,
      perDocumentCap: 2,
    });
    expect(summary?.evidence['sample']).toHaveLength(3);
    // One of the documents with a finding is fixed; another orphan takes its place.
    const fixed = firstDocs[0] as string;
    const second = h.handle(
      ...chunksOf('index', 'i2', [...base, ...orphans.filter((o) => o !== fixed)], HOUR),
      ...chunksOf('source', 's2', base, HOUR),
    );
    const secondBrief = brief(second);
    expect(secondBrief).toContain(`resolved parity.orphan wiki/${fixed}`);
    expect(secondBrief.filter((b) => b.startsWith('firing parity.orphan wiki/'))).toHaveLength(1);
    expect(secondBrief).not.toContain(`firing parity.orphan wiki/${firstDocs[1]}`);
    expect(second.find((f) => !f.subject.docId && f.status === 'firing')?.evidence['count']).toBe(
      4,
    );
    expect(h.state.recons.get('wiki')?.docs.orphan).toHaveLength(2);
    // Same count again: no new summary.
    const same = h.handle(
      ...chunksOf('source', 's3', base, 2 * HOUR),
      ...chunksOf('index', 'i3', [...base, ...orphans.filter((o) => o !== fixed)], 2 * HOUR),
    );
    expect(same).toEqual([]);
    // All fixed: everything resolves.
    const clean = h.handle(
      ...chunksOf('index', 'i4', base, 3 * HOUR),
      ...chunksOf('source', 's4', base, 3 * HOUR),
    );
    expect(brief(clean).sort()).toEqual(
      [
        'resolved parity.orphan wiki',
        ...second
          .filter((f) => f.subject.docId && f.status === 'firing')
          .map((f) => `resolved parity.orphan wiki/${f.subject.docId}`),
        `resolved parity.orphan wiki/${firstDocs[1]}`,
      ].sort(),
    );
  });

  it('withholds per-document findings while the system has a mass removal', () => {
    const h = new Harness({
      ...SETTINGS,
      massRemoval: { share: 0.5, windowMs: 10 * MINUTE, minDocuments: 3 },
    });
    const docs = ['a', 'b', 'c', 'd'];
    h.handle(...docs.map((d) => indexed({ docId: d, revision: 1, t: 0 })));
    h.clock.set(T0 + 20 * MINUTE);
    const wipe = h.handle(
      ...['a', 'b', 'c'].map((d) => removed({ docId: d, revision: 1, t: 20 * MINUTE })),
    );
    // The finding is decided over all partitions (mass-removal.test.ts); this partition sees the burst locally.
    expect(wipe).toEqual([]);
    expect(h.state.systems.get('wiki')?.firing).toBeDefined();
    h.handle(...chunksOf('source', 's1', docs, 20 * MINUTE));
    const recon = h.handle(...chunksOf('index', 'i1', ['d'], 20 * MINUTE));
    // a, b, c changed at 20m (in flight for the 10m sync SLA): wait past it and compare again.
    expect(recon).toEqual([]);
    expect(h.tickAt(25 * MINUTE)).toEqual([]); // still firing
    h.handle(...chunksOf('source', 's2', docs, 25 * MINUTE));
    expect(h.handle(...chunksOf('index', 'i2', ['d'], 25 * MINUTE))).toEqual([]);
    expect(h.tickAt(29 * MINUTE)).toEqual([]);
    h.handle(...chunksOf('source', 's3', docs, 29 * MINUTE));
    expect(h.handle(...chunksOf('index', 'i3', ['d'], 29 * MINUTE))).toEqual([]);
    expect(h.tickAt(31 * MINUTE)).toEqual([]);
    expect(h.state.systems.get('wiki')?.firing).toBeUndefined();
    // The new source snapshot is compared with the index snapshot of 29m (within the tolerance).
    const after = h.handle(...chunksOf('source', 's4', docs, 31 * MINUTE));
    expect(brief(after)).toEqual(['firing parity.missing wiki']);
    expect(after[0]?.evidence).toMatchObject({
      count: 3,
      perDocumentFindings: 0,
      suppressedBy: 'parity.mass-removal',
    });
    expect(after[0]?.summary).toBe(
      '3 wiki source documents missing from the index (during a mass removal: per-document findings withheld)',
    );
    expect(h.handle(...chunksOf('index', 'i4', ['d'], 31 * MINUTE))).toEqual([]);
  });
});
