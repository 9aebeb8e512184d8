// Deletion parity: a source deletion must leave the index within the delete SLA (`parity.delete-missed`, fired at
// the deadline and held back while the system's mass removal fires), and the index must not apply a deleted
// document again (`parity.resurrected`, fired as soon as it is seen).
import { formatDuration, formatTime, type Finding } from '@tidemark/core';
import type { ParityContext } from './context.js';
import { docFinding, PARITY_CHECKS } from './findings.js';
import { bucketWidth } from './mass-removal.js';
import type { ParitySettings } from './settings.js';
import { FIRING, ParityState, isHeld, type DocRecord } from './state.js';

/**
 * A source deletion the index has not applied: no index.removed of the same or a newer revision. An index
 * that had already removed the document before the deletion happened has nothing left to remove.
 */
export function deletePending(rec: DocRecord): boolean {
  if (!rec.sourceDeleted || rec.removedRevision >= rec.sourceRevision) return false;
  const removedBefore = rec.indexRevision >= 0 && rec.indexRemoved && rec.indexAt <= rec.sourceAt;
  return !removedBefore;
}

/**
 * The index (re)applied a revision at or below the source's deletion, after that deletion happened, and
 * either after it had already removed the document or later than the delete SLA allows. A connector that
 * works through a backlog in order and applies an older revision just after the deletion is not counted:
 * it will apply the removal next, and delete-missed covers it if it does not.
 */
export function resurrected(rec: DocRecord, deleteSlaMs: number): boolean {
  if (!rec.sourceDeleted || !isHeld(rec) || rec.indexRevision > rec.sourceRevision) return false;
  if (rec.indexAt <= rec.sourceAt) return false;
  const afterRemoval = rec.removedRevision >= rec.sourceRevision && rec.removedAt < rec.indexAt;
  return afterRemoval || rec.indexAt > rec.sourceAt + deleteSlaMs;
}

/**
 * Re-derives a document's deletion checks after a change: schedules or resolves `parity.delete-missed` (it fires at
 * its deadline, deleteDue), fires or resolves `parity.resurrected`; pushes the findings to `out`.
 */
export function evaluateDeletion(
  state: ParityState,
  key: string,
  rec: DocRecord,
  s: ParitySettings,
  ctx: ParityContext,
  out: Finding[],
): void {
  const where = `${rec.system}/${rec.docId}`;
  if (deletePending(rec)) {
    if (!(rec.firing & FIRING.deleteMissed) && rec.deleteDue === undefined) {
      rec.deleteDue = rec.sourceAt + s.deleteSlaMs;
      state.schedule('delete', key, rec.deleteDue);
    }
  } else {
    delete rec.deleteDue;
    delete rec.deferred;
    if (rec.firing & FIRING.deleteMissed) {
      rec.firing &= ~FIRING.deleteMissed;
      out.push(
        docFinding(
          rec,
          PARITY_CHECKS.deleteMissed,
          'resolved',
          s,
          ctx.now,
          `${where}: the deletion reached the index`,
          {
            sla: formatDuration(s.deleteSlaMs),
          },
        ),
      );
    }
  }

  const res = resurrected(rec, s.deleteSlaMs);
  if (res && !(rec.firing & FIRING.resurrected)) {
    rec.firing |= FIRING.resurrected;
    out.push(
      docFinding(
        rec,
        PARITY_CHECKS.resurrected,
        'firing',
        s,
        ctx.now,
        `${where} was deleted at the source (revision ${rec.sourceRevision}) but the index upserted revision ${rec.indexRevision} after it`,
        { revision: rec.indexRevision, sla: formatDuration(s.deleteSlaMs) },
      ),
    );
  } else if (!res && rec.firing & FIRING.resurrected) {
    rec.firing &= ~FIRING.resurrected;
    out.push(
      docFinding(
        rec,
        PARITY_CHECKS.resurrected,
        'resolved',
        s,
        ctx.now,
        `${where} is no longer resurrected in the index`,
        {
          revision: rec.indexRevision,
        },
      ),
    );
  }
}

/** The delete SLA of a document passed: fires `parity.delete-missed`, or defers it while a mass removal fires. */
export function deleteDue(state: ParityState, key: string, ctx: ParityContext): Finding[] {
  const rec = state.docs.get(key) as DocRecord;
  const heldBefore = isHeld(rec);
  delete rec.deleteDue;
  const s = ctx.settings(rec.system, rec.contentClass);
  const sys = state.systems.get(rec.system);
  if (sys?.firing) {
    // Held back while the system's mass removal fires, re-checked when it is re-evaluated.
    if (!rec.deferred) sys.deferred = (sys.deferred ?? 0) + 1;
    rec.deferred = true;
    rec.deleteDue =
      sys.recheckAt !== undefined && sys.recheckAt > ctx.now
        ? sys.recheckAt
        : ctx.now + bucketWidth(s);
    state.schedule('delete', key, rec.deleteDue);
    state.touch(ParityState.systemKey(rec.system));
    state.saveDoc(key, rec, heldBefore);
    return [];
  }
  delete rec.deferred;
  rec.firing |= FIRING.deleteMissed;
  delete rec.forgetAt;
  state.saveDoc(key, rec, heldBefore);
  return [
    docFinding(
      rec,
      PARITY_CHECKS.deleteMissed,
      'firing',
      s,
      ctx.now,
      `${rec.system}/${rec.docId} was deleted at the source ${formatTime(rec.sourceAt)} (revision ${rec.sourceRevision}) and the index has not removed it within ${formatDuration(s.deleteSlaMs)}`,
      { sla: formatDuration(s.deleteSlaMs), deadline: formatTime(rec.sourceAt + s.deleteSlaMs) },
    ),
  ];
}
