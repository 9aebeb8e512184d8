import { parseTime, type Finding, type StateChange } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { advanceTo, applyEvent, type FreshnessInputEvent } from './checks.js';
import { FreshnessLedger, LedgerFormatError } from './ledger.js';
import {
  DAY,
  HOUR,
  MINUTE,
  T0,
  TRACE_A,
  deleted,
  indexed,
  run,
  testSettings,
  upserted,
} from './test-events.js';

/** A compacted changelog topic: last value per key, tombstones remove the key. */
class Changelog {
  readonly entries = new Map<string, Buffer>();
  readonly raw: StateChange[] = [];

  write(changes: StateChange[]): void {
    for (const change of changes) {
      this.raw.push(change);
      if (change.value === null) this.entries.delete(change.key);
      else this.entries.set(change.key, change.value);
    }
  }

  restoreInto(ledger: FreshnessLedger, order: 'offset' | 'reversed' = 'offset'): FreshnessLedger {
    const entries = [...this.entries];
    if (order === 'reversed') entries.reverse();
    for (const [key, value] of entries) ledger.restore(key, value);
    return ledger;
  }
}

type Step = { event: FreshnessInputEvent; trace?: string } | { tick: number };

// Documents in every state at the cut: firing, pending, overdue-soon, caught up, deleted and purged,
// a silent connector and a failing one.
function scenario(): { before: Step[]; after: Step[] } {
  const before: Step[] = [
    { event: upserted({ docId: 'LAG', revision: 1, at: T0 }), trace: TRACE_A },
    { event: upserted({ docId: 'PENDING', revision: 3, at: T0 + 10 * MINUTE }), trace: TRACE_A },
    { event: upserted({ docId: 'REVIEW', revision: 1, at: T0, reviewedAt: T0 - 89 * DAY }) },
    { event: indexed({ docId: 'REVIEW', revision: 1, at: T0 + MINUTE, sourceTime: T0 }) },
    { event: upserted({ docId: 'OVERDUE', revision: 2, at: T0, reviewedAt: T0 - 91 * DAY }) },
    { event: indexed({ docId: 'OVERDUE', revision: 2, at: T0 + MINUTE, sourceTime: T0 }) },
    { event: upserted({ docId: 'GONE', revision: 1, at: T0, contentClass: 'faq' }) },
    { event: indexed({ docId: 'GONE', revision: 1, at: T0 + MINUTE, sourceTime: T0 }) },
    { event: deleted({ docId: 'GONE', revision: 2, at: T0 + 2 * MINUTE }) },
    {
      event: indexed({
        docId: 'GONE',
        revision: 2,
        removed: true,
        at: T0 + 3 * MINUTE,
        sourceTime: T0 + 2 * MINUTE,
      }),
    },
    { event: run({ runId: 'a1', status: 'succeeded', at: T0 }) },
    {
      event: run({
        runId: 'b1',
        status: 'failed',
        at: T0,
        connector: 'gdrive-prod',
        system: 'gdrive',
      }),
    },
    {
      event: run({
        runId: 'b2',
        status: 'failed',
        at: T0 + MINUTE,
        connector: 'gdrive-prod',
        system: 'gdrive',
      }),
    },
    {
      event: run({
        runId: 'b3',
        status: 'failed',
        at: T0 + 2 * MINUTE,
        connector: 'gdrive-prod',
        system: 'gdrive',
      }),
    },
    { tick: T0 + 20 * MINUTE },
  ];
  const after: Step[] = [
    { tick: T0 + 30 * MINUTE },
    { tick: T0 + HOUR },
    { event: indexed({ docId: 'LAG', revision: 1, at: T0 + 2 * HOUR, sourceTime: T0 }) },
    { tick: T0 + DAY + 10 * MINUTE },
    {
      event: run({
        runId: 'b4',
        status: 'succeeded',
        at: T0 + DAY + 20 * MINUTE,
        connector: 'gdrive-prod',
        system: 'gdrive',
      }),
    },
    { tick: T0 + 2 * DAY },
    {
      event: upserted({
        docId: 'OVERDUE',
        revision: 3,
        at: T0 + 2 * DAY,
        reviewedAt: T0 + 2 * DAY,
      }),
    },
    // A late duplicate after the retention: the ledger no longer knows GONE, so it is tracked anew and
    // fires (README, "Deleted documents"); within the retention it would be recognised as old.
    { event: upserted({ docId: 'GONE', revision: 1, at: T0 }) },
    { tick: T0 + 3 * DAY },
  ];
  return { before, after };
}

function play(ledger: FreshnessLedger, steps: Step[]): Finding[] {
  const out: Finding[] = [];
  for (const step of steps) {
    if ('tick' in step) out.push(...advanceTo(ledger, step.tick));
    else
      out.push(...applyEvent(ledger, step.event, parseTime(step.event.time), step.trace).findings);
  }
  return out;
}

describe('FreshnessLedger restore', () => {
  it.each(['offset', 'reversed'] as const)(
    'rebuilds the same pending deadlines and firing set from the changelog (%s order)',
    (order) => {
      const { before, after } = scenario();
      const original = new FreshnessLedger({ settings: testSettings, deletedRetentionMs: HOUR });
      const changelog = new Changelog();
      const firstHalf = play(original, before);
      expect(
        firstHalf.map((f) => `${f.check} ${f.status} ${f.subject.docId ?? f.subject.connector}`),
      ).toEqual([
        'freshness.review-overdue firing OVERDUE',
        'freshness.connector-failing firing gdrive-prod',
        'freshness.sync-lag firing LAG',
      ]);
      changelog.write(original.drainChanges());

      const restored = changelog.restoreInto(
        new FreshnessLedger({ settings: testSettings, deletedRetentionMs: HOUR }),
        order,
      );
      expect(restored.size()).toBe(original.size());
      expect(restored.documentCount).toBe(5);
      expect(restored.armedCount).toBe(original.armedCount);
      expect(restored.highWatermark).toBe(original.highWatermark);

      // Nothing fired twice: the firing set came back with the ledger.
      expect(advanceTo(restored, T0 + 20 * MINUTE)).toEqual([]);
      // Nothing missed: both continue identically.
      const expected = play(original, after);
      expect(play(restored, after)).toEqual(expected);
      expect(
        expected.map((f) => `${f.check} ${f.status} ${f.subject.docId ?? f.subject.connector}`),
      ).toEqual([
        'freshness.sync-lag firing PENDING',
        // Same deadline: ordered by fingerprint, whatever the slot layout.
        'freshness.connector-silent firing confluence-prod',
        'freshness.connector-silent firing gdrive-prod',
        'freshness.sync-lag resolved LAG',
        'freshness.review-overdue firing REVIEW',
        'freshness.connector-silent resolved gdrive-prod',
        'freshness.connector-failing resolved gdrive-prod',
        'freshness.connector-silent firing gdrive-prod',
        'freshness.review-overdue resolved OVERDUE',
        'freshness.sync-lag firing GONE',
        'freshness.sync-lag firing OVERDUE',
      ]);
    },
  );

  it('restores from the uncompacted changelog (every version of a key, in offset order)', () => {
    const { before, after } = scenario();
    const original = new FreshnessLedger({ settings: testSettings });
    const changelog = new Changelog();
    for (const step of before) {
      play(original, [step]);
      changelog.write(original.drainChanges());
    }
    const restored = new FreshnessLedger({ settings: testSettings });
    for (const { key, value } of changelog.raw) restored.restore(key, value);
    expect(restored.armedCount).toBe(original.armedCount);
    expect(play(restored, after)).toEqual(play(original, after));
  });

  it('tombstones a deleted, caught-up document once its retention ends', () => {
    const ledger = new FreshnessLedger({ settings: testSettings, deletedRetentionMs: HOUR });
    play(ledger, scenario().before);
    ledger.drainChanges();
    advanceTo(ledger, T0 + 3 * MINUTE + HOUR - 1);
    expect(ledger.drainChanges().filter((c) => c.value === null)).toEqual([]);
    advanceTo(ledger, T0 + 3 * MINUTE + HOUR);
    expect(ledger.drainChanges().filter((c) => c.value === null)).toEqual([
      { key: 'd|confluence/GONE', value: null },
    ]);
    expect(ledger.find('confluence', 'GONE')).toBe(-1);
    expect(ledger.documentCount).toBe(4);
  });

  it('drains only what changed since the previous drain', () => {
    const ledger = new FreshnessLedger({ settings: testSettings });
    applyEvent(ledger, upserted({ docId: 'A', revision: 1, at: T0 }), T0);
    expect(ledger.drainChanges().map((c) => c.key)).toEqual(['t|k|1', 't|o|1', 'd|confluence/A']);
    expect(ledger.drainChanges()).toEqual([]);
    applyEvent(ledger, upserted({ docId: 'A', revision: 1, at: T0 }), T0); // duplicate
    expect(ledger.drainChanges().map((c) => c.key)).toEqual(['d|confluence/A']);
  });

  it.each([
    ['x|what', Buffer.from('1'), 'unknown freshness changelog key "x|what"'],
    ['t|z|1', Buffer.from('a'), 'unknown freshness changelog table key "t|z|1"'],
    ['d|nosystem', Buffer.alloc(80), 'freshness changelog key without "/": "d|nosystem"'],
    [
      'd|confluence/A',
      Buffer.alloc(80, 9),
      'freshness changelog entry "d|confluence/A" has version 9, expected 1',
    ],
  ])('rejects changelog entry %s with LedgerFormatError', (key, value, message) => {
    const ledger = new FreshnessLedger({ settings: testSettings });
    expect(() => ledger.restore(key, value)).toThrowError(new LedgerFormatError(message, key));
    try {
      ledger.restore(key, value);
    } catch (error) {
      expect(error).toBeInstanceOf(LedgerFormatError);
      expect((error as LedgerFormatError).retriable).toBe(false);
    }
  });
});
