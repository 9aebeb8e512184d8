import { describe, expect, it } from 'vitest';
import { FIRING } from './state.js';
import {
  HOUR,
  Harness,
  MINUTE,
  T0,
  brief,
  deleted,
  indexed,
  removed,
  upserted,
} from './test-helpers.js';

const SETTINGS = {
  deleteSlaMs: 10 * MINUTE,
  aclSlaMs: 5 * MINUTE,
  massRemoval: { share: 0.5, windowMs: 10 * MINUTE, minDocuments: 10 },
  ledgerRetentionMs: 24 * HOUR,
};
const doc = 'd1';

describe('parity.delete-missed', () => {
  it.each([
    {
      name: 'removal within the SLA: nothing fires',
      steps: () => [
        deleted({ docId: doc, revision: 3, t: 0 }),
        removed({ docId: doc, revision: 3, t: 2 * MINUTE }),
      ],
      expected: [],
    },
    {
      name: 'removal of a newer revision covers the deletion',
      steps: () => [
        deleted({ docId: doc, revision: 3, t: 0 }),
        removed({ docId: doc, revision: 4, t: MINUTE }),
      ],
      expected: [],
    },
    {
      name: 'index.removed before content.deleted (out of order): nothing fires',
      steps: () => [
        removed({ docId: doc, revision: 3, t: MINUTE }),
        deleted({ docId: doc, revision: 3, t: 0 }),
      ],
      expected: [],
    },
    {
      name: 'removal of an older revision does not cover the deletion',
      steps: () => [
        deleted({ docId: doc, revision: 3, t: 0 }),
        removed({ docId: doc, revision: 2, t: MINUTE }),
      ],
      expected: ['firing parity.delete-missed wiki/d1'],
    },
    {
      name: 'the index had already removed it (older revision) before the deletion: nothing left to remove',
      steps: () => [
        indexed({ docId: doc, revision: 1, t: 0 }),
        removed({ docId: doc, revision: 1, t: 0 }),
        deleted({ docId: doc, revision: 3, t: MINUTE }),
      ],
      expected: [],
    },
    {
      name: 'a deletion of a document the ledger never saw indexed still expects a removal',
      steps: () => [deleted({ docId: doc, revision: 3, t: 0 })],
      expected: ['firing parity.delete-missed wiki/d1'],
    },
    {
      name: 'no removal: fires at the deadline',
      steps: () => [
        indexed({ docId: doc, revision: 2, t: 0 }),
        deleted({ docId: doc, revision: 3, t: 0 }),
      ],
      expected: ['firing parity.delete-missed wiki/d1'],
    },
    {
      name: 'the source re-creates the document with a higher revision: nothing to remove',
      steps: () => [
        deleted({ docId: doc, revision: 3, t: 0 }),
        upserted({ docId: doc, revision: 4, t: MINUTE }),
      ],
      expected: [],
    },
  ])('$name', ({ steps, expected }) => {
    const h = new Harness(SETTINGS);
    expect(h.handle(...steps())).toEqual([]);
    expect(brief(h.tickAt(10 * MINUTE - 1))).toEqual([]);
    expect(brief(h.tickAt(10 * MINUTE))).toEqual(expected);
    expect(brief(h.tickAt(HOUR))).toEqual([]);
  });

  it('resolves when the removal arrives after the deadline, with exact evidence', () => {
    const h = new Harness(SETTINGS);
    h.handle(
      indexed({ docId: doc, revision: 2, t: 0 }),
      deleted({ docId: doc, revision: 3, t: MINUTE }),
    );
    const [firing] = h.tickAt(11 * MINUTE);
    expect(firing).toMatchObject({
      check: 'parity.delete-missed',
      status: 'firing',
      severity: 'high',
      subject: { system: 'wiki', docId: 'd1' },
      observedAt: '2026-01-01T00:11:00.000Z',
      summary:
        'wiki/d1 was deleted at the source 2026-01-01T00:01:00.000Z (revision 3) and the index has not removed it within 10m',
      evidence: {
        sla: '10m',
        deadline: '2026-01-01T00:11:00.000Z',
        sourceRevision: 3,
        indexedRevision: 2,
      },
    });
    h.clock.set(T0 + 20 * MINUTE);
    const resolved = h.handle(removed({ docId: doc, revision: 3, t: 19 * MINUTE }));
    expect(brief(resolved)).toEqual(['resolved parity.delete-missed wiki/d1']);
    expect(resolved[0]?.fingerprint).toBe(firing?.fingerprint);
    // A duplicate delivery of the removal changes nothing.
    expect(h.handle(removed({ docId: doc, revision: 3, t: 19 * MINUTE }))).toEqual([]);
  });

  it('a deletion arriving after its deadline already passed fires on the next tick, not on handling', () => {
    const h = new Harness(SETTINGS);
    h.clock.set(T0 + HOUR);
    expect(brief(h.handle(deleted({ docId: doc, revision: 1, t: 0 })))).toEqual([]);
    expect(brief(h.tickAt(HOUR))).toEqual(['firing parity.delete-missed wiki/d1']);
  });

  it('ignores stale and duplicate source events', () => {
    const h = new Harness(SETTINGS);
    h.handle(deleted({ docId: doc, revision: 5, t: 0 }));
    h.handle(upserted({ docId: doc, revision: 4, t: MINUTE })); // older revision arriving late
    h.handle(deleted({ docId: doc, revision: 5, t: 0 })); // duplicate
    expect(brief(h.tickAt(10 * MINUTE))).toEqual(['firing parity.delete-missed wiki/d1']);
    expect(h.state.docs.size).toBe(1);
  });
});

describe('parity.resurrected', () => {
  it.each([
    {
      name: 'upsert after the removal, revision <= deleted: critical',
      events: [
        indexed({ docId: doc, revision: 3, t: 0 }),
        deleted({ docId: doc, revision: 4, t: MINUTE }),
        removed({ docId: doc, revision: 4, t: 2 * MINUTE }),
        indexed({ docId: doc, revision: 3, t: 3 * MINUTE }),
      ],
      expected: ['firing parity.resurrected wiki/d1'],
    },
    {
      name: 'upsert applied before the deletion but delivered after it (out of order): nothing',
      events: [
        deleted({ docId: doc, revision: 4, t: 2 * MINUTE }),
        indexed({ docId: doc, revision: 3, t: MINUTE }),
        removed({ docId: doc, revision: 4, t: 3 * MINUTE }),
      ],
      expected: [],
    },
    {
      name: 'an in-order backlog applying the old revision just after the deletion: nothing',
      events: [
        deleted({ docId: doc, revision: 4, t: 0 }),
        indexed({ docId: doc, revision: 3, t: MINUTE }),
        removed({ docId: doc, revision: 4, t: 2 * MINUTE }),
      ],
      expected: [],
    },
    {
      name: 'upsert of a deleted revision later than the delete SLA, never removed: critical',
      events: [
        deleted({ docId: doc, revision: 4, t: 0 }),
        indexed({ docId: doc, revision: 4, t: 11 * MINUTE }),
      ],
      // It also never removed the deletion: both are true.
      expected: ['firing parity.resurrected wiki/d1', 'firing parity.delete-missed wiki/d1'],
    },
    {
      name: 're-created at the source with a higher revision, then indexed: not a resurrection',
      events: [
        deleted({ docId: doc, revision: 4, t: 0 }),
        removed({ docId: doc, revision: 4, t: MINUTE }),
        upserted({ docId: doc, revision: 5, t: 2 * MINUTE }),
        indexed({ docId: doc, revision: 5, t: 3 * MINUTE }),
      ],
      expected: [],
    },
    {
      name: 're-created source revision arrives after the index applied it: not a resurrection',
      events: [
        deleted({ docId: doc, revision: 4, t: 0 }),
        removed({ docId: doc, revision: 4, t: MINUTE }),
        indexed({ docId: doc, revision: 5, t: 3 * MINUTE }),
        upserted({ docId: doc, revision: 5, t: 2 * MINUTE }),
      ],
      expected: [],
    },
  ])('$name', ({ events, expected }) => {
    const h = new Harness(SETTINGS);
    expect(brief(h.live(...events))).toEqual(expected);
  });

  it('resolves when the index removes it again or the source re-creates it', () => {
    const h = new Harness(SETTINGS);
    h.handle(
      deleted({ docId: doc, revision: 4, t: 0 }),
      removed({ docId: doc, revision: 4, t: MINUTE }),
    );
    const [firing] = h.handle(indexed({ docId: doc, revision: 4, t: 2 * MINUTE }));
    expect(firing).toMatchObject({ severity: 'critical', evidence: { revision: 4 } });
    expect(brief(h.handle(removed({ docId: doc, revision: 4, t: 3 * MINUTE })))).toEqual([
      'resolved parity.resurrected wiki/d1',
    ]);
    expect(brief(h.handle(indexed({ docId: doc, revision: 4, t: 4 * MINUTE })))).toEqual([
      'firing parity.resurrected wiki/d1',
    ]);
    expect(brief(h.handle(upserted({ docId: doc, revision: 6, t: 5 * MINUTE })))).toEqual([
      'resolved parity.resurrected wiki/d1',
    ]);
  });
});

describe('parity.acl-mismatch', () => {
  it.each([
    {
      name: 'same revision, different ACL, never fixed: fires after the ACL SLA',
      events: [
        upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        indexed({ docId: doc, revision: 2, t: MINUTE, aclHash: 'B' }),
      ],
      due: 6 * MINUTE,
      expected: ['firing parity.acl-mismatch wiki/d1'],
    },
    {
      name: 'index arrives first with a different ACL, source later (out of order)',
      events: [
        indexed({ docId: doc, revision: 2, t: MINUTE, aclHash: 'B' }),
        upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
      ],
      due: 6 * MINUTE,
      expected: ['firing parity.acl-mismatch wiki/d1'],
    },
    {
      name: 'ACL change at the source that never reaches the index',
      events: [
        upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        indexed({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        upserted({ docId: doc, revision: 3, t: 2 * MINUTE, aclHash: 'TIGHT' }),
      ],
      due: 7 * MINUTE,
      expected: ['firing parity.acl-mismatch wiki/d1'],
    },
    {
      name: 'ACL change caught up within the SLA: nothing',
      events: [
        upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        indexed({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        upserted({ docId: doc, revision: 3, t: 2 * MINUTE, aclHash: 'TIGHT' }),
        indexed({ docId: doc, revision: 3, t: 4 * MINUTE, aclHash: 'TIGHT' }),
      ],
      due: 7 * MINUTE,
      expected: [],
    },
    {
      name: 'content-only change at the source (same ACL) with the index behind: nothing',
      events: [
        upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        indexed({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        upserted({ docId: doc, revision: 3, t: 2 * MINUTE, aclHash: 'A' }),
      ],
      due: 7 * MINUTE,
      expected: [],
    },
    {
      name: 'index ahead of the source events seen: unknown, nothing',
      events: [
        upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
        indexed({ docId: doc, revision: 3, t: MINUTE, aclHash: 'B' }),
      ],
      due: 6 * MINUTE,
      expected: [],
    },
    {
      name: 'no aclHash on one side: unknown, nothing',
      events: [
        upserted({ docId: doc, revision: 2, t: 0 }),
        indexed({ docId: doc, revision: 2, t: MINUTE, aclHash: 'B' }),
      ],
      due: 6 * MINUTE,
      expected: [],
    },
  ])('$name', ({ events, due, expected }) => {
    const h = new Harness(SETTINGS);
    h.handle(...events);
    expect(brief(h.tickAt(due - 1))).toEqual([]);
    expect(brief(h.tickAt(due))).toEqual(expected);
  });

  it('fires critical and resolves when the index catches up', () => {
    const h = new Harness(SETTINGS);
    h.handle(
      upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
      indexed({ docId: doc, revision: 2, t: 0, aclHash: 'A' }),
      upserted({ docId: doc, revision: 3, t: MINUTE, aclHash: 'TIGHT' }),
    );
    const [firing] = h.tickAt(6 * MINUTE);
    expect(firing).toMatchObject({
      severity: 'critical',
      summary:
        'wiki/d1: the source changed its ACL (revision 3) and the index still enforces the ACL of revision 2 since 2026-01-01T00:01:00.000Z',
      evidence: { sourceAclHash: 'TIGHT', indexAclHash: 'A', sla: '5m' },
    });
    h.clock.set(T0 + 8 * MINUTE);
    expect(
      brief(h.handle(indexed({ docId: doc, revision: 3, t: 8 * MINUTE, aclHash: 'TIGHT' }))),
    ).toEqual(['resolved parity.acl-mismatch wiki/d1']);
    expect(h.state.docs.get('d:["wiki","d1"]')?.firing).toBe(0);
  });

  it('carries only ids for restricted documents', () => {
    const h = new Harness(SETTINGS);
    h.handle(
      upserted({ docId: doc, revision: 2, t: 0, aclHash: 'A', classification: 'restricted' }),
      indexed({ docId: doc, revision: 2, t: 0, aclHash: 'B' }),
    );
    const [firing] = h.tickAt(5 * MINUTE);
    expect(firing).toMatchObject({
      restricted: true,
      summary: 'parity.acl-mismatch on wiki/d1 (restricted document: details withheld)',
      evidence: { sla: '5m', sourceRevision: 2, indexedRevision: 2 },
    });
    expect(firing?.evidence).not.toHaveProperty('sourceAclHash');
  });
});

describe('ledger retention', () => {
  it('forgets a deleted and removed document after the retention, writing a tombstone', () => {
    const h = new Harness(SETTINGS);
    h.handle(
      deleted({ docId: doc, revision: 1, t: 0 }),
      removed({ docId: doc, revision: 1, t: MINUTE }),
    );
    h.state.drainChanges();
    h.tickAt(MINUTE + 24 * HOUR - 1);
    expect(h.state.docs.size).toBe(1);
    h.tickAt(MINUTE + 24 * HOUR);
    expect(h.state.docs.size).toBe(0);
    expect(h.state.drainChanges()).toEqual([{ key: 'd:["wiki","d1"]', value: null }]);
  });
});

describe('local mass-removal burst (per partition: defers per-document findings, fires nothing)', () => {
  const docs = Array.from({ length: 40 }, (_, i) => `doc-${i}`);
  const fill = (h: Harness) =>
    h.handle(...docs.map((d) => indexed({ docId: d, revision: 1, t: 0 })));

  it('defers a delete-missed due during the burst and fires it once the burst left the window', () => {
    const h = new Harness(SETTINGS, { partition: 3 });
    fill(h);
    // One real deletion the index misses, due while the burst is on.
    h.handle(deleted({ docId: 'doc-39', revision: 2, t: 0 }));
    h.clock.set(T0 + 5 * MINUTE);
    const burst = docs
      .slice(0, 25)
      .map((d, i) => removed({ docId: d, revision: 1, t: 5 * MINUTE + i * 1000 }));
    expect(h.handle(...burst)).toEqual([]);
    expect(h.state.systems.get('wiki')?.firing).toMatchObject({ removed: 21, known: 40 });
    expect(brief(h.tickAt(10 * MINUTE))).toEqual([]);
    expect(h.state.systems.get('wiki')?.deferred).toBe(1);
    // The burst leaves the window 10 minutes after its removals: the held-back finding fires.
    expect(brief(h.tickAt(16 * MINUTE))).toEqual(['firing parity.delete-missed wiki/doc-39']);
    expect(h.state.systems.get('wiki')?.firing).toBeUndefined();
  });

  it.each([
    { name: 'below the share', removals: 15, minDocuments: 10, burst: false },
    { name: 'fewer than minDocuments', removals: 25, minDocuments: 30, burst: false },
    { name: 'over the share', removals: 21, minDocuments: 10, burst: true },
  ])('$name', ({ removals, minDocuments, burst }) => {
    const h = new Harness({ ...SETTINGS, massRemoval: { ...SETTINGS.massRemoval, minDocuments } });
    fill(h);
    const wipe = docs.slice(0, removals).map((d) => removed({ docId: d, revision: 1, t: MINUTE }));
    expect(h.handle(...wipe)).toEqual([]);
    expect(h.state.systems.get('wiki')?.firing !== undefined).toBe(burst);
  });

  it.each([
    { name: 'removals spread over twice the window', spacing: MINUTE, burst: false },
    { name: 'the same removals within a minute', spacing: 1000, burst: true },
  ])('counts only removals within the window: $name', ({ spacing, burst }) => {
    const h = new Harness({
      ...SETTINGS,
      massRemoval: { share: 0.1, windowMs: 10 * MINUTE, minDocuments: 12 },
    });
    const many = Array.from({ length: 100 }, (_, i) => `m-${i}`);
    h.handle(...many.map((d) => indexed({ docId: d, revision: 1, t: 0 })));
    expect(
      h.live(
        ...many.slice(0, 20).map((d, i) => removed({ docId: d, revision: 1, t: i * spacing })),
      ),
    ).toEqual([]);
    // lastFiringAt stays set once a burst was seen at any point.
    expect(h.state.systems.get('wiki')?.lastFiringAt !== undefined).toBe(burst);
  });
});

describe('restore from the changelog', () => {
  it('rebuilds the same pending deadlines and firing set, and fires nothing twice', () => {
    const h = new Harness(SETTINGS);
    h.handle(
      indexed({ docId: 'a', revision: 1, t: 0 }),
      deleted({ docId: 'a', revision: 2, t: 0 }), // delete deadline 10m
      upserted({ docId: 'b', revision: 1, t: 0, aclHash: 'A' }),
      indexed({ docId: 'b', revision: 1, t: MINUTE, aclHash: 'B' }), // acl deadline 6m
      deleted({ docId: 'c', revision: 1, t: 0 }),
      indexed({ docId: 'c', revision: 1, t: 11 * MINUTE }), // resurrected, firing
      upserted({ docId: 'd', revision: 1, t: 0, aclHash: 'A' }),
      indexed({ docId: 'd', revision: 1, t: 0, aclHash: 'X' }),
    );
    expect(brief(h.tickAt(5 * MINUTE))).toEqual(['firing parity.acl-mismatch wiki/d']);
    const pending = h.state.pendingDeadlines();
    const firing = [...h.state.docs.values()].map((r) => [r.docId, r.firing]);
    const log = new Map<string, Buffer | null>();
    h.restart(log);
    expect(h.state.pendingDeadlines()).toEqual(pending);
    expect([...h.state.docs.values()].map((r) => [r.docId, r.firing])).toEqual(firing);
    expect(firing).toContainEqual(['c', FIRING.resurrected]);
    expect(h.state.held.get('wiki')).toBe(4);
    // Deadlines fire once, after the restart; already-firing findings do not fire again.
    expect(brief(h.tickAt(HOUR))).toEqual([
      'firing parity.acl-mismatch wiki/b',
      'firing parity.delete-missed wiki/a',
      'firing parity.delete-missed wiki/c',
    ]);
    h.restart(log);
    expect(h.tickAt(2 * HOUR)).toEqual([]);
  });

  it('keeps a local burst and its re-check across a restart', () => {
    const h = new Harness(SETTINGS);
    const docs = Array.from({ length: 20 }, (_, i) => `doc-${i}`);
    h.handle(...docs.map((d) => indexed({ docId: d, revision: 1, t: 0 })));
    h.clock.set(T0 + MINUTE);
    h.handle(...docs.slice(0, 15).map((d) => removed({ docId: d, revision: 1, t: MINUTE })));
    const pending = h.state.pendingDeadlines();
    expect(pending).toEqual([{ kind: 'mass', key: 'wiki', due: T0 + 2 * MINUTE }]);
    h.restart(new Map());
    expect(h.state.pendingDeadlines()).toEqual(pending);
    expect(h.state.held.get('wiki')).toBe(5);
    expect(h.state.systems.get('wiki')?.firing).toBeDefined();
    expect(h.tickAt(5 * MINUTE)).toEqual([]);
    expect(h.state.systems.get('wiki')?.firing).toBeDefined();
    expect(h.tickAt(12 * MINUTE)).toEqual([]);
    expect(h.state.systems.get('wiki')?.firing).toBeUndefined();
  });
});
