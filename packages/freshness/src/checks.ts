import {
  EVENT_TYPES,
  parseTime,
  type ConnectorRunData,
  type ContentDeletedData,
  type ContentUpsertedData,
  type Finding,
  type IndexData,
} from '@tidemark/core';
import {
  connectorFailingFinding,
  connectorSilentFinding,
  reviewFinding,
  syncLagFinding,
  type ReviewResolution,
} from './findings.js';
import { DEADLINE, DOC_FLAGS, type FreshnessLedger } from './ledger.js';
import { enabled } from './policy.js';

// The freshness rules. A firing finding's observedAt is the deadline itself whenever the ledger already
// implied the breach (tick, or an event that arrives after the deadline), so the same input gives the same
// finding ids whatever the tick cadence — live, replay or test. A breach that only an event reveals (an old
// reviewedAt, a late older revision) is observed at that event's time.

/** The fields of a CloudEvent these checks read; events are validated by the envelope parser upstream. */
export interface FreshnessInputEvent {
  type: string;
  time: string;
  data?: unknown;
}

/** One sync-lag measurement: the index applied a revision `seconds` after it changed at the source. */
export interface SyncLagObservation {
  system: string;
  connector: string;
  contentClass: string | undefined;
  seconds: number;
}

/** What one event did: findings that changed state, and the sync lag when the index applied a revision. */
export interface FreshnessOutcome {
  findings: Finding[];
  syncLag?: SyncLagObservation;
}

/**
 * Applies one input event to the ledger at event time `now` and returns the findings whose state changed.
 * `traceparent` is the event's trace context (record header or CloudEvents extension), if any.
 */
export function applyEvent(
  ledger: FreshnessLedger,
  event: FreshnessInputEvent,
  now: number,
  traceparent?: string,
): FreshnessOutcome {
  if (!Number.isFinite(now)) throw new RangeError(`applyEvent: now must be epoch ms, got ${now}`);
  const findings: Finding[] = [];
  let syncLag: SyncLagObservation | undefined;
  switch (event.type) {
    case EVENT_TYPES.contentUpserted:
    case EVENT_TYPES.contentDeleted:
      applySource(
        ledger,
        event.data as ContentUpsertedData | ContentDeletedData,
        event.type === EVENT_TYPES.contentDeleted,
        parseTime(event.time),
        now,
        traceparent,
        findings,
      );
      break;
    case EVENT_TYPES.indexUpserted:
    case EVENT_TYPES.indexRemoved:
      syncLag = applyIndex(
        ledger,
        event.data as IndexData,
        event.type === EVENT_TYPES.indexRemoved,
        parseTime(event.time),
        now,
        findings,
      );
      break;
    case EVENT_TYPES.connectorRun:
      applyRun(ledger, event.data as ConnectorRunData, now, traceparent, findings);
      break;
    default:
      return { findings };
  }
  if (now > ledger.highWatermark) ledger.highWatermark = now;
  return syncLag ? { findings, syncLag } : { findings };
}

/**
 * Fires every deadline due by `now` (sync lag, review clocks, connector heartbeats) and forgets deleted
 * documents whose retention ended. Cost grows with the entries due, not with the documents tracked.
 * At most `tickLimit` entries are handled per call; the rest stay due for the next call.
 */
export function advanceTo(ledger: FreshnessLedger, now: number): Finding[] {
  ledger.ensureHeap();
  const heap = ledger.heap;
  const findings: Finding[] = [];
  let handled = 0;
  while (heap.size > 0 && handled < ledger.tickLimit) {
    const time = heap.peekTime();
    if (!(time <= now)) break;
    const ref = heap.peekRef();
    heap.pop();
    if (!ledger.isLive(time, ref)) continue; // superseded: the deadline moved or already fired
    handled++;
    const kind = ref & 3;
    const index = ref >>> 2;
    if (kind === DEADLINE.purge) {
      ledger.purge(index);
    } else if (kind === DEADLINE.silent) {
      ledger.beginConnector(index);
      fireSilent(ledger, index, time, undefined, findings);
      ledger.endConnector(index);
    } else {
      ledger.beginDoc(index);
      fireDoc(ledger, index, kind, time, time, undefined, findings);
      ledger.endDoc(index);
    }
  }
  // Heap ties break on slot numbers, which depend on arrival or restore order; sort so the same due
  // deadlines give the same output sequence on every host.
  return findings.sort(
    (a, b) =>
      (a.observedAt < b.observedAt ? -1 : a.observedAt > b.observedAt ? 1 : 0) ||
      (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0),
  );
}

// ---- documents ---------------------------------------------------------------------------------

function fireDoc(
  ledger: FreshnessLedger,
  slot: number,
  kind: number,
  due: number,
  observedAt: number,
  traceparent: string | undefined,
  out: Finding[],
): void {
  if (kind === DEADLINE.sync) {
    ledger.flags[slot] = (ledger.flags[slot] as number) | DOC_FLAGS.syncFiring;
    out.push(syncLagFinding(ledger, slot, 'firing', observedAt, ledger.traceOf(slot)));
  } else {
    ledger.flags[slot] = (ledger.flags[slot] as number) | DOC_FLAGS.reviewFiring;
    out.push(reviewFinding(ledger, slot, 'firing', observedAt, { due, traceparent }));
  }
}

// Fires the document's `kind` deadline if it is due by `now` and not firing yet. A handler fires only the
// deadline its own topic decides: the sync-lag clock from an index event (every earlier index event of the
// document was read before it, and no content event can stop a clock already running), the review clock from a
// content event. The other topic's records up to `now` may not be read yet — content can be read ahead of a
// sync backlog — so its deadline is left to the tick, which waits for every input topic (a content event once
// fired sync lag for a revision whose index event was still unread: a firing+resolved blip live, not in replay).
function settleDoc(
  ledger: FreshnessLedger,
  slot: number,
  kind: typeof DEADLINE.sync | typeof DEADLINE.review,
  now: number,
  atDeadline: boolean,
  traceparent: string | undefined,
  out: Finding[],
): void {
  const flags = ledger.flags[slot] as number;
  const firing = kind === DEADLINE.sync ? DOC_FLAGS.syncFiring : DOC_FLAGS.reviewFiring;
  if (flags & firing) return;
  const due = ledger.deadline(slot, kind);
  if (due <= now) fireDoc(ledger, slot, kind, due, atDeadline ? due : now, traceparent, out);
}

// Ends the sync-lag clock once nothing is pending, resolving a firing finding first (it still needs the
// pending facts and the source change's trace).
function settleCaughtUp(ledger: FreshnessLedger, slot: number, now: number, out: Finding[]): void {
  if (ledger.isPending(slot)) return;
  const flags = ledger.flags[slot] as number;
  if (flags & DOC_FLAGS.syncFiring) {
    ledger.flags[slot] = flags & ~DOC_FLAGS.syncFiring;
    out.push(syncLagFinding(ledger, slot, 'resolved', now, ledger.traceOf(slot)));
  }
  ledger.clearPending(slot);
}

function settleReview(
  ledger: FreshnessLedger,
  slot: number,
  now: number,
  traceparent: string | undefined,
  out: Finding[],
): void {
  const flags = ledger.flags[slot] as number;
  if (!(flags & DOC_FLAGS.reviewFiring)) return;
  const due = ledger.deadline(slot, DEADLINE.review);
  if (due <= now) return; // still overdue, even if reviewedAt moved
  ledger.flags[slot] = flags & ~DOC_FLAGS.reviewFiring;
  const src = ledger.srcKey[slot] as number;
  const resolution: ReviewResolution =
    src % 2 === 1
      ? 'deleted'
      : flags & DOC_FLAGS.deprecated
        ? 'deprecated'
        : Number.isNaN(due)
          ? 'review-clock-off'
          : 'reviewed';
  out.push(reviewFinding(ledger, slot, 'resolved', now, { resolution, traceparent }));
}

function setFlag(ledger: FreshnessLedger, slot: number, flag: number, on: boolean): void {
  const flags = ledger.flags[slot] as number;
  ledger.flags[slot] = on ? flags | flag : flags & ~flag;
}

function applySource(
  ledger: FreshnessLedger,
  data: ContentUpsertedData | ContentDeletedData,
  deleted: boolean,
  changedAt: number,
  now: number,
  traceparent: string | undefined,
  out: Finding[],
): void {
  const slot = ledger.slotFor(data.system, data.docId);
  ledger.beginDoc(slot);
  settleDoc(ledger, slot, DEADLINE.review, now, true, undefined, out);
  const key = data.revision * 2 + (deleted ? 1 : 0);
  const wasPending = ledger.isPending(slot);
  // Only the latest revision describes the document; an older one arriving late changes nothing but the
  // sync-lag clock (below), so any arrival order of the same revisions ends in the same ledger.
  if (key > (ledger.srcKey[slot] as number)) {
    ledger.srcKey[slot] = key;
    ledger.srcTime[slot] = changedAt;
    if (!deleted) {
      const upsert = data as ContentUpsertedData;
      ledger.profile[slot] = ledger.profileFor(
        data.system,
        ledger.classes.intern(upsert.contentClass),
      );
      ledger.owner[slot] = ledger.owners.intern(upsert.owner);
      ledger.reviewedAt[slot] = upsert.reviewedAt ? parseTime(upsert.reviewedAt) : NaN;
      setFlag(ledger, slot, DOC_FLAGS.deprecated, upsert.deprecated === true);
      setFlag(ledger, slot, DOC_FLAGS.restricted, upsert.classification === 'restricted');
    } else {
      if (data.contentClass) {
        ledger.profile[slot] = ledger.profileFor(
          data.system,
          ledger.classes.intern(data.contentClass),
        );
      }
      if (data.classification !== undefined) {
        setFlag(ledger, slot, DOC_FLAGS.restricted, data.classification === 'restricted');
      }
    }
  }
  if (ledger.isPending(slot)) {
    if (!wasPending) {
      ledger.setPending(slot, key, changedAt, traceparent);
    } else if (key > (ledger.idxKey[slot] as number) && changedAt < ledger.pendingSinceOf(slot)) {
      // An older unapplied revision arrived late: the index has been behind since then.
      ledger.setPending(slot, key, changedAt, traceparent);
    }
  }
  settleCaughtUp(ledger, slot, now, out);
  settleReview(ledger, slot, now, traceparent, out);
  settleDoc(ledger, slot, DEADLINE.review, now, false, traceparent, out);
  ledger.endDoc(slot);
}

function applyIndex(
  ledger: FreshnessLedger,
  data: IndexData,
  removed: boolean,
  appliedAt: number,
  now: number,
  out: Finding[],
): SyncLagObservation | undefined {
  const slot = ledger.slotFor(data.system, data.docId);
  ledger.beginDoc(slot);
  settleDoc(ledger, slot, DEADLINE.sync, now, true, undefined, out);
  const key = data.revision * 2 + (removed ? 1 : 0);
  let observation: SyncLagObservation | undefined;
  // Duplicates and older index events are ignored: only a newer revision key moves the index side.
  if (key > (ledger.idxKey[slot] as number)) {
    const wasPending = ledger.isPending(slot);
    ledger.idxKey[slot] = key;
    ledger.idxTime[slot] = appliedAt;
    ledger.connector[slot] = ledger.connectorNames.intern(data.connector);
    observation = {
      system: data.system,
      connector: data.connector,
      contentClass: ledger.contentClass(slot),
      seconds: (appliedAt - parseTime(data.sourceTime)) / 1000,
    };
    if (ledger.isPending(slot)) {
      if (!wasPending) {
        // Defensive: an index event alone never starts a wait (it only moves the index side forward).
        ledger.setPending(
          slot,
          ledger.srcKey[slot] as number,
          ledger.srcTime[slot] as number,
          undefined,
        );
      } else if (key >= ledger.pendingKeyOf(slot)) {
        // The revision the clock ran for is applied, a newer one is not. Only the latest source revision's
        // time is kept, so the clock restarts from it (late by at most the gap between two revisions).
        ledger.setPending(
          slot,
          ledger.srcKey[slot] as number,
          ledger.srcTime[slot] as number,
          undefined,
        );
      }
    }
    settleCaughtUp(ledger, slot, now, out);
  }
  // A clock restarted above from a source revision already due is the tick's: a newer revision not read yet
  // would have restarted it later.

  ledger.endDoc(slot);
  return observation;
}

// ---- connectors --------------------------------------------------------------------------------

function fireSilent(
  ledger: FreshnessLedger,
  i: number,
  observedAt: number,
  traceparent: string | undefined,
  out: Finding[],
): void {
  const c = ledger.connectors[i];
  if (!c) return;
  c.silentFiring = true;
  out.push(connectorSilentFinding(ledger, i, 'firing', observedAt, traceparent));
}

function applyRun(
  ledger: FreshnessLedger,
  data: ConnectorRunData,
  now: number,
  traceparent: string | undefined,
  out: Finding[],
): void {
  const at = parseTime(
    data.status === 'started' ? data.startedAt : (data.finishedAt ?? data.startedAt),
  );
  const i = ledger.connectorFor(data.connector, data.system, at);
  const c = ledger.connectors[i];
  if (!c) return;
  ledger.beginConnector(i);
  const due = ledger.silentDeadline(i);
  if (!c.silentFiring && due <= now) fireSilent(ledger, i, due, undefined, out);
  if (at < c.firstSeen) c.firstSeen = at;
  c.system = data.system;
  const threshold = ledger.connectorPolicy(i).failingRuns;
  const failing = () => enabled(threshold) && c.failures.length >= threshold;
  if (data.status === 'succeeded') {
    // Runs are ordered by their finish time, not arrival: a late older success changes nothing newer.
    if (!(at <= c.lastSuccess)) {
      c.lastSuccess = at;
      c.failures = c.failures.filter((f) => f.at > at);
    }
    if (c.silentFiring && !(ledger.silentDeadline(i) <= now)) {
      c.silentFiring = false;
      out.push(connectorSilentFinding(ledger, i, 'resolved', now, traceparent));
    }
    if (c.failingFiring && !failing()) {
      c.failingFiring = false;
      out.push(connectorFailingFinding(ledger, i, 'resolved', now, traceparent));
    }
  } else if (data.status === 'failed') {
    if (!(at <= c.lastSuccess) && !c.failures.some((f) => f.runId === data.runId)) {
      c.failures.push({ runId: data.runId, at, ...(data.error ? { error: data.error } : {}) });
      c.failures.sort((a, b) => a.at - b.at || (a.runId < b.runId ? -1 : 1));
      // Only the most recent `threshold` failures matter; older ones can never change the outcome.
      const cap = enabled(threshold) ? threshold : 1;
      if (c.failures.length > cap) c.failures.splice(0, c.failures.length - cap);
    }
    if (!c.failingFiring && failing()) {
      c.failingFiring = true;
      out.push(connectorFailingFinding(ledger, i, 'firing', now, traceparent));
    }
  }
  const after = ledger.silentDeadline(i);
  if (!c.silentFiring && after <= now) fireSilent(ledger, i, now, traceparent, out);
  ledger.endConnector(i);
}
