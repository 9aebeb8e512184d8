import {
  EVENT_TYPES,
  formatDuration,
  formatTime,
  parseTime,
  type ContentEvent,
  type Finding,
  type InventorySnapshotEvent,
  type SyncEvent,
} from '@tidemark/core';
import { InventoryChunkError } from './errors.js';
import { PARITY_CHECKS, parityFinding } from './findings.js';
import { diffInventories } from './inventory-diff.js';
import type { ParitySettings, ParitySettingsResolver } from './settings.js';
import {
  FIRING,
  ParityState,
  isHeld,
  type DocRecord,
  type ReconRecord,
  type SnapshotRecord,
  type SystemRecord,
} from './state.js';

/** The latest change time (epoch ms) another source knows for a document, e.g. the RecentChangesTable. */
export type InFlightLookup = (system: string, docId: string) => number | undefined;

/** What every parity check receives besides the state and the event. */
export interface ParityContext {
  settings: ParitySettingsResolver;
  /** Epoch ms: the host's clock, or event time in replay. */
  now: number;
  /** W3C trace context of the input, when it carried one. */
  traceparent?: string;
  /** Change times of documents owned by other partitions (inventory in-flight exclusion). */
  inFlight?: InFlightLookup;
}

// ---- the document ledger ------------------------------------------------------------------

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

function docSubject(rec: DocRecord) {
  return {
    subject: {
      system: rec.system,
      docId: rec.docId,
      ...(rec.contentClass ? { contentClass: rec.contentClass } : {}),
    },
    identity: { system: rec.system, docId: rec.docId },
  };
}

function docEvidence(rec: DocRecord): Record<string, unknown> {
  return {
    sourceRevision: rec.sourceRevision,
    indexedRevision: rec.indexRevision,
    sourceDeleted: rec.sourceDeleted,
    indexRemoved: rec.indexRemoved,
    ...(rec.sourceAt >= 0 ? { sourceTime: formatTime(rec.sourceAt) } : {}),
    ...(rec.indexAt >= 0 ? { indexTime: formatTime(rec.indexAt) } : {}),
  };
}

function docFinding(
  rec: DocRecord,
  check: (typeof PARITY_CHECKS)[keyof typeof PARITY_CHECKS],
  status: 'firing' | 'resolved',
  settings: ParitySettings,
  now: number,
  summary: string,
  evidence: Record<string, unknown>,
): Finding {
  return parityFinding({
    check,
    status,
    ...docSubject(rec),
    settings,
    now,
    summary,
    evidence: { ...docEvidence(rec), ...evidence },
    classification: rec.classification,
    traceparent: rec.traceparent,
  });
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

// ---- mass removal: this partition's share ---------------------------------------------------

/** Width of one mass-removal bucket: a tenth of the window. */
export function bucketWidth(s: ParitySettings): number {
  return Math.max(1, Math.floor(s.massRemoval.windowMs / 10));
}

function recordRemoval(
  state: ParityState,
  rec: DocRecord,
  at: number,
  connector: string,
  ctx: ParityContext,
): void {
  const s = ctx.settings(rec.system);
  const sys = state.system(rec.system);
  const width = bucketWidth(s);
  const start = Math.floor(at / width) * width;
  let bucket = sys.buckets.find((b) => b.start === start);
  if (!bucket) {
    bucket = { start, removed: 0, expected: 0 };
    sys.buckets.push(bucket);
    sys.buckets.sort((a, b) => a.start - b.start);
  }
  bucket.removed++;
  sys.latestRemovalAt = Math.max(sys.latestRemovalAt ?? at, at);
  if (rec.sourceDeleted) bucket.expected++;
  const connectors = (bucket.connectors ??= {});
  connectors[connector] = (connectors[connector] ?? 0) + 1;
  evaluateLocalBurst(state, sys, Math.max(at, ctx.now), s);
}

/**
 * Decides this partition's *local burst* of one system from the removals whose event time lies within the window
 * before `ref`: keys spread evenly over partitions, so a connector wiping the index shows about the same share in
 * every partition, and each partition holds back its own per-document noise while its share is over. No finding:
 * `parity.mass-removal` is decided once per system over every partition's partial (mass-removal.ts).
 */
function evaluateLocalBurst(
  state: ParityState,
  sys: SystemRecord,
  ref: number,
  s: ParitySettings,
): void {
  const { windowMs, share, minDocuments } = s.massRemoval;
  const width = bucketWidth(s);
  sys.buckets = sys.buckets.filter((b) => b.start + width > ref - windowMs);
  let removed = 0;
  for (const b of sys.buckets) removed += b.removed;
  const known = (state.held.get(sys.system) ?? 0) + removed;
  // The partition's own count must reach minDocuments (as before the system-wide merge): a smaller local share
  // of a system-wide burst fires the finding but does not hold this partition's per-document findings back.
  if (removed >= minDocuments && removed > share * known) {
    sys.lastFiringAt = ref;
    sys.firing ??= { since: ref, removed, known };
    sys.recheckAt = ref + width;
    state.schedule('mass', sys.system, sys.recheckAt);
  } else {
    delete sys.firing;
    delete sys.deferred;
    delete sys.recheckAt;
  }
  state.touch(ParityState.systemKey(sys.system));
}

// ---- deadlines ----------------------------------------------------------------------------

/**
 * Fires every deadline due at or before `ctx.now`: delete and ACL SLAs, ledger retention, mass-removal
 * re-checks and snapshot expiry. Cost grows with the number due, not with the ledger size.
 */
export function advanceParity(state: ParityState, ctx: ParityContext): Finding[] {
  const out: Finding[] = [];
  for (;;) {
    const next = state.nextDue(ctx.now);
    if (!next) return out;
    for (const deadline of next.deadlines) {
      // Handling one deadline may settle another of the same moment.
      if (state.dueOf(deadline) !== next.due) continue;
      switch (deadline.kind) {
        case 'delete':
          out.push(...deleteDue(state, deadline.key, ctx));
          break;
        case 'acl':
          out.push(...aclDue(state, deadline.key, ctx));
          break;
        case 'forget':
          state.forgetDoc(deadline.key);
          break;
        case 'mass': {
          const sys = state.systems.get(deadline.key) as SystemRecord;
          delete sys.recheckAt;
          evaluateLocalBurst(state, sys, ctx.now, ctx.settings(sys.system));
          break;
        }
        case 'expiry':
          out.push(...expireSnapshot(state, deadline.key, ctx));
          break;
      }
    }
  }
}

function deleteDue(state: ParityState, key: string, ctx: ParityContext): Finding[] {
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

function aclDue(state: ParityState, key: string, ctx: ParityContext): Finding[] {
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

// ---- inventory ----------------------------------------------------------------------------

function otherSide(side: 'source' | 'index'): 'source' | 'index' {
  return side === 'source' ? 'index' : 'source';
}

/**
 * Adds one `inventory.snapshot` chunk. Chunks may come in any order and more than once; when the last one
 * arrives the snapshot replaces its side's previous one and is compared with the other side's latest
 * complete snapshot if both were taken within the tolerance. Throws InventoryChunkError when a chunk
 * contradicts its snapshot's chunk count.
 */
export function applyInventoryChunk(
  state: ParityState,
  event: InventorySnapshotEvent,
  ctx: ParityContext,
): Finding[] {
  const data = event.data;
  const at = parseTime(event.time);
  state.advanceWatermark(at);
  const s = ctx.settings(data.system);
  const side = state.side(data.system, data.side);
  if (side.finished.includes(data.snapshotId)) return [];
  const key = ParityState.snapshotKey(data.system, data.side, data.snapshotId);
  let snap = state.snapshots.get(key);
  if (!snap) {
    snap = {
      system: data.system,
      side: data.side,
      snapshotId: data.snapshotId,
      chunks: data.chunks,
      takenAt: at,
      firstSeen: ctx.now,
      expiresAt: ctx.now + s.snapshotExpiryMs,
      parts: [],
      received: 0,
    };
    state.snapshots.set(key, snap);
    state.touch(key);
    state.schedule('expiry', key, snap.expiresAt);
  } else if (snap.chunks !== data.chunks) {
    throw new InventoryChunkError(
      `inventory chunk ${data.chunk} of ${data.system} ${data.side} snapshot ${data.snapshotId} says chunks=${data.chunks}, earlier chunks said ${snap.chunks}`,
      { system: data.system, side: data.side, snapshotId: data.snapshotId, chunk: data.chunk },
    );
  }
  if (snap.parts[data.chunk] !== undefined) return [];
  state.addChunk(snap, data.chunk, data.docIds);
  const out: Finding[] = [];
  if (snap.received === snap.chunks) out.push(...completeSnapshot(state, snap, ctx));
  return out;
}

function sideSubject(system: string, side: string) {
  return { system, feature: `inventory.${side}` };
}

function completeSnapshot(state: ParityState, snap: SnapshotRecord, ctx: ParityContext): Finding[] {
  const s = ctx.settings(snap.system);
  const side = state.side(snap.system, snap.side);
  const out: Finding[] = [];
  if (side.incomplete) {
    out.push(
      parityFinding({
        check: PARITY_CHECKS.snapshotIncomplete,
        status: 'resolved',
        subject: sideSubject(snap.system, snap.side),
        settings: s,
        now: ctx.now,
        summary: `${snap.system} ${snap.side} inventory snapshot ${snap.snapshotId} arrived complete`,
        evidence: { snapshotId: snap.snapshotId, chunks: snap.chunks },
      }),
    );
    delete side.incomplete;
  }
  const latest =
    side.latest === undefined
      ? undefined
      : state.snapshots.get(ParityState.snapshotKey(snap.system, snap.side, side.latest));
  if (latest && latest.takenAt > snap.takenAt) {
    // Completed after a newer one: nothing to compare it with that the newer one would not do better.
    state.finish(side, snap.snapshotId);
    state.dropSnapshot(snap);
    return out;
  }
  if (latest) {
    state.finish(side, latest.snapshotId);
    state.dropSnapshot(latest);
  }
  side.latest = snap.snapshotId;
  state.touch(ParityState.sideKey(snap.system, snap.side));
  const other = state.side(snap.system, otherSide(snap.side));
  const otherSnap =
    other.latest === undefined
      ? undefined
      : state.snapshots.get(ParityState.snapshotKey(snap.system, other.side, other.latest));
  if (otherSnap && Math.abs(otherSnap.takenAt - snap.takenAt) <= s.inventoryToleranceMs) {
    const [source, index] = snap.side === 'source' ? [snap, otherSnap] : [otherSnap, snap];
    out.push(...reconcile(state, source, index, ctx));
  }
  return out;
}

function expireSnapshot(state: ParityState, key: string, ctx: ParityContext): Finding[] {
  const snap = state.snapshots.get(key) as SnapshotRecord;
  const s = ctx.settings(snap.system);
  const side = state.side(snap.system, snap.side);
  const received = snap.received;
  const missingChunks: number[] = [];
  for (let c = 0; c < snap.chunks && missingChunks.length < 20; c++) {
    if (snap.parts[c] === undefined) missingChunks.push(c);
  }
  state.finish(side, snap.snapshotId);
  state.dropSnapshot(snap);
  if (side.incomplete) {
    side.incomplete = { snapshotId: snap.snapshotId, at: ctx.now };
    return [];
  }
  side.incomplete = { snapshotId: snap.snapshotId, at: ctx.now };
  return [
    parityFinding({
      check: PARITY_CHECKS.snapshotIncomplete,
      status: 'firing',
      subject: sideSubject(snap.system, snap.side),
      settings: s,
      now: ctx.now,
      summary: `${snap.system} ${snap.side} inventory snapshot ${snap.snapshotId} got ${received} of ${snap.chunks} chunks within ${formatDuration(s.snapshotExpiryMs)} and was dropped`,
      evidence: {
        snapshotId: snap.snapshotId,
        chunks: snap.chunks,
        received,
        missingChunks,
        takenAt: formatTime(snap.takenAt),
        window: formatDuration(s.snapshotExpiryMs),
      },
    }),
  ];
}

/** Whether a mass removal burst was seen for the system close enough to the snapshots to explain their gap. */
function massSuppressed(state: ParityState, system: string, since: number): boolean {
  const sys = state.systems.get(system);
  return (
    sys !== undefined && (sys.firing !== undefined || (sys.lastFiringAt ?? -Infinity) >= since)
  );
}

/**
 * Compares a system's latest complete source and index snapshots. Documents that changed within their
 * SLA of the snapshots (per the local ledger and `ctx.inFlight`) are in flight and left out. Emits one
 * summary finding per kind (re-emitted when its count changes) and per-document findings up to the cap;
 * while the system's mass removal fires, only the summaries are emitted.
 */
export function reconcile(
  state: ParityState,
  source: SnapshotRecord,
  index: SnapshotRecord,
  ctx: ParityContext,
): Finding[] {
  const system = source.system;
  const s = ctx.settings(system);
  const diff = diffInventories(state.inventory(source), state.inventory(index));
  const early = Math.min(source.takenAt, index.takenAt);
  const late = Math.max(source.takenAt, index.takenAt);
  const lastChange = (docId: string): { at: number | undefined; rec: DocRecord | undefined } => {
    const rec = state.docs.get(ParityState.docKey(system, docId));
    const local = rec ? Math.max(rec.sourceAt, rec.indexAt, rec.removedAt) : undefined;
    const remote = ctx.inFlight?.(system, docId);
    const at =
      local === undefined ? remote : remote === undefined ? local : Math.max(local, remote);
    return { at, rec };
  };
  const settle = (
    ids: string[],
    kind: 'orphan' | 'missing',
  ): { kept: string[]; inFlight: number } => {
    const kept: string[] = [];
    let inFlight = 0;
    for (const id of ids) {
      const { at, rec } = lastChange(id);
      if (at !== undefined) {
        const ds = rec ? ctx.settings(system, rec.contentClass) : s;
        const sla = kind === 'orphan' ? ds.deleteSlaMs : ds.syncLagMs;
        // Changed between the snapshots, or too recently before the later one for the index to follow.
        if (at > early || at + sla > late) {
          inFlight++;
          continue;
        }
      }
      kept.push(id);
    }
    return { kept, inFlight };
  };
  const orphan = settle(diff.orphans, 'orphan');
  const missing = settle(diff.missing, 'missing');
  const suppressed = massSuppressed(state, system, early - s.massRemoval.windowMs);
  const recon = state.recon(system);
  const context = {
    sourceSnapshot: source.snapshotId,
    indexSnapshot: index.snapshotId,
    sourceTakenAt: formatTime(source.takenAt),
    indexTakenAt: formatTime(index.takenAt),
  };
  const out = [
    ...reconcileKind(state, recon, 'orphan', orphan, diff, context, suppressed, ctx),
    ...reconcileKind(state, recon, 'missing', missing, diff, context, suppressed, ctx),
  ];
  recon.last = { source: source.snapshotId, index: index.snapshotId, at: ctx.now };
  state.touch(ParityState.reconKey(system));
  return out;
}

function reconcileKind(
  state: ParityState,
  recon: ReconRecord,
  kind: 'orphan' | 'missing',
  found: { kept: string[]; inFlight: number },
  diff: { sourceCount: number; indexCount: number; collisions: number },
  context: Record<string, string>,
  suppressed: boolean,
  ctx: ParityContext,
): Finding[] {
  const system = recon.system;
  const s = ctx.settings(system);
  const check = kind === 'orphan' ? PARITY_CHECKS.orphan : PARITY_CHECKS.missing;
  const ids = found.kept;
  const out: Finding[] = [];
  const phrase =
    kind === 'orphan'
      ? 'documents in the index that the source no longer has'
      : 'source documents missing from the index';

  // Per-document findings: keep those still found, add new ones (hash order) up to the cap.
  const previous = recon.docs[kind];
  const previousSet = new Set(previous);
  const still = new Set<string>();
  for (const id of ids) if (previousSet.has(id)) still.add(id);
  const next = previous.filter((id) => still.has(id));
  if (!suppressed) {
    for (const id of ids) {
      if (next.length >= s.maxDocumentFindings) break;
      if (!previousSet.has(id)) next.push(id);
    }
  }
  const docFindingFor = (docId: string, status: 'firing' | 'resolved'): Finding => {
    const rec = state.docs.get(ParityState.docKey(system, docId));
    const ds = ctx.settings(system, rec?.contentClass);
    return parityFinding({
      check,
      status,
      subject: {
        system,
        docId,
        ...(rec?.contentClass ? { contentClass: rec.contentClass } : {}),
      },
      identity: { system, docId },
      settings: ds,
      now: ctx.now,
      summary:
        status === 'resolved'
          ? `${system}/${docId} is no longer ${kind === 'orphan' ? 'an orphan in the index' : 'missing from the index'}`
          : kind === 'orphan'
            ? `${system}/${docId} is in the index but not in the source inventory`
            : `${system}/${docId} is in the source inventory but not in the index`,
      evidence: { ...context },
      classification: rec?.classification,
    });
  };
  for (const id of previous) if (!still.has(id)) out.push(docFindingFor(id, 'resolved'));
  for (const id of next) if (!previousSet.has(id)) out.push(docFindingFor(id, 'firing'));
  recon.docs[kind] = next;

  const count = ids.length;
  const before = recon.summary[kind];
  if (count > 0 && before !== count) {
    recon.summary[kind] = count;
    out.push(
      parityFinding({
        check,
        status: 'firing',
        subject: { system },
        settings: s,
        now: ctx.now,
        summary: `${count} ${system} ${phrase}${suppressed ? ' (during a mass removal: per-document findings withheld)' : ''}`,
        evidence: {
          count,
          sample: ids.slice(0, s.sampleSize),
          inFlightExcluded: found.inFlight,
          sourceCount: diff.sourceCount,
          indexCount: diff.indexCount,
          perDocumentFindings: next.length,
          perDocumentCap: s.maxDocumentFindings,
          ...(suppressed ? { suppressedBy: PARITY_CHECKS.massRemoval } : {}),
          ...context,
        },
      }),
    );
  } else if (count === 0 && before !== undefined) {
    delete recon.summary[kind];
    out.push(
      parityFinding({
        check,
        status: 'resolved',
        subject: { system },
        settings: s,
        now: ctx.now,
        summary: `no ${system} ${phrase} any more`,
        evidence: {
          count: 0,
          inFlightExcluded: found.inFlight,
          sourceCount: diff.sourceCount,
          indexCount: diff.indexCount,
          ...context,
        },
      }),
    );
  }
  return out;
}
