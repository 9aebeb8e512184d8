// The document ledger: what the source and the index last said about each document (content and sync events), and
// the per-document checks re-derived after every change — deletion (delete.ts), ACL (acl.ts), and when a deleted
// and removed document may be forgotten. A removal also counts towards the system's mass removal (mass-removal.ts).
import {
  EVENT_TYPES,
  parseTime,
  type ContentEvent,
  type Finding,
  type SyncEvent,
} from '@tidemark/core';
import { evaluateAcl } from './acl.js';
import type { ParityContext } from './context.js';
import { deletePending, evaluateDeletion } from './delete.js';
import { recordRemoval } from './mass-removal.js';
import { ParityState, isHeld, type DocRecord } from './state.js';

function newDoc(state: ParityState, system: string, docId: string): DocRecord {
  return {
    system: state.intern(system),
    docId,
    sourceRevision: -1,
    sourceDeleted: false,
    sourceAt: -1,
    indexRevision: -1,
    indexRemoved: false,
    indexAt: -1,
    removedRevision: -1,
    removedAt: -1,
    firing: 0,
  };
}

/**
 * Applies a `content.upserted` / `content.deleted` event; an older revision than the ledger's is ignored. Like every
 * `apply*`, it schedules and resolves but never fires a deadline: only `advanceParity`, called by the host when every
 * input has been read up to `now` (a tick), decides that a deadline passed unmet. A handler's `now` may be ahead of
 * the partition's other topic, whose next record could settle the deadline (the live "handler-deadline blip").
 */
export function applyContentEvent(
  state: ParityState,
  event: ContentEvent,
  ctx: ParityContext,
): Finding[] {
  const data = event.data;
  const at = parseTime(event.time);
  state.advanceWatermark(at);
  const key = ParityState.docKey(data.system, data.docId);
  const rec = state.docs.get(key) ?? newDoc(state, data.system, data.docId);
  const deleted = event.type === EVENT_TYPES.contentDeleted;
  // Revisions order source events; at equal revisions a deletion wins (it is that revision's last word).
  const newer =
    data.revision > rec.sourceRevision ||
    (data.revision === rec.sourceRevision && deleted && !rec.sourceDeleted);
  if (!newer) return [];
  const heldBefore = isHeld(rec);
  rec.sourceRevision = data.revision;
  rec.sourceDeleted = deleted;
  rec.sourceAt = at;
  if (deleted) delete rec.sourceAcl;
  else if (data.aclHash !== undefined) rec.sourceAcl = data.aclHash;
  else delete rec.sourceAcl;
  if (data.contentClass !== undefined) rec.contentClass = state.intern(data.contentClass);
  if (data.classification !== undefined) rec.classification = state.intern(data.classification);
  if (ctx.traceparent) rec.traceparent = ctx.traceparent;
  return evaluateDoc(state, key, rec, heldBefore, ctx);
}

/** Applies an `index.upserted` / `index.removed` event (a `connector.run` is not parity's business). */
export function applySyncEvent(
  state: ParityState,
  event: SyncEvent,
  ctx: ParityContext,
): Finding[] {
  if (event.type === EVENT_TYPES.connectorRun) return [];
  const data = event.data;
  const at = parseTime(event.time);
  state.advanceWatermark(at);
  const key = ParityState.docKey(data.system, data.docId);
  const rec = state.docs.get(key) ?? newDoc(state, data.system, data.docId);
  const removed = event.type === EVENT_TYPES.indexRemoved;
  const heldBefore = isHeld(rec);
  if (removed) {
    rec.removedRevision = Math.max(rec.removedRevision, data.revision);
    rec.removedAt = Math.max(rec.removedAt, at);
  }
  // The index's state is what it applied last in its own time: re-applying an old revision after a
  // removal is exactly a resurrection, so index events are ordered by time, not by revision.
  if (rec.indexRevision < 0 || at >= rec.indexAt) {
    rec.indexRevision = data.revision;
    rec.indexRemoved = removed;
    rec.indexAt = at;
    if (!removed && data.aclHash !== undefined) rec.indexAcl = data.aclHash;
    else delete rec.indexAcl;
  }
  // Saved first so the system's held count already reflects this event when a removal is weighed.
  state.saveDoc(key, rec, heldBefore);
  const findings: Finding[] = [];
  if (heldBefore && !isHeld(rec)) recordRemoval(state, rec, at, data.connector, ctx);
  findings.push(...evaluateDoc(state, key, rec, isHeld(rec), ctx));
  return findings;
}

/** Re-derives a document's checks after a change: schedules, resolves or (resurrection) fires. */
function evaluateDoc(
  state: ParityState,
  key: string,
  rec: DocRecord,
  heldBefore: boolean,
  ctx: ParityContext,
): Finding[] {
  const s = ctx.settings(rec.system, rec.contentClass);
  const out: Finding[] = [];

  evaluateDeletion(state, key, rec, s, ctx, out);
  evaluateAcl(state, key, rec, s, ctx, out);

  // A deleted and removed document is kept for a while (to see a resurrection), then forgotten.
  if (rec.sourceDeleted && !deletePending(rec) && !isHeld(rec) && rec.firing === 0) {
    const forgetAt = Math.max(rec.sourceAt, rec.removedAt) + s.ledgerRetentionMs;
    if (rec.forgetAt !== forgetAt) {
      rec.forgetAt = forgetAt;
      state.schedule('forget', key, forgetAt);
    }
  } else {
    delete rec.forgetAt;
  }
  // The trace context is only needed by a finding still to come (a pending deadline or a resolve).
  if (rec.deleteDue === undefined && rec.aclDue === undefined && rec.firing === 0)
    delete rec.traceparent;
  state.saveDoc(key, rec, heldBefore);
  return out;
}
