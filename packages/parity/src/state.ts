import { DeadlineQueue, type PartitionState, type StateChange } from '@tidemark/core';
import { IdInventory, hashId, type IdHasher } from './inventory-diff.js';

// One file because it is one partition state: the record types, the deadline queue order and the changelog
// encoding of every record kind must change together, or a restore reads what another version wrote.
//
// Changelog layout: one entry per document, per system, per inventory side, per reconciliation subject and
// per received inventory chunk, each keyed `<tag>:<JSON array of its identity>` so no id character can make
// two keys collide. Every value carries its own identity, so restore never parses keys.

/** Bits of DocRecord.firing. */
export const FIRING = { deleteMissed: 1, resurrected: 2, aclMismatch: 4 } as const;

/** What the ledger knows about one document, from both streams. Revision -1 = nothing seen yet. */
export interface DocRecord {
  system: string;
  docId: string;
  /** Content class and classification from the latest source event carrying them. */
  contentClass?: string;
  classification?: string;
  /** Highest source revision seen, whether it was a deletion, its event time and ACL. */
  sourceRevision: number;
  sourceDeleted: boolean;
  sourceAt: number;
  sourceAcl?: string;
  /** Trace context of the latest source change, so a late finding links back to it. */
  traceparent?: string;
  /** The index's current state: the index event with the latest event time. */
  indexRevision: number;
  indexRemoved: boolean;
  indexAt: number;
  indexAcl?: string;
  /** Highest revision any index.removed named (-1 none) and the latest removal time. */
  removedRevision: number;
  removedAt: number;
  /** Pending deadlines (epoch ms). */
  deleteDue?: number;
  aclDue?: number;
  aclSince?: number;
  forgetAt?: number;
  /** FIRING bits of findings currently firing. */
  firing: number;
  /** A due delete-missed finding held back while its system's mass removal fires. */
  deferred?: boolean;
}

/** One bucket of the mass-removal window: removals whose event time falls in [start, start + width). */
export interface RemovalBucket {
  start: number;
  removed: number;
  /** Removals of documents the source had deleted (expected ones). */
  expected: number;
  /** Removals per connector (the `index.removed` event's `connector`). */
  connectors?: Record<string, number>;
}

/**
 * Per-system mass-removal window of this partition. It decides the partition's *local burst* — which defers this
 * partition's per-document findings — and feeds the system-wide decision through partials (`mass-removal.ts`);
 * the `parity.mass-removal` finding itself is decided over all partitions, never here.
 */
export interface SystemRecord {
  system: string;
  buckets: RemovalBucket[];
  /** Set while this partition sees a burst over the share: when it started and the numbers that made it. */
  firing?: { since: number; removed: number; known: number };
  /** Event time of the newest removal counted (a partial is dated no earlier than the removals it counts). */
  latestRemovalAt?: number;
  /** Latest time a local burst was seen (suppresses per-document reconciliation findings). */
  lastFiringAt?: number;
  /** Deferred per-document delete-missed findings while the local burst lasts. */
  deferred?: number;
  /** Next re-evaluation while the local burst lasts. */
  recheckAt?: number;
  /** What the last partial sent for this system said (its buckets and deferred count), to send only changes. */
  sent?: string;
  /** The held count the last partial sent. */
  sentHeld?: number;
}

/** One partition's latest report of a system's removals, as the system's decider keeps it. */
export interface MassPart {
  /** The partition's time when it reported; a report older than the one kept is ignored. */
  at: number;
  /** Documents the index holds in that partition. */
  held: number;
  buckets: RemovalBucket[];
  /** Delete-missed findings that partition has held back for the burst. */
  deferred: number;
}

/** The system-wide mass-removal decision, kept by the partition that owns the system's key on the partials topic. */
export interface MassDecision {
  system: string;
  /** Latest report per input partition. */
  parts: Record<string, MassPart>;
  /** Set while parity.mass-removal fires, with the subject it fired with (so the resolve matches it). */
  firing?: {
    since: number;
    removed: number;
    known: number;
    connector?: string;
    /** Most delete-missed findings each partition held back during the burst. */
    deferred: Record<string, number>;
  };
  /**
   * Time (ms) of the last resolve. Removals in buckets that ended by then belong to the episode that resolved: a
   * partition that lags in event time reports them late, and counting them again fired the same burst twice.
   */
  quietAfter?: number;
}

/** An inventory snapshot being assembled or kept as the latest complete one of its side. */
export interface SnapshotRecord {
  system: string;
  side: 'source' | 'index';
  snapshotId: string;
  chunks: number;
  /** When the snapshot was taken (event time of its first chunk). */
  takenAt: number;
  /** When its first chunk arrived; it expires at expiresAt unless complete. */
  firstSeen: number;
  expiresAt: number;
  parts: Array<readonly string[] | undefined>;
  received: number;
  /** Sorted-key form, built when first compared. */
  ids?: IdInventory;
}

/** Per (system, side) inventory bookkeeping. */
export interface SideRecord {
  system: string;
  side: 'source' | 'index';
  /** snapshotId of the latest complete snapshot, kept for the next comparison. */
  latest?: string;
  /** Set while parity.snapshot-incomplete fires for this side. */
  incomplete?: { snapshotId: string; at: number };
  /** Snapshots finished (compared, superseded or expired), newest last: late chunks of these are ignored. */
  finished: string[];
}

/** Per-system reconciliation results currently firing. */
export interface ReconRecord {
  system: string;
  /** Firing summary per kind with the count it was emitted with. */
  summary: { orphan?: number; missing?: number };
  /** Documents with a firing per-document finding, per kind. */
  docs: { orphan: string[]; missing: string[] };
  last?: { source: string; index: string; at: number };
}

/** A deadline in the heap; it is live only while its record still holds the same due time. */
export interface Deadline {
  kind: 'delete' | 'acl' | 'forget' | 'mass' | 'expiry';
  key: string;
}

const FINISHED_KEPT = 16;

// A deadline's key in the queue: kind and record key, split at the first NUL (kinds never contain one).
function deadlineId(kind: Deadline['kind'], key: string): string {
  return `${kind}\u0000${key}`;
}

function fromDeadlineId(id: string): Deadline {
  const at = id.indexOf('\u0000');
  return { kind: id.slice(0, at) as Deadline['kind'], key: id.slice(at + 1) };
}

// Order of deadlines due at the same time: a mass-removal re-check first, so a document's delete-missed
// due at the same moment sees whether the burst is over.
const KIND_ORDER: Readonly<Record<Deadline['kind'], number>> = {
  mass: 0,
  expiry: 1,
  acl: 2,
  delete: 3,
  forget: 4,
};

/** Whether the index currently holds the document. */
export function isHeld(rec: DocRecord): boolean {
  return rec.indexRevision >= 0 && !rec.indexRemoved;
}

/** Options of ParityState. */
export interface ParityStateOptions {
  /** Hash used for inventory comparison (tests pass weak ones to force collisions). @default hashId */
  hasher?: IdHasher;
}

/**
 * Everything one partition of the parity-verifier keeps: the document ledger, per-system mass-removal
 * windows, inventory snapshots and reconciliation results, with a min-heap of deadlines rebuilt from
 * the records on restore. Implements the core PartitionState changelog contract.
 */
export class ParityState implements PartitionState {
  readonly partition: number;
  readonly hasher: IdHasher;
  readonly docs = new Map<string, DocRecord>();
  readonly systems = new Map<string, SystemRecord>();
  /** Documents the index holds, per system (derived, not persisted). */
  readonly held = new Map<string, number>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  readonly sides = new Map<string, SideRecord>();
  readonly recons = new Map<string, ReconRecord>();
  /** System-wide mass-removal decisions of the systems whose partials land on this partition. */
  readonly masses = new Map<string, MassDecision>();
  /** Highest event time seen (drives deadlines when the service runs on event time). */
  watermark = 0;
  // Systems, content classes and classifications are few; each decoded event brings its own copy of them.
  readonly #names = new Map<string, string>();
  /** Deadlines keyed `<kind>\u0000<key>`: one per record field, moved in place when it is rescheduled. */
  readonly #heap = new DeadlineQueue<string>();
  readonly #dirty = new Set<string>();
  /** Chunk changes not yet drained: key -> ids (null = delete). */
  readonly #chunkChanges = new Map<string, StateChange['value'] | readonly string[]>();

  constructor(partition = 0, options: ParityStateOptions = {}) {
    this.partition = partition;
    this.hasher = options.hasher ?? hashId;
  }

  // ---- keys ---------------------------------------------------------------------------------

  static docKey(system: string, docId: string): string {
    return `d:${JSON.stringify([system, docId])}`;
  }
  static systemKey(system: string): string {
    return `s:${JSON.stringify([system])}`;
  }
  static sideKey(system: string, side: string): string {
    return `i:${JSON.stringify([system, side])}`;
  }
  static snapshotKey(system: string, side: string, snapshotId: string): string {
    return `n:${JSON.stringify([system, side, snapshotId])}`;
  }
  static chunkKey(system: string, side: string, snapshotId: string, chunk: number): string {
    return `c:${JSON.stringify([system, side, snapshotId, chunk])}`;
  }
  static reconKey(system: string): string {
    return `r:${JSON.stringify([system])}`;
  }
  static massKey(system: string): string {
    return `m:${JSON.stringify([system])}`;
  }
  static readonly watermarkKey = 'w:';

  // ---- records ------------------------------------------------------------------------------

  /** One shared copy of a low-cardinality name (system, content class, classification). */
  intern(name: string): string {
    const known = this.#names.get(name);
    if (known !== undefined) return known;
    if (this.#names.size < 100_000) this.#names.set(name, name);
    return name;
  }

  /** Marks a record key as changed, for the next drain. */
  touch(key: string): void {
    this.#dirty.add(key);
  }

  /** Stores a document record changed in place; `heldBefore` is whether the index held it before the change. */
  saveDoc(key: string, rec: DocRecord, heldBefore: boolean): void {
    if (!this.docs.has(key)) this.docs.set(key, rec);
    const delta = (isHeld(rec) ? 1 : 0) - (heldBefore ? 1 : 0);
    if (delta !== 0) this.held.set(rec.system, (this.held.get(rec.system) ?? 0) + delta);
    this.#dirty.add(key);
  }

  /** Drops a document from the ledger (a tombstone in the changelog). */
  forgetDoc(key: string): void {
    const rec = this.docs.get(key);
    if (!rec) return;
    this.#countHeld(rec, -1);
    this.docs.delete(key);
    this.#dirty.add(key);
  }

  #countHeld(rec: DocRecord, delta: number): void {
    if (!isHeld(rec)) return;
    this.held.set(rec.system, (this.held.get(rec.system) ?? 0) + delta);
  }

  system(system: string): SystemRecord {
    let rec = this.systems.get(system);
    if (!rec) {
      rec = { system, buckets: [] };
      this.systems.set(system, rec);
    }
    return rec;
  }

  side(system: string, side: 'source' | 'index'): SideRecord {
    const key = ParityState.sideKey(system, side);
    let rec = this.sides.get(key);
    if (!rec) {
      rec = { system, side, finished: [] };
      this.sides.set(key, rec);
    }
    return rec;
  }

  /** Remembers a finished snapshot id so its late chunks are ignored. */
  finish(side: SideRecord, snapshotId: string): void {
    if (!side.finished.includes(snapshotId)) side.finished.push(snapshotId);
    if (side.finished.length > FINISHED_KEPT)
      side.finished.splice(0, side.finished.length - FINISHED_KEPT);
    this.touch(ParityState.sideKey(side.system, side.side));
  }

  recon(system: string): ReconRecord {
    let rec = this.recons.get(system);
    if (!rec) {
      rec = { system, summary: {}, docs: { orphan: [], missing: [] } };
      this.recons.set(system, rec);
    }
    return rec;
  }

  /** Stores one received chunk (and marks it for the changelog). */
  addChunk(snap: SnapshotRecord, chunk: number, ids: readonly string[]): void {
    snap.parts[chunk] = ids;
    snap.received++;
    this.#chunkChanges.set(
      ParityState.chunkKey(snap.system, snap.side, snap.snapshotId, chunk),
      ids,
    );
    this.touch(ParityState.snapshotKey(snap.system, snap.side, snap.snapshotId));
  }

  /** Frees a snapshot's memory and deletes it and its chunks from the changelog. */
  dropSnapshot(snap: SnapshotRecord): void {
    const key = ParityState.snapshotKey(snap.system, snap.side, snap.snapshotId);
    this.snapshots.delete(key);
    this.#dirty.add(key);
    for (let c = 0; c < snap.chunks; c++) {
      if (snap.parts[c] !== undefined) {
        this.#chunkChanges.set(
          ParityState.chunkKey(snap.system, snap.side, snap.snapshotId, c),
          null,
        );
      }
    }
    snap.parts = [];
    delete snap.ids;
  }

  /** The comparable form of a complete snapshot, built once. */
  inventory(snap: SnapshotRecord): IdInventory {
    snap.ids ??= new IdInventory(snap.parts as ReadonlyArray<readonly string[]>, this.hasher);
    return snap.ids;
  }

  // ---- deadlines ----------------------------------------------------------------------------

  /**
   * Schedules a deadline, replacing the one of the same kind and key. A deadline whose record field was cleared
   * meanwhile stays queued and is skipped when it comes due (dueOf no longer matches).
   */
  schedule(kind: Deadline['kind'], key: string, due: number): void {
    this.#heap.set(deadlineId(kind, key), due);
    // Cleared deadlines stay until their time; rebuild once they dominate so memory stays bounded.
    if (this.#heap.size > 1024 && this.#heap.size > 4 * (this.size() + 1)) this.#rebuildHeap();
  }

  /**
   * Pops every live deadline sharing the earliest due time, if that is at or before `now`, in a fixed
   * order (kind, then key): the heap does not order equal times, and replay must give the same findings
   * in the same order as the live run.
   */
  nextDue(now: number): { deadlines: Deadline[]; due: number } | undefined {
    for (;;) {
      const due = this.#heap.peekDue();
      if (!(due <= now)) return undefined;
      const batch = new Map<string, Deadline>();
      while (this.#heap.peekDue() === due) {
        const deadline = fromDeadlineId(this.#heap.pop()!.key);
        if (this.dueOf(deadline) === due)
          batch.set(`${KIND_ORDER[deadline.kind]}|${deadline.key}`, deadline);
      }
      if (batch.size > 0) {
        const deadlines = [...batch.keys()].sort().map((k) => batch.get(k) as Deadline);
        return { deadlines, due };
      }
    }
  }

  /** Live deadline entries pending in the heap (superseded entries excluded), for tests and metrics. */
  pendingDeadlines(): Array<{ kind: Deadline['kind']; key: string; due: number }> {
    const out: Array<{ kind: Deadline['kind']; key: string; due: number }> = [];
    const seen = new Set<string>();
    for (const entry of this.#heap.entries()) {
      const deadline = fromDeadlineId(entry.key);
      const due = entry.due;
      const id = `${deadline.kind}|${deadline.key}|${due}`;
      if (this.dueOf(deadline) === due && !seen.has(id)) {
        seen.add(id);
        out.push({ kind: deadline.kind, key: deadline.key, due });
      }
    }
    return out.sort(
      (a, b) => a.due - b.due || a.kind.localeCompare(b.kind) || a.key.localeCompare(b.key),
    );
  }

  /** The earliest deadline's due time (a superseded one may make it early, never late); Infinity when none. */
  nextDeadline(): number {
    return this.#heap.peekDue();
  }

  /** Entries in the heap, superseded ones included. */
  get heapLength(): number {
    return this.#heap.size;
  }

  /** The due time a deadline's record currently holds (undefined when none). */
  dueOf(deadline: Deadline): number | undefined {
    switch (deadline.kind) {
      case 'delete':
        return this.docs.get(deadline.key)?.deleteDue;
      case 'acl':
        return this.docs.get(deadline.key)?.aclDue;
      case 'forget':
        return this.docs.get(deadline.key)?.forgetAt;
      case 'mass':
        return this.systems.get(deadline.key)?.recheckAt;
      case 'expiry': {
        const snap = this.snapshots.get(deadline.key);
        return snap && snap.received < snap.chunks ? snap.expiresAt : undefined;
      }
    }
  }

  #scheduleRecord(key: string): void {
    if (key.startsWith('d:')) {
      const rec = this.docs.get(key);
      if (rec?.deleteDue !== undefined) this.#heap.set(deadlineId('delete', key), rec.deleteDue);
      if (rec?.aclDue !== undefined) this.#heap.set(deadlineId('acl', key), rec.aclDue);
      if (rec?.forgetAt !== undefined) this.#heap.set(deadlineId('forget', key), rec.forgetAt);
    } else if (key.startsWith('s:')) {
      const system = (JSON.parse(key.slice(2)) as string[])[0] as string;
      const rec = this.systems.get(system);
      if (rec?.recheckAt !== undefined) this.#heap.set(deadlineId('mass', system), rec.recheckAt);
    } else if (key.startsWith('n:')) {
      const snap = this.snapshots.get(key);
      if (snap && snap.received < snap.chunks)
        this.#heap.set(deadlineId('expiry', key), snap.expiresAt);
    }
  }

  #rebuildHeap(): void {
    this.#heap.clear();
    for (const key of this.docs.keys()) this.#scheduleRecord(key);
    for (const system of this.systems.keys()) this.#scheduleRecord(ParityState.systemKey(system));
    for (const key of this.snapshots.keys()) this.#scheduleRecord(key);
  }

  // ---- PartitionState -----------------------------------------------------------------------

  size(): number {
    let chunks = 0;
    for (const snap of this.snapshots.values()) chunks += snap.received;
    return (
      this.docs.size +
      this.systems.size +
      this.sides.size +
      this.recons.size +
      this.masses.size +
      this.snapshots.size +
      chunks
    );
  }

  drainChanges(): StateChange[] {
    const changes: StateChange[] = [];
    const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
    for (const key of this.#dirty) {
      let value: unknown;
      switch (key.slice(0, 2)) {
        case 'd:':
          value = this.docs.get(key);
          break;
        case 's:':
          value = this.systems.get((JSON.parse(key.slice(2)) as string[])[0] as string);
          break;
        case 'i:':
          value = this.sides.get(key);
          break;
        case 'r:':
          value = this.recons.get((JSON.parse(key.slice(2)) as string[])[0] as string);
          break;
        case 'm:':
          value = this.masses.get((JSON.parse(key.slice(2)) as string[])[0] as string);
          break;
        case 'n:': {
          const snap = this.snapshots.get(key);
          value = snap && {
            system: snap.system,
            side: snap.side,
            snapshotId: snap.snapshotId,
            chunks: snap.chunks,
            takenAt: snap.takenAt,
            firstSeen: snap.firstSeen,
            expiresAt: snap.expiresAt,
          };
          break;
        }
        case 'w:':
          value = { watermark: this.watermark };
          break;
      }
      changes.push({ key, value: value === undefined ? null : json(value) });
    }
    this.#dirty.clear();
    for (const [key, ids] of this.#chunkChanges) {
      changes.push({ key, value: ids === null ? null : json(ids) });
    }
    this.#chunkChanges.clear();
    return changes;
  }

  restore(key: string, value: Buffer | null): void {
    const parsed: unknown = value === null ? undefined : JSON.parse(value.toString('utf8'));
    switch (key.slice(0, 2)) {
      case 'd:': {
        const before = this.docs.get(key);
        if (before) this.#countHeld(before, -1);
        if (parsed) {
          const rec = parsed as DocRecord;
          rec.system = this.intern(rec.system);
          if (rec.contentClass !== undefined) rec.contentClass = this.intern(rec.contentClass);
          if (rec.classification !== undefined)
            rec.classification = this.intern(rec.classification);
          this.docs.set(key, rec);
          this.#countHeld(rec, 1);
        } else this.docs.delete(key);
        break;
      }
      case 's:': {
        const system = (JSON.parse(key.slice(2)) as string[])[0] as string;
        if (parsed) this.systems.set(system, parsed as SystemRecord);
        else this.systems.delete(system);
        break;
      }
      case 'i:':
        if (parsed) this.sides.set(key, parsed as SideRecord);
        else this.sides.delete(key);
        break;
      case 'r:': {
        const system = (JSON.parse(key.slice(2)) as string[])[0] as string;
        if (parsed) this.recons.set(system, parsed as ReconRecord);
        else this.recons.delete(system);
        break;
      }
      case 'm:': {
        const system = (JSON.parse(key.slice(2)) as string[])[0] as string;
        if (parsed) this.masses.set(system, parsed as MassDecision);
        else this.masses.delete(system);
        break;
      }
      case 'n:': {
        if (!parsed) {
          this.snapshots.delete(key);
          break;
        }
        const meta = parsed as Omit<SnapshotRecord, 'parts' | 'received'>;
        const existing = this.snapshots.get(key);
        // Chunks may have been restored before their snapshot's entry.
        this.snapshots.set(key, {
          ...meta,
          parts: existing?.parts ?? [],
          received: existing?.received ?? 0,
        });
        break;
      }
      case 'c:': {
        const [system, side, snapshotId, chunk] = JSON.parse(key.slice(2)) as [
          string,
          'source' | 'index',
          string,
          number,
        ];
        const snapKey = ParityState.snapshotKey(system, side, snapshotId);
        let snap = this.snapshots.get(snapKey);
        if (!snap) {
          if (!parsed) break;
          // Placeholder until the snapshot entry is restored (it carries the real metadata).
          snap = {
            system,
            side,
            snapshotId,
            chunks: 0,
            takenAt: 0,
            firstSeen: 0,
            expiresAt: 0,
            parts: [],
            received: 0,
          };
          this.snapshots.set(snapKey, snap);
        }
        const had = snap.parts[chunk] !== undefined;
        if (parsed) {
          snap.parts[chunk] = parsed as string[];
          if (!had) snap.received++;
        } else if (had) {
          snap.parts[chunk] = undefined;
          snap.received--;
        }
        delete snap.ids;
        break;
      }
      case 'w:':
        this.watermark = parsed ? (parsed as { watermark: number }).watermark : 0;
        return;
    }
    this.#scheduleRecord(key);
  }

  /** Moves the event-time watermark forward (persisted). */
  advanceWatermark(time: number): void {
    if (time > this.watermark) {
      this.watermark = time;
      this.#dirty.add(ParityState.watermarkKey);
    }
  }
}
