import { ManualClock, findingFingerprint, parseTime } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { advanceTo, applyEvent, type FreshnessInputEvent } from './checks.js';
import { FreshnessLedger } from './ledger.js';
import {
  MINUTE,
  T0,
  TRACE_A,
  TRACE_B,
  at,
  brief,
  deleted,
  indexed,
  settingsWith,
  testSettings,
  upserted,
} from './test-events.js';

const SLA = 15 * MINUTE;

function setup() {
  const ledger = new FreshnessLedger({ settings: testSettings });
  const clock = new ManualClock(T0);
  const apply = (event: FreshnessInputEvent, traceparent?: string) =>
    applyEvent(ledger, event, parseTime(event.time), traceparent);
  const tickAt = (ms: number) => {
    clock.set(ms);
    return advanceTo(ledger, clock.now());
  };
  return { ledger, clock, apply, tickAt };
}

describe('freshness.sync-lag', () => {
  it('fires exactly at the deadline, not a millisecond before, with the source change trace', () => {
    const { apply, tickAt } = setup();
    expect(apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }), TRACE_A).findings).toEqual([]);
    expect(tickAt(T0 + SLA - 1)).toEqual([]);
    const fired = tickAt(T0 + SLA);
    expect(brief(fired)).toEqual([`freshness.sync-lag firing PAGE-1@${at(SLA)}`]);
    const [finding] = fired;
    expect(finding).toMatchObject({
      severity: 'high',
      fingerprint: findingFingerprint('freshness.sync-lag', {
        system: 'confluence',
        docId: 'PAGE-1',
      }),
      subject: { system: 'confluence', docId: 'PAGE-1', contentClass: 'policy' },
      owner: {
        steward: 'alice@example.com',
        team: 'confluence-platform',
        platformOwner: 'kb-platform@example.com',
      },
      contract: { file: 'contracts/confluence.yaml', version: '3' },
      labels: { tier: '1' },
      traceparent: TRACE_A,
      evidence: {
        sourceRevision: 1,
        latestRevision: 1,
        deletion: false,
        indexedRevision: null,
        slaSeconds: 900,
        pendingSince: at(0),
        deadline: at(SLA),
        lagSeconds: 900,
      },
    });
    expect(finding?.summary).toBe(
      `confluence/PAGE-1: source revision 1 not applied by the index within the 15m sync-lag SLA (waiting since ${at(0)})`,
    );
    expect(tickAt(T0 + 10 * SLA)).toEqual([]);
  });

  it('resolves once when the index catches up, carrying the source trace, and records the lag', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 4, at: T0 }), TRACE_A);
    expect(tickAt(T0 + SLA)).toHaveLength(1);
    const index = indexed({ docId: 'PAGE-1', revision: 4, at: T0 + 20 * MINUTE, sourceTime: T0 });
    const outcome = apply(index, TRACE_B);
    expect(brief(outcome.findings)).toEqual([
      `freshness.sync-lag resolved PAGE-1@${at(20 * MINUTE)}`,
    ]);
    expect(outcome.findings[0]).toMatchObject({
      traceparent: TRACE_A,
      subject: { connector: 'confluence-prod' },
      summary: 'confluence/PAGE-1: the index caught up with revision 4 after 20m',
    });
    expect(outcome.syncLag).toEqual({
      system: 'confluence',
      connector: 'confluence-prod',
      contentClass: 'policy',
      seconds: 1200,
    });
    // A duplicate delivery of the same index event: no finding, no second lag sample.
    expect(apply(index)).toEqual({ findings: [] });
    expect(tickAt(T0 + 100 * SLA)).toEqual([]);
  });

  it('never fires when the index applies the revision before the deadline', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + SLA - 1, sourceTime: T0 }));
    expect(tickAt(T0 + 100 * SLA)).toEqual([]);
  });

  it('does not let an index event for an older revision resolve a newer one', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(upserted({ docId: 'PAGE-1', revision: 2, at: T0 + MINUTE }));
    expect(brief(tickAt(T0 + SLA))).toEqual([`freshness.sync-lag firing PAGE-1@${at(SLA)}`]);
    expect(
      apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + SLA + 1, sourceTime: T0 })).findings,
    ).toEqual([]);
    expect(tickAt(T0 + 10 * SLA)).toEqual([]);
    const caughtUp = apply(
      indexed({ docId: 'PAGE-1', revision: 2, at: T0 + 10 * SLA + 1, sourceTime: T0 + MINUTE }),
    );
    expect(brief(caughtUp.findings)).toEqual([
      `freshness.sync-lag resolved PAGE-1@${at(10 * SLA + 1)}`,
    ]);
  });

  it('orders by revision, not arrival: the index event may come before the source event', () => {
    const { apply, tickAt } = setup();
    apply(indexed({ docId: 'PAGE-1', revision: 3, at: T0 + MINUTE, sourceTime: T0 }));
    apply(upserted({ docId: 'PAGE-1', revision: 3, at: T0 }));
    apply(upserted({ docId: 'PAGE-1', revision: 2, at: T0 - MINUTE })); // older, late
    expect(tickAt(T0 + 100 * SLA)).toEqual([]);
  });

  it('counts the clock from the oldest unapplied revision even if it arrives after a newer one', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 2, at: T0 + 5 * MINUTE }), TRACE_B);
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }), TRACE_A);
    const fired = tickAt(T0 + SLA);
    expect(brief(fired)).toEqual([`freshness.sync-lag firing PAGE-1@${at(SLA)}`]);
    expect(fired[0]).toMatchObject({
      traceparent: TRACE_A,
      evidence: { sourceRevision: 1, latestRevision: 2 },
    });
  });

  it('restarts the clock from the latest revision after a partial catch-up', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(upserted({ docId: 'PAGE-1', revision: 2, at: T0 + 10 * MINUTE }));
    apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + 11 * MINUTE, sourceTime: T0 }));
    expect(tickAt(T0 + 10 * MINUTE + SLA - 1)).toEqual([]);
    expect(brief(tickAt(T0 + 10 * MINUTE + SLA))).toEqual([
      `freshness.sync-lag firing PAGE-1@${at(10 * MINUTE + SLA)}`,
    ]);
  });

  it('reports a breach found only by a late catch-up (no tick in between) as fired at the deadline and resolved', () => {
    const { apply } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    const outcome = apply(
      indexed({ docId: 'PAGE-1', revision: 1, at: T0 + SLA + 5, sourceTime: T0 }),
    );
    expect(brief(outcome.findings)).toEqual([
      `freshness.sync-lag firing PAGE-1@${at(SLA)}`,
      `freshness.sync-lag resolved PAGE-1@${at(SLA + 5)}`,
    ]);
  });

  // Content can be read ahead of a sync backlog (another topic): a content event past the deadline is no proof
  // that the index was late, the tick (which waits for every topic) is.
  it('a newer source revision read past the deadline fires nothing; the tick fires it unless the index event comes first', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(upserted({ docId: 'PAGE-2', revision: 1, at: T0 }));
    const newer = (docId: string) =>
      apply(upserted({ docId, revision: 2, at: T0 + SLA + 30_000 })).findings;
    expect(brief([...newer('PAGE-1'), ...newer('PAGE-2')])).toEqual([]);
    // PAGE-1's index event, read late, was on time (before the deadline): nothing ever fires for revision 1.
    expect(
      brief(
        apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + SLA - 60_000, sourceTime: T0 }))
          .findings,
      ),
    ).toEqual([]);
    // PAGE-2's never came: the tick fires it at its deadline, as it would have without the newer revision.
    expect(brief(tickAt(T0 + SLA + 60_000))).toEqual([
      `freshness.sync-lag firing PAGE-2@${at(SLA)}`,
    ]);
  });

  // One finding per problem (issue 13): a deletion the index never applies is parity.delete-missed only.
  it('never fires for a deletion the index holds on to (parity.delete-missed owns it)', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + MINUTE, sourceTime: T0 }));
    expect(apply(deleted({ docId: 'PAGE-1', revision: 2, at: T0 + 2 * MINUTE })).findings).toEqual(
      [],
    );
    // A duplicate of the old upsert at the index is not the removal; still nothing for sync lag.
    apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + 3 * MINUTE, sourceTime: T0 }));
    expect(tickAt(T0 + 100 * SLA)).toEqual([]);
    const removal = indexed({
      docId: 'PAGE-1',
      revision: 2,
      removed: true,
      at: T0 + 30 * MINUTE,
      sourceTime: T0 + 2 * MINUTE,
    });
    expect(apply(removal).findings).toEqual([]);
  });

  it('a deletion ends a firing upsert wait: only the removal is owed now, and that is parity', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(indexed({ docId: 'PAGE-1', revision: 1, at: T0 + MINUTE, sourceTime: T0 }));
    apply(upserted({ docId: 'PAGE-1', revision: 2, at: T0 + 2 * MINUTE }));
    expect(brief(tickAt(T0 + 2 * MINUTE + SLA))).toEqual([
      `freshness.sync-lag firing PAGE-1@${at(2 * MINUTE + SLA)}`,
    ]);
    const outcome = apply(deleted({ docId: 'PAGE-1', revision: 3, at: T0 + 40 * MINUTE }));
    expect(brief(outcome.findings)).toEqual([
      `freshness.sync-lag resolved PAGE-1@${at(40 * MINUTE)}`,
    ]);
    expect(outcome.findings[0]?.summary).toBe(
      "confluence/PAGE-1: deleted at the source (revision 3), so no upsert is owed any more; its removal is parity's to check",
    );
    expect(tickAt(T0 + 100 * SLA)).toEqual([]);
  });

  it('does not wait for a removal of a document the index never held', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(deleted({ docId: 'PAGE-1', revision: 2, at: T0 + MINUTE }));
    expect(tickAt(T0 + 100 * SLA)).toEqual([]);
  });

  it('resolves when a deletion ends the wait for a document the index had removed before', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-1', revision: 1, at: T0 }));
    apply(
      indexed({ docId: 'PAGE-1', revision: 1, at: T0 + MINUTE, sourceTime: T0, removed: true }),
    );
    apply(upserted({ docId: 'PAGE-1', revision: 2, at: T0 + 2 * MINUTE }));
    expect(tickAt(T0 + 2 * MINUTE + SLA)).toHaveLength(1);
    const outcome = apply(deleted({ docId: 'PAGE-1', revision: 3, at: T0 + 40 * MINUTE }));
    expect(brief(outcome.findings)).toEqual([
      `freshness.sync-lag resolved PAGE-1@${at(40 * MINUTE)}`,
    ]);
  });

  it('handles duplicate source events as one change', () => {
    const { apply, tickAt } = setup();
    const event = upserted({ docId: 'PAGE-1', revision: 1, at: T0 });
    apply(event);
    apply(event);
    expect(tickAt(T0 + SLA)).toHaveLength(1);
    apply(event);
    expect(tickAt(T0 + 2 * SLA)).toEqual([]);
  });

  it('is off for a system whose sync-lag SLA is 0', () => {
    const ledger = new FreshnessLedger({ settings: settingsWith({ syncLagMs: 0 }) });
    applyEvent(ledger, upserted({ docId: 'PAGE-1', revision: 1, at: T0 }), T0);
    expect(advanceTo(ledger, T0 + 365 * 24 * 60 * MINUTE)).toEqual([]);
  });

  it('withholds details of a restricted document', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'PAGE-9', revision: 1, at: T0, classification: 'restricted' }));
    const [finding] = tickAt(T0 + SLA);
    expect(finding).toMatchObject({
      restricted: true,
      summary: 'freshness.sync-lag on confluence/PAGE-9 (restricted document: details withheld)',
    });
    expect(Object.keys(finding?.evidence ?? {}).sort()).toEqual([
      'deadline',
      'indexedRevision',
      'lagSeconds',
      'slaSeconds',
      'sourceRevision',
    ]);
  });

  it('fires only the due documents in a tick, earliest first', () => {
    const { apply, tickAt } = setup();
    for (let i = 0; i < 10; i++) {
      apply(upserted({ docId: `PAGE-${i}`, revision: 1, at: T0 + (9 - i) * MINUTE }));
    }
    expect(brief(tickAt(T0 + 2 * MINUTE + SLA))).toEqual([
      `freshness.sync-lag firing PAGE-9@${at(SLA)}`,
      `freshness.sync-lag firing PAGE-8@${at(MINUTE + SLA)}`,
      `freshness.sync-lag firing PAGE-7@${at(2 * MINUTE + SLA)}`,
    ]);
  });

  it('spreads a large backlog over ticks with tickLimit, keeping observedAt at each deadline', () => {
    const ledger = new FreshnessLedger({ settings: testSettings, tickLimit: 2 });
    for (let i = 0; i < 5; i++) {
      applyEvent(ledger, upserted({ docId: `PAGE-${i}`, revision: 1, at: T0 + i }), T0 + i);
    }
    const now = T0 + 2 * SLA;
    expect(brief(advanceTo(ledger, now))).toEqual([
      `freshness.sync-lag firing PAGE-0@${at(SLA)}`,
      `freshness.sync-lag firing PAGE-1@${at(SLA + 1)}`,
    ]);
    expect(advanceTo(ledger, now)).toHaveLength(2);
    expect(advanceTo(ledger, now)).toHaveLength(1);
    expect(advanceTo(ledger, now)).toEqual([]);
  });
});
