import type { Finding } from '@tidemark/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advanceTo, applyEvent, type FreshnessInputEvent } from './checks.js';
import { FreshnessLedger } from './ledger.js';
import { DAY, MINUTE, T0, deleted, indexed, run, testSettings, upserted } from './test-events.js';

interface Timed {
  time: number;
  event: FreshnessInputEvent;
}

// One document's history: revisions at increasing times, maybe a final deletion, and which of them the
// index applied (with a lag each). Times are minutes so SLAs (15m) and lags interleave often.
const documentArb = fc.record({
  gaps: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 4 }),
  deletedAfter: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  reviewedDaysAgo: fc.array(fc.option(fc.integer({ min: 0, max: 120 }), { nil: null }), {
    minLength: 4,
    maxLength: 4,
  }),
  deprecated: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  applied: fc.array(fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }), {
    minLength: 5,
    maxLength: 5,
  }),
  classIndex: fc.integer({ min: 0, max: 1 }),
});

const runArb = fc.record({
  status: fc.constantFrom('succeeded' as const, 'failed' as const, 'started' as const),
  minute: fc.integer({ min: 0, max: 300 }),
  connector: fc.constantFrom('confluence-prod', 'gdrive-prod'),
});

type Doc = typeof documentArb extends fc.Arbitrary<infer T> ? T : never;
type Run = typeof runArb extends fc.Arbitrary<infer T> ? T : never;

function buildEvents(docs: Doc[], runs: Run[], duplicates: number[]): Timed[] {
  const events: Timed[] = [];
  docs.forEach((doc, d) => {
    const docId = `DOC-${d}`;
    const contentClass = doc.classIndex === 0 ? 'policy' : 'faq';
    let time = T0;
    doc.gaps.forEach((gap, r) => {
      time += gap * MINUTE;
      const reviewed = doc.reviewedDaysAgo[r];
      const event = upserted({
        docId,
        revision: r + 1,
        at: time,
        contentClass,
        reviewedAt: reviewed === null || reviewed === undefined ? null : time - reviewed * DAY,
        deprecated: doc.deprecated[r] === true,
      });
      events.push({ time, event });
      const lag = doc.applied[r];
      if (lag !== undefined) {
        const at = time + lag * MINUTE;
        events.push({ time: at, event: indexed({ docId, revision: r + 1, at, sourceTime: time }) });
      }
    });
    if (doc.deletedAfter !== undefined) {
      time += doc.deletedAfter * MINUTE;
      const revision = doc.gaps.length + 1;
      events.push({ time, event: deleted({ docId, revision, at: time }) });
      const lag = doc.applied[4];
      if (lag !== undefined) {
        const at = time + lag * MINUTE;
        events.push({
          time: at,
          event: indexed({ docId, revision, at, sourceTime: time, removed: true }),
        });
      }
    }
  });
  runs.forEach((r, i) => {
    const time = T0 + r.minute * MINUTE;
    const system = r.connector.startsWith('gdrive') ? 'gdrive' : 'confluence';
    events.push({
      time,
      event: run({ runId: `run-${i}`, status: r.status, at: time, connector: r.connector, system }),
    });
  });
  // Redeliveries of some events, anywhere in the stream.
  for (const index of duplicates) {
    const copy = events[index % events.length];
    if (copy) events.push(copy);
  }
  return events;
}

/**
 * Applies events at their own time, then lets time run out; returns the fingerprints firing at the end
 * (a finding that fired and resolved in one order may never fire in another: the end state is what counts).
 */
function finalFiring(events: Timed[], end: number): string[] {
  const ledger = new FreshnessLedger({ settings: testSettings });
  const findings: Finding[] = [];
  for (const { time, event } of events) findings.push(...applyEvent(ledger, event, time).findings);
  const last = Math.max(...events.map((e) => e.time));
  findings.push(...advanceTo(ledger, last));
  // Connector deadlines are exact (latest success or first sight), so their state at the last event
  // time is order-independent too; document deadlines are compared once all have passed.
  const atLast = new Map<string, string>();
  for (const f of findings)
    if (f.check.startsWith('freshness.connector')) atLast.set(f.fingerprint, f.status);
  findings.push(...advanceTo(ledger, end));
  const status = new Map<string, string>();
  const history = new Map<string, string[]>();
  for (const f of findings) {
    status.set(f.fingerprint, f.status);
    history.set(f.fingerprint, [...(history.get(f.fingerprint) ?? []), f.status]);
  }
  // Once per state change: firing and resolved alternate, starting with firing.
  for (const [fingerprint, statuses] of history) {
    statuses.forEach((s, i) => {
      if (s !== (i % 2 === 0 ? 'firing' : 'resolved')) {
        throw new Error(`${fingerprint}: ${statuses.join(',')} does not alternate`);
      }
    });
  }
  for (const [fp, s] of atLast) status.set(`at-last:${fp}`, s);
  return [...status]
    .filter(([, s]) => s === 'firing')
    .map(([fp]) => fp)
    .sort();
}

describe('freshness checks under reordering', () => {
  it('end in the same findings for any arrival order of the same events', () => {
    const scenario = fc
      .tuple(
        fc.array(documentArb, { minLength: 1, maxLength: 5 }),
        fc.array(runArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 5 }),
      )
      .map(([docs, runs, duplicates]) => buildEvents(docs, runs, duplicates))
      .chain((events) =>
        fc.tuple(
          fc.constant(events),
          fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        ),
      );
    fc.assert(
      fc.property(scenario, ([events, shuffled]) => {
        const end = T0 + 400 * DAY;
        const inTimeOrder = [...events].sort((a, b) => a.time - b.time);
        expect(finalFiring(shuffled, end)).toEqual(finalFiring(inTimeOrder, end));
      }),
      { numRuns: 300 },
    );
  });
});
