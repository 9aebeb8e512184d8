import { TidemarkError, type PartitionState, type StateChange } from '@tidemark/core';
import { DeadlineHeap } from './deadlines.js';
import { StringTable } from './interning.js';
import { enabled, validatePolicy, type FreshnessPolicy, type FreshnessSettings } from './policy.js';
import { PendingPool } from './pending.js';
import { TRACEPARENT_BYTES } from './traces.js';

// One file because it is one data structure: every method reads and writes the same slot-indexed columns,
// intern tables and deadline heap, and the changelog codec must match that layout byte for byte.
//
// Layout, chosen for ~1M documents per partition at well under 200 bytes each (see README, "Memory"):
// - a document is a slot; its numeric facts live in typed arrays indexed by slot (struct of arrays);
// - strings that repeat (owner, content class, connector, system+class) are interned into small tables;
// - the only per-document strings are the docId (the Map key, shared with `docIds`);
// - revisions are kept as "revision keys": 2·revision, +1 for a deletion/removal, so one number orders
//   upserts and deletions of the same document (a deletion at revision r comes after the upsert at r);
// - deadlines live in a min-heap; entries whose deadline was superseded stay until popped or compacted.

/** Bits of a document's flags column. */
export const DOC_FLAGS = { deprecated: 1, restricted: 2, syncFiring: 4, reviewFiring: 8 } as const;

/** Deadline kinds; a heap entry's ref is `index * 4 + kind`. */
export const DEADLINE = { sync: 0, review: 1, purge: 2, silent: 3 } as const;

/** Options of a FreshnessLedger. */
export interface FreshnessLedgerOptions {
  /** Resolves SLAs and owners per system/content class. */
  settings: FreshnessSettings;
  /**
   * How long a document deleted at the source and caught up in the index is kept before its changelog
   * tombstone, so late duplicates of older events are still recognised as old. @default 86400000 (1 day)
   */
  deletedRetentionMs?: number;
  /** Most findings one tick emits; the rest follow on the next tick, unchanged. @default 50000 */
  tickLimit?: number;
}

/** Defaults of FreshnessLedgerOptions. */
export const LEDGER_DEFAULTS = { deletedRetentionMs: 86_400_000, tickLimit: 50_000 } as const;

/** One connector's heartbeat and failure streak. */
export interface ConnectorState {
  name: string;
  system: string;
  /** Earliest run time seen (epoch ms); the heartbeat counts from here until a first success. */
  firstSeen: number;
  /** Finish time of the latest succeeded run, NaN before the first. */
  lastSuccess: number;
  /** Failed runs after the latest success, oldest first, at most max(failingRuns, 1) of the most recent. */
  failures: Array<{ runId: string; at: number; error?: string }>;
  silentFiring: boolean;
  failingFiring: boolean;
}

/** A changelog entry this ledger cannot read (unknown key form or value version). */
export class LedgerFormatError extends TidemarkError {
  constructor(message: string, key: string) {
    super(message, { retriable: false, context: { key } });
  }
}

/** More documents of one system in one partition than a JavaScript Map can hold. */
export class LedgerCapacityError extends TidemarkError {
  constructor(system: string, size: number) {
    super(
      `partition holds ${size} documents of "${system}", the most one Map can index; add partitions to the input topics`,
      { retriable: false, context: { system, size } },
    );
  }
}

interface Profile {
  system: string;
  classId: number;
  policy: FreshnessPolicy | undefined;
}

// V8 caps a Map at 2^24 entries.
const MAX_MAP_ENTRIES = 2 ** 24 - 1;
const DOC_VERSION = 1;
// version, flags, 7 doubles, 3 uint32 ids, trace length, then the packed trace (if any).
const DOC_FIXED_BYTES = 2 + 7 * 8 + 3 * 4 + 1;
const KEY_DOC = 'd|';
const KEY_CONNECTOR = 'c|';
const KEY_TABLE = 't|';
const FREE = '';

// Strings cut out of a longer one (a changelog key) keep the whole parent alive in V8; copying through a
// Buffer gives the docId its own storage. Only done on restore, once per document.
function detach(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

function popcount3(mask: number): number {
  return (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
}

/** Per-partition freshness state: a compact document ledger, connector states and pending deadlines. */
export class FreshnessLedger implements PartitionState {
  readonly settings: FreshnessSettings;
  readonly deletedRetentionMs: number;
  readonly tickLimit: number;

  // Document columns, indexed by slot.
  srcKey = new Float64Array(0);
  srcTime = new Float64Array(0);
  idxKey = new Float64Array(0);
  idxTime = new Float64Array(0);
  reviewedAt = new Float64Array(0);
  flags = new Uint8Array(0);
  profile = new Uint16Array(0);
  owner = new Uint32Array(0);
  connector = new Uint16Array(0);
  /** Handle into `pendingPool` while the index is behind the document, else -1. */
  pending = new Int32Array(0);
  readonly docIds: string[] = [];

  readonly classes = new StringTable();
  readonly owners = new StringTable();
  readonly connectorNames = new StringTable();
  readonly pendingPool = new PendingPool();
  readonly heap = new DeadlineHeap();
  readonly connectors: ConnectorState[] = [];
  /** Highest event time applied or restored; replay advances to it. */
  highWatermark = -Infinity;

  #slots = 0;
  #docs = 0;
  readonly #free: number[] = [];
  readonly #bySystem = new Map<string, Map<string, number>>();
  readonly #profiles: Profile[] = [];
  // system → profile id by class id
  readonly #profileIds = new Map<string, number[]>();
  readonly #connectorIds = new Map<string, number>();
  readonly #connectorPolicies = new Map<string, FreshnessPolicy>();
  #heapReady = true;
  #armed = 0;
  readonly #dirtyDocs = new Set<number>();
  readonly #removedKeys = new Set<string>();
  readonly #dirtyConnectors = new Set<number>();
  // Deadlines of the document or connector being changed, captured by begin*() for end*().
  #before = [NaN, NaN, NaN];
  #beforeMask = 0;

  constructor({
    settings,
    deletedRetentionMs = LEDGER_DEFAULTS.deletedRetentionMs,
    tickLimit = LEDGER_DEFAULTS.tickLimit,
  }: FreshnessLedgerOptions) {
    if (typeof settings !== 'function')
      throw new TypeError('FreshnessLedger: settings must be a function');
    if (!(deletedRetentionMs >= 0)) {
      throw new RangeError(
        `FreshnessLedger: deletedRetentionMs must be ≥ 0, got ${deletedRetentionMs}`,
      );
    }
    if (!(tickLimit >= 1))
      throw new RangeError(`FreshnessLedger: tickLimit must be ≥ 1, got ${tickLimit}`);
    this.settings = settings;
    this.deletedRetentionMs = deletedRetentionMs;
    this.tickLimit = tickLimit;
  }

  // ---- documents -------------------------------------------------------------------------------

  /** Number of documents tracked. */
  get documentCount(): number {
    return this.#docs;
  }

  /** Slot of a document, or -1 when it is not tracked. */
  find(system: string, docId: string): number {
    return this.#bySystem.get(system)?.get(docId) ?? -1;
  }

  /** Slot of a document, creating an empty one on first sight. */
  slotFor(system: string, docId: string): number {
    let docs = this.#bySystem.get(system);
    if (!docs) {
      docs = new Map();
      this.#bySystem.set(system, docs);
    }
    const found = docs.get(docId);
    if (found !== undefined) return found;
    if (docs.size >= MAX_MAP_ENTRIES) throw new LedgerCapacityError(system, docs.size);
    const slot = this.#allocate();
    docs.set(docId, slot);
    this.docIds[slot] = docId;
    this.profile[slot] = this.profileFor(system, 0);
    this.#docs++;
    if (this.#removedKeys.size > 0) this.#removedKeys.delete(this.#docKey(system, docId));
    return slot;
  }

  system(slot: number): string {
    return (this.#profiles[this.profile[slot] as number] as Profile).system;
  }

  contentClass(slot: number): string | undefined {
    return this.classes.name((this.#profiles[this.profile[slot] as number] as Profile).classId);
  }

  /** The policy of the document's system and content class. */
  policyOf(slot: number): FreshnessPolicy {
    return this.#policy(this.profile[slot] as number);
  }

  /** The policy of a connector (heartbeat and failing-run threshold), per system and connector name. */
  connectorPolicy(i: number): FreshnessPolicy {
    const c = this.connectors[i];
    if (!c) throw new RangeError(`no connector at index ${i}`);
    const key = `${c.system}/${c.name}`;
    let policy = this.#connectorPolicies.get(key);
    if (!policy) {
      policy = validatePolicy(
        this.settings(c.system, undefined, c.name),
        `${c.system} connector ${c.name}`,
      );
      this.#connectorPolicies.set(key, policy);
    }
    return policy;
  }

  /** Interned id of a (system, content class) pair. */
  profileFor(system: string, classId: number): number {
    let byClass = this.#profileIds.get(system);
    if (!byClass) {
      byClass = [];
      this.#profileIds.set(system, byClass);
    }
    let id = byClass[classId];
    if (id === undefined) {
      id = this.#profiles.length;
      if (id > 0xffff) {
        throw new RangeError('FreshnessLedger: more than 65536 system/content-class pairs');
      }
      this.#profiles.push({ system, classId, policy: undefined });
      byClass[classId] = id;
    }
    return id;
  }

  /** Whether the index lacks a source revision: a newer upsert, or a deletion of a document it holds. */
  isPending(slot: number): boolean {
    const src = this.srcKey[slot] as number;
    const idx = this.idxKey[slot] as number;
    if (src <= idx) return false;
    // One finding per problem: a deletion the index has not applied is parity.delete-missed's alone (it has the
    // delete SLA, the mass-removal deferral and the resurrection rule); sync lag covers upserts only. A source
    // deletion also ends the wait for an upsert it superseded: the document is gone, only its removal is owed.
    return src % 2 === 0;
  }

  /** Deadline of one kind for a document, NaN when none applies. */
  deadline(slot: number, kind: number): number {
    switch (kind) {
      case DEADLINE.sync: {
        if (!this.isPending(slot)) return NaN;
        const sla = this.policyOf(slot).syncLagMs;
        return enabled(sla) ? this.pendingSinceOf(slot) + sla : NaN;
      }
      case DEADLINE.review: {
        const src = this.srcKey[slot] as number;
        const reviewed = this.reviewedAt[slot] as number;
        if (src < 0 || src % 2 === 1 || Number.isNaN(reviewed)) return NaN;
        if ((this.flags[slot] as number) & DOC_FLAGS.deprecated) return NaN;
        const interval = this.policyOf(slot).reviewIntervalMs;
        return enabled(interval) ? reviewed + interval : NaN;
      }
      case DEADLINE.purge: {
        const src = this.srcKey[slot] as number;
        const idx = this.idxKey[slot] as number;
        const gone = src >= 0 ? src % 2 === 1 : idx >= 0 && idx % 2 === 1;
        if (!gone || this.isPending(slot)) return NaN;
        const s = this.srcTime[slot] as number;
        const i = this.idxTime[slot] as number;
        const last = Number.isNaN(s) ? i : Number.isNaN(i) ? s : Math.max(s, i);
        return last + this.deletedRetentionMs;
      }
      default:
        return NaN;
    }
  }

  /** Bit mask (by deadline kind) of the document's deadlines that are due to fire: set and not firing. */
  armedMask(slot: number): number {
    const flags = this.flags[slot] as number;
    let mask = 0;
    if (!(flags & DOC_FLAGS.syncFiring) && !Number.isNaN(this.deadline(slot, DEADLINE.sync)))
      mask |= 1;
    if (!(flags & DOC_FLAGS.reviewFiring) && !Number.isNaN(this.deadline(slot, DEADLINE.review)))
      mask |= 2;
    if (!Number.isNaN(this.deadline(slot, DEADLINE.purge))) mask |= 4;
    return mask;
  }

  /** Call before changing a document; pair with endDoc(). */
  beginDoc(slot: number): void {
    this.ensureHeap();
    for (let kind = 0; kind < 3; kind++) this.#before[kind] = this.deadline(slot, kind);
    this.#beforeMask = this.armedMask(slot);
  }

  /** Schedules the document's new or moved deadlines and marks it for the changelog. */
  endDoc(slot: number): void {
    const mask = this.armedMask(slot);
    this.#armed += popcount3(mask) - popcount3(this.#beforeMask);
    for (let kind = 0; kind < 3; kind++) {
      const bit = 1 << kind;
      if (!(mask & bit)) continue;
      const d = this.deadline(slot, kind);
      if (!(this.#beforeMask & bit) || d !== this.#before[kind]) this.heap.push(d, slot * 4 + kind);
    }
    this.#dirtyDocs.add(slot);
    this.#maybeCompact();
  }

  /** Forgets a document for good (deleted and caught up, retention over): frees its slot, tombstones its key. */
  purge(slot: number): void {
    this.ensureHeap();
    this.#armed -= popcount3(this.armedMask(slot));
    const system = this.system(slot);
    const docId = this.docIds[slot] as string;
    this.#bySystem.get(system)?.delete(docId);
    this.#removedKeys.add(this.#docKey(system, docId));
    this.#dirtyDocs.delete(slot);
    this.#release(slot);
  }

  /** Revision key of the oldest source revision known to be unapplied by the index; -1 when caught up. */
  pendingKeyOf(slot: number): number {
    const handle = this.pending[slot] as number;
    return handle < 0 ? -1 : this.pendingPool.revisionKey(handle);
  }

  /** When that revision changed at the source: the sync-lag clock runs from here (NaN when caught up). */
  pendingSinceOf(slot: number): number {
    const handle = this.pending[slot] as number;
    return handle < 0 ? NaN : this.pendingPool.since(handle);
  }

  /** Starts or moves the sync-lag clock, keeping the trace of the source change it runs for. */
  setPending(
    slot: number,
    revisionKey: number,
    since: number,
    traceparent: string | undefined,
  ): void {
    let handle = this.pending[slot] as number;
    if (handle < 0) {
      handle = this.pendingPool.allocate(revisionKey, since);
      this.pending[slot] = handle;
    } else {
      this.pendingPool.set(handle, revisionKey, since);
    }
    this.pendingPool.setTrace(handle, traceparent);
  }

  /** Stops the sync-lag clock (the index caught up). */
  clearPending(slot: number): void {
    const handle = this.pending[slot] as number;
    if (handle >= 0) {
      this.pendingPool.release(handle);
      this.pending[slot] = -1;
    }
  }

  /** Trace of the source change the index is behind on, if it carried one. */
  traceOf(slot: number): string | undefined {
    const handle = this.pending[slot] as number;
    return handle < 0 ? undefined : this.pendingPool.trace(handle);
  }

  // ---- connectors ------------------------------------------------------------------------------

  /** Index of a connector's state, creating it (first seen at `at`) on first sight. */
  connectorFor(name: string, system: string, at: number): number {
    let i = this.#connectorIds.get(name);
    if (i === undefined) {
      i = this.connectors.length;
      this.connectors.push({
        name,
        system,
        firstSeen: at,
        lastSuccess: NaN,
        failures: [],
        silentFiring: false,
        failingFiring: false,
      });
      this.#connectorIds.set(name, i);
      // Its heartbeat starts now; callers bracket later changes with begin/endConnector.
      if (this.#heapReady && this.#connectorArmed(i)) {
        this.#armed++;
        this.heap.push(this.silentDeadline(i), i * 4 + DEADLINE.silent);
      }
    }
    return i;
  }

  /** When a connector's heartbeat runs out, NaN when the heartbeat is off. */
  silentDeadline(i: number): number {
    const c = this.connectors[i] as ConnectorState;
    const heartbeat = this.connectorPolicy(i).heartbeatMs;
    if (!enabled(heartbeat)) return NaN;
    return (Number.isNaN(c.lastSuccess) ? c.firstSeen : c.lastSuccess) + heartbeat;
  }

  beginConnector(i: number): void {
    this.ensureHeap();
    this.#before[0] = this.silentDeadline(i);
    this.#beforeMask = this.#connectorArmed(i) ? 1 : 0;
  }

  endConnector(i: number): void {
    const armed = this.#connectorArmed(i);
    this.#armed += (armed ? 1 : 0) - this.#beforeMask;
    const d = this.silentDeadline(i);
    if (armed && (!this.#beforeMask || d !== this.#before[0]))
      this.heap.push(d, i * 4 + DEADLINE.silent);
    this.#dirtyConnectors.add(i);
    this.#maybeCompact();
  }

  // ---- deadlines -------------------------------------------------------------------------------

  /** Whether a popped heap entry is still the current, unfired deadline of its document or connector. */
  isLive(time: number, ref: number): boolean {
    const kind = ref & 3;
    const index = ref >>> 2;
    if (kind === DEADLINE.silent) {
      return (
        index < this.connectors.length &&
        this.#connectorArmed(index) &&
        this.silentDeadline(index) === time
      );
    }
    if (index >= this.#slots || this.docIds[index] === FREE) return false;
    return ((this.armedMask(index) >> kind) & 1) === 1 && this.deadline(index, kind) === time;
  }

  /** Rebuilds the deadline heap from the ledger after a restore; cheap no-op otherwise. */
  ensureHeap(): void {
    if (this.#heapReady) return;
    this.#heapReady = true;
    this.heap.clear();
    this.#armed = 0;
    for (let slot = 0; slot < this.#slots; slot++) {
      if (this.docIds[slot] === FREE) continue;
      const mask = this.armedMask(slot);
      for (let kind = 0; kind < 3; kind++) {
        if (mask & (1 << kind)) {
          this.heap.append(this.deadline(slot, kind), slot * 4 + kind);
          this.#armed++;
        }
      }
    }
    for (let i = 0; i < this.connectors.length; i++) {
      if (this.#connectorArmed(i)) {
        this.heap.append(this.silentDeadline(i), i * 4 + DEADLINE.silent);
        this.#armed++;
      }
    }
    this.heap.heapify();
  }

  /** Deadlines waiting to fire (documents and connectors). */
  get armedCount(): number {
    this.ensureHeap();
    return this.#armed;
  }

  // ---- PartitionState --------------------------------------------------------------------------

  size(): number {
    return this.#docs + this.connectors.length;
  }

  drainChanges(): StateChange[] {
    const changes: StateChange[] = [];
    // Table entries first: restore resolves ids lazily, but readers of the topic see names before use.
    for (const [code, table] of this.#tables()) {
      for (const id of table.drainAdded()) {
        changes.push({
          key: `${KEY_TABLE}${code}|${id}`,
          value: Buffer.from(table.name(id) ?? '', 'utf8'),
        });
      }
    }
    for (const key of this.#removedKeys) changes.push({ key, value: null });
    this.#removedKeys.clear();
    for (const slot of this.#dirtyDocs) {
      changes.push({
        key: this.#docKey(this.system(slot), this.docIds[slot] as string),
        value: this.#encodeDoc(slot),
      });
    }
    this.#dirtyDocs.clear();
    for (const i of this.#dirtyConnectors) {
      const c = this.connectors[i] as ConnectorState;
      changes.push({
        key: `${KEY_CONNECTOR}${c.name}`,
        value: Buffer.from(
          JSON.stringify({
            system: c.system,
            firstSeen: c.firstSeen,
            lastSuccess: Number.isNaN(c.lastSuccess) ? null : c.lastSuccess,
            failures: c.failures,
            silentFiring: c.silentFiring,
            failingFiring: c.failingFiring,
          }),
          'utf8',
        ),
      });
    }
    this.#dirtyConnectors.clear();
    return changes;
  }

  restore(key: string, value: Buffer | null): void {
    this.#heapReady = false;
    if (key.startsWith(KEY_DOC)) this.#restoreDoc(key, value);
    else if (key.startsWith(KEY_TABLE)) this.#restoreTable(key, value);
    else if (key.startsWith(KEY_CONNECTOR)) this.#restoreConnector(key, value);
    else throw new LedgerFormatError(`unknown freshness changelog key ${JSON.stringify(key)}`, key);
  }

  /** Approximate bytes held outside the docId strings and Maps (typed arrays, heap, trace pool). */
  get columnBytes(): number {
    return (
      this.srcKey.byteLength * 5 +
      this.flags.byteLength +
      this.profile.byteLength +
      this.owner.byteLength +
      this.connector.byteLength +
      this.pending.byteLength +
      this.heap.byteLength +
      this.pendingPool.byteLength
    );
  }

  // ---- internals -------------------------------------------------------------------------------

  #docKey(system: string, docId: string): string {
    return `${KEY_DOC}${system}/${docId}`;
  }

  #policy(profileId: number): FreshnessPolicy {
    const profile = this.#profiles[profileId] as Profile;
    if (!profile.policy) {
      const contentClass = this.classes.name(profile.classId);
      profile.policy = validatePolicy(
        this.settings(profile.system, contentClass),
        contentClass === undefined ? profile.system : `${profile.system}/${contentClass}`,
      );
    }
    return profile.policy;
  }

  #connectorArmed(i: number): boolean {
    const c = this.connectors[i] as ConnectorState;
    return !c.silentFiring && !Number.isNaN(this.silentDeadline(i));
  }

  #maybeCompact(): void {
    // Superseded entries are skipped when popped; this bounds how many pile up between pops (e.g. review
    // deadlines months away, moved by every new revision). Amortised O(1) per push.
    if (this.heap.size > 2 * this.#armed + 4096) this.heap.filter((t, r) => this.isLive(t, r));
  }

  #allocate(): number {
    const reused = this.#free.pop();
    const slot = reused ?? this.#slots++;
    if (slot >= this.srcKey.length) this.#grow(Math.max(1024, Math.ceil(this.srcKey.length * 1.5)));
    this.srcKey[slot] = -1;
    this.srcTime[slot] = NaN;
    this.idxKey[slot] = -1;
    this.idxTime[slot] = NaN;
    this.reviewedAt[slot] = NaN;
    this.flags[slot] = 0;
    this.owner[slot] = 0;
    this.connector[slot] = 0;
    this.pending[slot] = -1;
    return slot;
  }

  #release(slot: number): void {
    this.clearPending(slot);
    this.srcKey[slot] = -1;
    this.idxKey[slot] = -1;
    this.docIds[slot] = FREE;
    this.#free.push(slot);
    this.#docs--;
  }

  #grow(capacity: number): void {
    const grow = <T extends Float64Array | Uint8Array | Uint16Array | Uint32Array | Int32Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    const f64 = (n: number) => new Float64Array(n);
    this.srcKey = grow(this.srcKey, f64);
    this.srcTime = grow(this.srcTime, f64);
    this.idxKey = grow(this.idxKey, f64);
    this.idxTime = grow(this.idxTime, f64);
    this.reviewedAt = grow(this.reviewedAt, f64);
    this.flags = grow(this.flags, (n) => new Uint8Array(n));
    this.profile = grow(this.profile, (n) => new Uint16Array(n));
    this.owner = grow(this.owner, (n) => new Uint32Array(n));
    this.connector = grow(this.connector, (n) => new Uint16Array(n));
    this.pending = grow(this.pending, (n) => new Int32Array(n));
  }

  *#tables(): Iterable<[string, StringTable]> {
    yield ['k', this.classes];
    yield ['o', this.owners];
    yield ['n', this.connectorNames];
  }

  #encodeDoc(slot: number): Buffer {
    const handle = this.pending[slot] as number;
    const traced = handle >= 0 && this.pendingPool.hasTrace(handle);
    const buf = Buffer.allocUnsafe(DOC_FIXED_BYTES + (traced ? TRACEPARENT_BYTES : 0));
    buf[0] = DOC_VERSION;
    buf[1] = this.flags[slot] as number;
    buf.writeDoubleLE(this.srcKey[slot] as number, 2);
    buf.writeDoubleLE(this.srcTime[slot] as number, 10);
    buf.writeDoubleLE(this.pendingKeyOf(slot), 18);
    buf.writeDoubleLE(this.pendingSinceOf(slot), 26);
    buf.writeDoubleLE(this.idxKey[slot] as number, 34);
    buf.writeDoubleLE(this.idxTime[slot] as number, 42);
    buf.writeDoubleLE(this.reviewedAt[slot] as number, 50);
    buf.writeUInt32LE((this.#profiles[this.profile[slot] as number] as Profile).classId, 58);
    buf.writeUInt32LE(this.owner[slot] as number, 62);
    buf.writeUInt32LE(this.connector[slot] as number, 66);
    buf[70] = traced ? TRACEPARENT_BYTES : 0;
    if (traced) this.pendingPool.copyPackedTrace(handle, buf, DOC_FIXED_BYTES);
    return buf;
  }

  #restoreDoc(key: string, value: Buffer | null): void {
    const slash = key.indexOf('/', KEY_DOC.length);
    if (slash < 0)
      throw new LedgerFormatError(
        `freshness changelog key without "/": ${JSON.stringify(key)}`,
        key,
      );
    const system = key.slice(KEY_DOC.length, slash);
    const docId = key.slice(slash + 1);
    if (value === null) {
      const slot = this.find(system, docId);
      if (slot >= 0) {
        this.#bySystem.get(system)?.delete(docId);
        this.#release(slot);
      }
      return;
    }
    if (value.length < DOC_FIXED_BYTES || value[0] !== DOC_VERSION) {
      throw new LedgerFormatError(
        `freshness changelog entry ${JSON.stringify(key)} has version ${value[0]}, expected ${DOC_VERSION}`,
        key,
      );
    }
    const slot = this.slotFor(system, detach(docId));
    this.srcKey[slot] = value.readDoubleLE(2);
    this.srcTime[slot] = value.readDoubleLE(10);
    this.idxKey[slot] = value.readDoubleLE(34);
    this.idxTime[slot] = value.readDoubleLE(42);
    this.reviewedAt[slot] = value.readDoubleLE(50);
    this.flags[slot] = value[1] as number;
    this.profile[slot] = this.profileFor(this.system(slot), value.readUInt32LE(58));
    this.owner[slot] = value.readUInt32LE(62);
    this.connector[slot] = value.readUInt32LE(66);
    this.clearPending(slot);
    const pendingKey = value.readDoubleLE(18);
    if (pendingKey >= 0) {
      this.setPending(slot, pendingKey, value.readDoubleLE(26), undefined);
      if (value[70] === TRACEPARENT_BYTES) {
        this.pendingPool.setPackedTrace(this.pending[slot] as number, value, DOC_FIXED_BYTES);
      }
    }
    const s = this.srcTime[slot] as number;
    const i = this.idxTime[slot] as number;
    if (s > this.highWatermark) this.highWatermark = s;
    if (i > this.highWatermark) this.highWatermark = i;
  }

  #restoreTable(key: string, value: Buffer | null): void {
    const [, code, idText] = key.split('|');
    const table =
      code === 'k'
        ? this.classes
        : code === 'o'
          ? this.owners
          : code === 'n'
            ? this.connectorNames
            : undefined;
    const id = Number(idText);
    if (!table || !Number.isInteger(id) || id <= 0) {
      throw new LedgerFormatError(
        `unknown freshness changelog table key ${JSON.stringify(key)}`,
        key,
      );
    }
    if (value !== null) table.restore(id, value.toString('utf8'));
  }

  #restoreConnector(key: string, value: Buffer | null): void {
    const name = key.slice(KEY_CONNECTOR.length);
    if (value === null) return;
    const saved = JSON.parse(value.toString('utf8')) as {
      system: string;
      firstSeen: number;
      lastSuccess: number | null;
      failures: ConnectorState['failures'];
      silentFiring: boolean;
      failingFiring: boolean;
    };
    const i = this.connectorFor(name, saved.system, saved.firstSeen);
    Object.assign(this.connectors[i] as ConnectorState, {
      system: saved.system,
      firstSeen: saved.firstSeen,
      lastSuccess: saved.lastSuccess ?? NaN,
      failures: saved.failures,
      silentFiring: saved.silentFiring,
      failingFiring: saved.failingFiring,
    });
    const latest = Math.max(saved.firstSeen, saved.lastSuccess ?? -Infinity);
    if (latest > this.highWatermark) this.highWatermark = latest;
  }
}
