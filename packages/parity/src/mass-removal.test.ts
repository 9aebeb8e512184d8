import { describe, expect, it } from 'vitest';
import {
  applyMassPartial,
  collectMassPartials,
  massPartialEvent,
  type MassPartial,
} from './mass-removal.js';
import { Cluster, HOUR, MINUTE, T0, brief, deleted, indexed, removed } from './test-helpers.js';

const SETTINGS = {
  deleteSlaMs: 10 * MINUTE,
  massRemoval: { share: 0.5, windowMs: 10 * MINUTE, minDocuments: 10 },
};
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `doc-${from + i}`);

/** A cluster of `partitions` holding `docs` documents indexed at T0. */
function filled(partitions: number, docs: number, overrides = SETTINGS): Cluster {
  const c = new Cluster(partitions, overrides);
  c.handle(...ids(docs).map((d) => indexed({ docId: d, revision: 1, t: 0 })));
  // The first tick: every partition reports what it holds.
  expect(c.tickAt(0)).toEqual([]);
  return c;
}

describe('parity.mass-removal over all partitions (one finding per system)', () => {
  it('a burst spread over three partitions fires once, with the system’s numbers and the connector that made it', () => {
    const c = filled(3, 90);
    // 60 of 90 removed within a minute: 20 in each partition.
    c.handle(...ids(60).map((d, i) => removed({ docId: d, revision: 1, t: 5 * MINUTE + i * 500 })));
    const fired = c.tickAt(6 * MINUTE);
    expect(brief(fired)).toEqual(['firing parity.mass-removal wiki']);
    expect(fired[0]).toMatchObject({
      severity: 'critical',
      subject: { system: 'wiki' },
      evidence: {
        connector: 'wiki-prod',
        count: 60,
        known: 90,
        threshold: 0.5,
        window: '10m',
        expected: 0,
        partitions: 3,
        connectors: { 'wiki-prod': 60 },
      },
      summary:
        'the index removed 60 of 90 known wiki documents (67%) within 10m (connector wiki-prod)',
    });
    expect(fired[0]?.subject).not.toHaveProperty('partition');
    // Ticks while it lasts add nothing; once the removals left the window it resolves once, same fingerprint.
    expect(c.tickAt(8 * MINUTE)).toEqual([]);
    const resolved = c.tickAt(17 * MINUTE);
    expect(brief(resolved)).toEqual(['resolved parity.mass-removal wiki']);
    expect(resolved[0]?.fingerprint).toBe(fired[0]?.fingerprint);
    expect(resolved[0]?.subject).toEqual(fired[0]?.subject);
    expect(c.tickAt(HOUR)).toEqual([]);
  });

  it('is observed no earlier than the removals it counts, when the tick trails the records read', () => {
    const c = filled(3, 90);
    // Handlers read removals up to 7m; the tick runs at 6m (an event-time host ticks behind the newest record).
    c.handle(
      ...ids(60).map((d, i) => removed({ docId: d, revision: 1, t: 5 * MINUTE + i * 2000 })),
    );
    const fired = c.tickAt(6 * MINUTE);
    expect(brief(fired)).toEqual(['firing parity.mass-removal wiki']);
    expect(fired[0]?.observedAt).toBe(new Date(T0 + 5 * MINUTE + 59 * 2000).toISOString());
  });

  it('fires for a burst that no single partition sees enough of (the per-partition rule missed it)', () => {
    const c = filled(3, 36, {
      ...SETTINGS,
      massRemoval: { ...SETTINGS.massRemoval, minDocuments: 20 },
    });
    // 27 of 36 removed: 9 per partition, under minDocuments in each, over it (and the share) in sum.
    c.handle(...ids(27).map((d) => removed({ docId: d, revision: 1, t: MINUTE })));
    expect(brief(c.tickAt(2 * MINUTE))).toEqual(['firing parity.mass-removal wiki']);
    // No partition saw a local burst, so none holds its per-document findings back.
    expect(c.parts.map((h) => h.state.systems.get('wiki')?.firing)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it.each([
    { name: 'below the share in sum', removals: 40, minDocuments: 10, expected: [] },
    { name: 'fewer than minDocuments in sum', removals: 60, minDocuments: 61, expected: [] },
    {
      name: 'over the share in sum',
      removals: 46,
      minDocuments: 10,
      expected: ['firing parity.mass-removal wiki'],
    },
  ])('$name', ({ removals, minDocuments, expected }) => {
    const c = filled(3, 90, {
      ...SETTINGS,
      massRemoval: { ...SETTINGS.massRemoval, minDocuments },
    });
    c.handle(...ids(removals).map((d) => removed({ docId: d, revision: 1, t: MINUTE })));
    expect(brief(c.tickAt(2 * MINUTE))).toEqual(expected);
  });

  it('names no connector when removals came from more than one', () => {
    const c = filled(2, 40);
    c.handle(
      ...ids(30).map((d, i) => {
        const e = removed({ docId: d, revision: 1, t: MINUTE });
        if (i % 2 === 1) (e.data as { connector: string }).connector = 'wiki-backfill';
        return e;
      }),
    );
    const [finding] = c.tickAt(2 * MINUTE);
    expect(finding?.subject).toEqual({ system: 'wiki' });
    expect(finding?.evidence).not.toHaveProperty('connector');
    expect(finding?.evidence['connectors']).toEqual({ 'wiki-backfill': 15, 'wiki-prod': 15 });
  });

  it('keeps the per-partition deferral: each partition holds back its delete-missed, the resolve counts them all', () => {
    const c = filled(3, 90);
    // Two real deletions the index misses (partitions 0 and 1), due at 10m, while the burst is on.
    c.handle(
      deleted({ docId: 'doc-87', revision: 2, t: 0 }),
      deleted({ docId: 'doc-88', revision: 2, t: 0 }),
    );
    c.handle(...ids(60).map((d) => removed({ docId: d, revision: 1, t: 5 * MINUTE })));
    expect(brief(c.tickAt(5 * MINUTE))).toEqual(['firing parity.mass-removal wiki']);
    expect(c.tickAt(10 * MINUTE)).toEqual([]);
    // The burst leaves the window at 15m: the system resolves once, then each held-back finding fires.
    const after = [...c.tickAt(15 * MINUTE), ...c.tickAt(16 * MINUTE)];
    expect(brief(after).sort()).toEqual([
      'firing parity.delete-missed wiki/doc-87',
      'firing parity.delete-missed wiki/doc-88',
      'resolved parity.mass-removal wiki',
    ]);
    expect(after.find((f) => f.check === 'parity.mass-removal')?.evidence).toMatchObject({
      deferredDeleteMissed: 2,
      firedWith: { count: 60, known: 90 },
    });
  });

  it('sends a partial only when a partition’s counts change, and ignores a redelivered older one', () => {
    const c = filled(2, 40);
    c.handle(...ids(30).map((d) => removed({ docId: d, revision: 1, t: MINUTE })));
    const p0 = c.parts[0]!;
    expect(brief(c.tickAt(2 * MINUTE))).toEqual(['firing parity.mass-removal wiki']);
    // Nothing changed: no partial, no finding.
    expect(c.tickAt(3 * MINUTE)).toEqual([]);
    expect(c.parts.flatMap((h) => collectMassPartials(h.state, h.ctx()))).toEqual([]);
    // An old partial of partition 1 (before any removal) arriving late changes nothing.
    const stale: MassPartial = {
      system: 'wiki',
      partition: 1,
      at: T0,
      held: 20,
      deferred: 0,
      buckets: [],
    };
    expect(
      applyMassPartial(p0.state, massPartialEvent(stale, 'parity-verifier'), p0.ctx()),
    ).toEqual([]);
    expect(p0.state.masses.get('wiki')?.firing).toBeDefined();
  });

  it('a partition without removals reports its held count once, then only when it moved by more than 10%', () => {
    const c = new Cluster(1, SETTINGS);
    const h = c.parts[0]!;
    const held = () => collectMassPartials(h.state, h.ctx()).map((p) => p.held);
    c.handle(...ids(20).map((d) => indexed({ docId: d, revision: 1, t: 0 })));
    expect(held()).toEqual([20]);
    expect(held()).toEqual([]);
    c.handle(...ids(2, 20).map((d) => indexed({ docId: d, revision: 1, t: 0 })));
    expect(held()).toEqual([]); // 22: within 10% of 20
    c.handle(indexed({ docId: 'doc-22', revision: 1, t: 0 }));
    expect(held()).toEqual([23]);
  });

  it('a partition far behind in event time reporting the same burst late does not fire it a second time', () => {
    // Live, partitions move through event time at their own speed; this decider hears them out of step.
    const c = new Cluster(1, SETTINGS);
    const h = c.parts[0]!;
    const report = (partition: number, atMin: number, held: number, burst?: [number, number]) =>
      brief(
        applyMassPartial(
          h.state,
          massPartialEvent(
            {
              system: 'wiki',
              partition,
              at: T0 + atMin * MINUTE,
              held,
              deferred: 0,
              buckets: burst
                ? [{ start: T0 + burst[0] * MINUTE, removed: burst[1], expected: 0 }]
                : [],
            },
            'parity-verifier',
          ),
          h.ctx(),
        ),
      );
    for (const p of [0, 1, 2]) expect(report(p, 0, 30)).toEqual([]);
    // The burst: 25 of partition 0's 30 documents at minute 1, 25 of partition 1's at minute 2.
    expect(report(0, 2, 5, [1, 25])).toEqual([]);
    expect(report(1, 3, 5, [2, 25])).toEqual(['firing parity.mass-removal wiki']);
    // Partition 0 races ahead: its bucket left the window, 25 of 65 is under half — resolved.
    expect(report(0, 12, 5)).toEqual(['resolved parity.mass-removal wiki']);
    // Partition 2, behind, now reports its 25 removals of minute 7: the same burst, not a new problem.
    expect(report(2, 8, 5, [7, 25])).toEqual([]);
    // A burst after the resolve is one: it fires.
    expect(report(0, 20, 5, [19, 40])).toEqual(['firing parity.mass-removal wiki']);
  });

  it('restores the decision from the changelog: no second firing, one resolve', () => {
    const c = filled(3, 90);
    c.handle(...ids(60).map((d) => removed({ docId: d, revision: 1, t: MINUTE })));
    expect(brief(c.tickAt(2 * MINUTE))).toEqual(['firing parity.mass-removal wiki']);
    for (const h of c.parts) h.restart(new Map());
    expect(c.parts[0]?.state.masses.get('wiki')?.firing).toMatchObject({ removed: 60, known: 90 });
    expect(c.tickAt(3 * MINUTE)).toEqual([]);
    expect(brief(c.tickAt(12 * MINUTE))).toEqual(['resolved parity.mass-removal wiki']);
  });
});
