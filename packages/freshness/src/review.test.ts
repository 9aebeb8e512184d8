import { ManualClock, findingFingerprint, parseTime } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { advanceTo, applyEvent, type FreshnessInputEvent } from './checks.js';
import { FreshnessLedger } from './ledger.js';
import {
  DAY,
  MINUTE,
  T0,
  TRACE_B,
  at,
  brief,
  deleted,
  indexed,
  testSettings,
  upserted,
} from './test-events.js';

const INTERVAL = 90 * DAY;

function setup() {
  const ledger = new FreshnessLedger({ settings: testSettings });
  const clock = new ManualClock(T0);
  const apply = (event: FreshnessInputEvent, traceparent?: string) =>
    applyEvent(ledger, event, parseTime(event.time), traceparent).findings;
  const tickAt = (ms: number) => {
    clock.set(ms);
    return advanceTo(ledger, clock.now());
  };
  // Indexed straight away, so only the review clock is in play.
  const publish = (
    revision: number,
    time: number,
    fields: Partial<Parameters<typeof upserted>[0]>,
  ) => {
    const found = apply(upserted({ docId: 'POL-1', revision, at: time, ...fields }));
    apply(indexed({ docId: 'POL-1', revision, at: time + 1, sourceTime: time }));
    return found;
  };
  return { ledger, clock, apply, tickAt, publish };
}

describe('freshness.review-overdue', () => {
  it('fires exactly when reviewedAt + interval is reached, with steward and dueBy', () => {
    const { publish, tickAt } = setup();
    publish(1, T0, { reviewedAt: T0 - 10 * DAY });
    const due = T0 - 10 * DAY + INTERVAL;
    expect(tickAt(due - 1)).toEqual([]);
    const fired = tickAt(due);
    expect(brief(fired)).toEqual([`freshness.review-overdue firing POL-1@${at(due - T0)}`]);
    expect(fired[0]).toMatchObject({
      severity: 'warning',
      fingerprint: findingFingerprint('freshness.review-overdue', {
        system: 'confluence',
        docId: 'POL-1',
      }),
      owner: { steward: 'alice@example.com', team: 'confluence-platform' },
      dueBy: at(due - T0),
      evidence: { revision: 1, reviewedAt: at(-10 * DAY), slaSeconds: INTERVAL / 1000 },
      summary: `confluence/POL-1 (policy) is past its review clock: last reviewed ${at(-10 * DAY)}, due every 90d, overdue since ${at(due - T0)}`,
    });
    expect(tickAt(due + INTERVAL)).toEqual([]);
  });

  it('resolves when a newer revision moves reviewedAt', () => {
    const { publish, tickAt } = setup();
    publish(1, T0, { reviewedAt: T0 });
    expect(tickAt(T0 + INTERVAL)).toHaveLength(1);
    const found = publish(2, T0 + INTERVAL + DAY, { reviewedAt: T0 + INTERVAL + DAY });
    expect(brief(found)).toEqual([`freshness.review-overdue resolved POL-1@${at(INTERVAL + DAY)}`]);
    expect(found[0]).toMatchObject({ evidence: { reason: 'reviewed' } });
    expect(found[0]?.dueBy).toBeUndefined();
    // The new clock runs from the new attestation.
    expect(tickAt(T0 + 2 * INTERVAL + DAY - 1)).toEqual([]);
    expect(tickAt(T0 + 2 * INTERVAL + DAY)).toHaveLength(1);
  });

  // The review clock is the content topic's: an index event (another topic, maybe read ahead of content) past
  // the due time is no proof, a new attestation may still be unread.
  it('an index event past the due time fires nothing; the review before the due time, read late, wins', () => {
    const { apply, publish, tickAt } = setup();
    publish(1, T0, { reviewedAt: T0 });
    expect(
      apply(indexed({ docId: 'POL-1', revision: 1, at: T0 + INTERVAL + DAY, sourceTime: T0 })),
    ).toEqual([]);
    expect(publish(2, T0 + INTERVAL - DAY, { reviewedAt: T0 + INTERVAL - DAY })).toEqual([]);
    expect(tickAt(T0 + INTERVAL + DAY)).toEqual([]);
  });

  it('stays firing when a new revision keeps an overdue reviewedAt', () => {
    const { publish, tickAt } = setup();
    publish(1, T0, { reviewedAt: T0 });
    expect(tickAt(T0 + INTERVAL)).toHaveLength(1);
    expect(publish(2, T0 + INTERVAL + DAY, { reviewedAt: T0 })).toEqual([]);
    expect(tickAt(T0 + 3 * INTERVAL)).toEqual([]);
  });

  it('ignores an older revision that arrives late, even with a fresher reviewedAt', () => {
    const { publish, apply, tickAt } = setup();
    publish(5, T0, { reviewedAt: T0 });
    expect(tickAt(T0 + INTERVAL)).toHaveLength(1);
    expect(
      apply(
        upserted({ docId: 'POL-1', revision: 4, at: T0 + INTERVAL + 1, reviewedAt: T0 + INTERVAL }),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      'deprecated',
      (s: ReturnType<typeof setup>) =>
        s.publish(2, T0 + INTERVAL + DAY, { reviewedAt: T0, deprecated: true }),
    ],
    [
      'deleted',
      (s: ReturnType<typeof setup>) => [
        ...s.apply(deleted({ docId: 'POL-1', revision: 2, at: T0 + INTERVAL + DAY })),
        ...s.apply(
          indexed({
            docId: 'POL-1',
            revision: 2,
            removed: true,
            at: T0 + INTERVAL + DAY,
            sourceTime: T0 + INTERVAL + DAY,
          }),
        ),
      ],
    ],
    [
      'review-clock-off',
      (s: ReturnType<typeof setup>) =>
        s.publish(2, T0 + INTERVAL + DAY, { reviewedAt: T0, contentClass: 'faq' }),
    ],
  ])('resolves when the document becomes %s', (reason, change) => {
    const s = setup();
    s.publish(1, T0, { reviewedAt: T0 });
    expect(s.tickAt(T0 + INTERVAL)).toHaveLength(1);
    const found = change(s);
    expect(brief(found)).toEqual([`freshness.review-overdue resolved POL-1@${at(INTERVAL + DAY)}`]);
    expect(found[0]).toMatchObject({ evidence: { reason } });
    expect(s.tickAt(T0 + 5 * INTERVAL)).toEqual([]);
  });

  it('keeps no review clock for deprecated documents, classes without one, or a missing reviewedAt', () => {
    const { apply, tickAt } = setup();
    apply(upserted({ docId: 'A', revision: 1, at: T0, reviewedAt: T0, deprecated: true }));
    apply(upserted({ docId: 'B', revision: 1, at: T0, reviewedAt: T0, contentClass: 'faq' }));
    apply(upserted({ docId: 'C', revision: 1, at: T0, reviewedAt: null }));
    for (const docId of ['A', 'B', 'C']) {
      apply(indexed({ docId, revision: 1, at: T0 + 1, sourceTime: T0 }));
    }
    expect(tickAt(T0 + 10 * INTERVAL)).toEqual([]);
  });

  it('fires at the event when a revision arrives already overdue, with that event trace', () => {
    const { apply } = setup();
    const found = apply(
      upserted({ docId: 'POL-1', revision: 1, at: T0, reviewedAt: T0 - INTERVAL - MINUTE }),
      TRACE_B,
    );
    expect(brief(found)).toEqual([`freshness.review-overdue firing POL-1@${at(0)}`]);
    expect(found[0]).toMatchObject({ traceparent: TRACE_B, dueBy: at(-MINUTE) });
  });

  it('falls back to the contract steward when the document has no owner', () => {
    const ledger = new FreshnessLedger({
      settings: (system, contentClass) => ({
        ...testSettings(system, contentClass),
        owner: { steward: 'kb-stewards@example.com', team: 'kb' },
      }),
    });
    applyEvent(
      ledger,
      upserted({ docId: 'POL-1', revision: 1, at: T0, reviewedAt: T0, owner: null }),
      T0,
    );
    applyEvent(ledger, indexed({ docId: 'POL-1', revision: 1, at: T0, sourceTime: T0 }), T0);
    expect(advanceTo(ledger, T0 + INTERVAL)[0]?.owner).toEqual({
      steward: 'kb-stewards@example.com',
      team: 'kb',
    });
  });
});
