// ACL parity: the index must enforce the source's ACL, at most the ACL SLA after either side changed it
// (`parity.acl-mismatch`, fired at the deadline).
import { formatDuration, formatTime, type Finding } from '@tidemark/core';
import type { ParityContext } from './context.js';
import { docFinding, PARITY_CHECKS } from './findings.js';
import type { ParitySettings } from './settings.js';
import { FIRING, isHeld, type DocRecord, type ParityState } from './state.js';

/**
 * The index enforces an ACL other than the source's: for the same revision, or — when the index is behind —
 * other than the source's newest ACL (a permission change that has not reached the index). Unknown when
 * either side reports no aclHash or the index is ahead of the source events seen so far.
 */
export function aclMismatched(rec: DocRecord): boolean {
  return (
    !rec.sourceDeleted &&
    isHeld(rec) &&
    rec.sourceAcl !== undefined &&
    rec.indexAcl !== undefined &&
    rec.indexRevision <= rec.sourceRevision &&
    rec.indexAcl !== rec.sourceAcl
  );
}

/**
 * Re-derives a document's ACL check after a change: schedules or resolves `parity.acl-mismatch` (it fires at its
 * deadline, aclDue); pushes the findings to `out`.
 */
export function evaluateAcl(
  state: ParityState,
  key: string,
  rec: DocRecord,
  s: ParitySettings,
  ctx: ParityContext,
  out: Finding[],
): void {
  const where = `${rec.system}/${rec.docId}`;
  if (aclMismatched(rec)) {
    if (!(rec.firing & FIRING.aclMismatch) && rec.aclDue === undefined) {
      rec.aclSince = Math.max(rec.sourceAt, rec.indexAt);
      rec.aclDue = rec.aclSince + s.aclSlaMs;
      state.schedule('acl', key, rec.aclDue);
    }
  } else {
    delete rec.aclDue;
    delete rec.aclSince;
    if (rec.firing & FIRING.aclMismatch) {
      rec.firing &= ~FIRING.aclMismatch;
      out.push(
        docFinding(
          rec,
          PARITY_CHECKS.aclMismatch,
          'resolved',
          s,
          ctx.now,
          `${where}: the index enforces the source's ACL again`,
          {
            sla: formatDuration(s.aclSlaMs),
          },
        ),
      );
    }
  }
}

/** The ACL SLA of a document passed: fires `parity.acl-mismatch`. */
export function aclDue(state: ParityState, key: string, ctx: ParityContext): Finding[] {
  const rec = state.docs.get(key) as DocRecord;
  const s = ctx.settings(rec.system, rec.contentClass);
  const since = rec.aclSince ?? rec.sourceAt;
  delete rec.aclDue;
  rec.firing |= FIRING.aclMismatch;
  state.saveDoc(key, rec, isHeld(rec));
  const sameRevision = rec.indexRevision === rec.sourceRevision;
  return [
    docFinding(
      rec,
      PARITY_CHECKS.aclMismatch,
      'firing',
      s,
      ctx.now,
      sameRevision
        ? `${rec.system}/${rec.docId}: the index enforces a different ACL than the source for revision ${rec.sourceRevision} since ${formatTime(since)}`
        : `${rec.system}/${rec.docId}: the source changed its ACL (revision ${rec.sourceRevision}) and the index still enforces the ACL of revision ${rec.indexRevision} since ${formatTime(since)}`,
      {
        sla: formatDuration(s.aclSlaMs),
        deadline: formatTime(since + s.aclSlaMs),
        sourceAclHash: rec.sourceAcl,
        indexAclHash: rec.indexAcl,
      },
    ),
  ];
}
