// Inventory snapshots: chunks of a source or index snapshot are assembled (in any order, more than once); a complete
// snapshot replaces its side's previous one and is reconciled with the other side's (reconcile.ts) when both were
// taken within the tolerance; one that does not complete in time fires `parity.snapshot-incomplete`.
import {
  formatDuration,
  formatTime,
  parseTime,
  type Finding,
  type InventorySnapshotEvent,
} from '@tidemark/core';
import type { ParityContext } from './context.js';
import { InventoryChunkError } from './errors.js';
import { PARITY_CHECKS, parityFinding } from './findings.js';
import { reconcile } from './reconcile.js';
import { ParityState, type SnapshotRecord } from './state.js';

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

/** A snapshot's expiry passed before all its chunks came: dropped, and `parity.snapshot-incomplete` fires. */
export function expireSnapshot(state: ParityState, key: string, ctx: ParityContext): Finding[] {
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
