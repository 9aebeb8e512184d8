import type { NullRatePartial } from './null-rate-partial.js';
import type { ShadowDiffEntry } from './shadow.js';
import {
  DeadlineQueue,
  KeyValueState,
  type PartitionState,
  type Severity,
  type StateChange,
} from '@tidemark/core';

/** A firing finding on a document, kept so a later revision or a deletion can resolve it. */
export type OpenFinding = [check: string, key: string, severity: Severity, shadow: 0 | 1];

/** What the checker remembers about one document of its partition. */
export interface DocumentEntry {
  /** Highest revision seen; an older revision never overrides its result. */
  rev: number;
  deleted?: true;
  /** Content class and classification of that revision, for resolve findings. */
  cls?: string;
  classification?: string;
  owner?: string;
  open: OpenFinding[];
  /** The shadow candidate's firing findings on it (absent when none), resolved like `open`. */
  shadowOpen?: OpenFinding[];
  /** A deleted document is forgotten (state and registry tombstoned) at this epoch ms. */
  purgeAt?: number;
}

/** A reference (e.g. supersededBy) to check once its grace period has passed. */
export interface ReferenceEntry {
  target: string;
  field: string;
  dueAt: number;
  firing: boolean;
  severity: Severity;
  shadow: boolean;
  rev: number;
  /** A shadow candidate's check (key `<doc>|<field>|candidate`): reported with the candidate's fingerprint. */
  candidate?: true;
}

/** Per-partition counts of one null-rate window: [events, nulls]. */
export type WindowCounts = [n: number, nulls: number];

/** The decider's view of one (system, class, field) null rate, merged over partitions. */
export interface NullRateDecision {
  windows: Record<string, WindowCounts>;
  firing: boolean;
  /** Windows starting before this are decided; later partials for them are dropped. */
  decidedUpTo: number;
  /** The latest partial's settings (threshold, minCount, severity, contract). */
  limit: NullRatePartial;
}

/** How long after a window's end a partition still accepts late events into it. */
export const NULL_RATE_LATENESS_MS = 60_000;
/** How long after a window's end the decider waits for slower partitions. */
export const NULL_RATE_SETTLE_MS = 120_000;

/** When a partition's window `<path>|<start>|<windowMs>` closes. */
function windowCloses(key: string): number {
  const [, start, ms] = key.split('|');
  return Number(start) + Number(ms) + NULL_RATE_LATENESS_MS;
}

/** When a decision's earliest undecided window has settled, or undefined when it has none. */
function decisionDue(decision: NullRateDecision): number | undefined {
  let earliest = Infinity;
  for (const start of Object.keys(decision.windows)) earliest = Math.min(earliest, Number(start));
  return earliest === Infinity
    ? undefined
    : earliest + decision.limit.windowMs + NULL_RATE_SETTLE_MS;
}

/**
 * The contract checker's partition state: documents, pending references and null-rate windows kept apart, with a
 * deadline queue over each kind of pending work, so ticks take what is due and never walk documents, references
 * or windows that are not. The queues are indexes, not state: rebuilt from the stores after a restore.
 */
export class ContractCheckerState implements PartitionState {
  readonly documents = new KeyValueState<DocumentEntry>();
  /** `<system>/<docId>|<field>[|candidate]` → reference; change through setReference/deleteReference (they keep the queues). */
  readonly references = new KeyValueState<ReferenceEntry>();
  /** `<system>/<class>/<field>|<windowStart>|<windowMs>` → this partition's counts, until the window closes. */
  readonly windows = new KeyValueState<WindowCounts>();
  /** `<system>/<class>/<field>` → merged decision (only on the partition that owns that key). */
  readonly decisions = new KeyValueState<NullRateDecision>();
  /** `<system>` → this partition's tally of the shadow candidate against the enforced contract (shadow.ts). */
  readonly shadowDiffs = new KeyValueState<ShadowDiffEntry>();
  /** Highest event time seen on this partition (clamped to the host clock plus the allowed future skew). */
  watermark = 0;
  /** Position in the document registry's change journal up to which past-due references were re-checked. */
  registryCursor = 0;
  #watermarkDirty = false;
  #indexed = true;
  // References not checked yet, by due time; once due they move to #watching until they change or go.
  readonly #referencesDue = new DeadlineQueue<string>();
  // Past-due references by target: a registry change of the target re-checks them.
  readonly #watching = new Map<string, Set<string>>();
  readonly #watchedTarget = new Map<string, string>();
  readonly #windowsDue = new DeadlineQueue<string>();
  readonly #decisionsDue = new DeadlineQueue<string>();
  readonly #purgesDue = new DeadlineQueue<string>();

  advanceWatermark(time: number): void {
    if (time > this.watermark) {
      this.watermark = time;
      this.#watermarkDirty = true;
    }
  }

  // ---- documents ---------------------------------------------------------------------------------

  /** Stores a document entry, scheduling its purge when it is a deleted one with a purge time. */
  setDocument(key: string, entry: DocumentEntry): void {
    this.#ensureIndexed();
    this.documents.set(key, entry);
    if (entry.deleted && entry.purgeAt !== undefined) this.#purgesDue.set(key, entry.purgeAt);
    else this.#purgesDue.delete(key);
  }

  /** Deleted documents whose retention ended by `now`, earliest first; their entries are removed. */
  purgeDue(now: number): string[] {
    this.#ensureIndexed();
    const purged: string[] = [];
    for (const { key } of this.#purgesDue.popDue(now)) {
      const doc = this.documents.get(key);
      if (!doc?.deleted) continue;
      this.documents.delete(key);
      purged.push(key);
    }
    return purged;
  }

  // ---- references --------------------------------------------------------------------------------

  setReference(refKey: string, entry: ReferenceEntry): void {
    this.#ensureIndexed();
    const prior = this.references.get(refKey);
    this.references.set(refKey, entry);
    if (prior && prior.dueAt === entry.dueAt && prior.target === entry.target) return; // a re-check's firing flag
    this.#unwatch(refKey);
    this.#referencesDue.set(refKey, entry.dueAt);
  }

  deleteReference(refKey: string): void {
    this.#ensureIndexed();
    if (!this.references.delete(refKey)) return;
    this.#unwatch(refKey);
    this.#referencesDue.delete(refKey);
  }

  /**
   * References to check at `now`: those that became due (earliest first), then past-due ones whose target is among
   * `changedTargets` (every past-due one when undefined: the registry's journal no longer reaches back far enough).
   */
  referencesToCheck(now: number, changedTargets: Iterable<string> | undefined): string[] {
    this.#ensureIndexed();
    const keys = new Set<string>();
    if (this.#watching.size > 0) {
      if (changedTargets === undefined) for (const k of this.#watchedTarget.keys()) keys.add(k);
      else {
        for (const target of changedTargets)
          for (const k of this.#watching.get(target) ?? []) keys.add(k);
      }
    }
    const due = new Set<string>();
    for (const { key } of this.#referencesDue.popDue(now)) {
      const ref = this.references.get(key);
      if (!ref) continue;
      this.#watch(key, ref.target);
      due.add(key);
    }
    for (const k of keys) due.add(k); // a Set keeps the first position: newly due ones first
    return [...due];
  }

  /** Whether some past-due reference would be re-checked if a registry target changed. */
  get watchingReferences(): boolean {
    this.#ensureIndexed();
    return this.#watching.size > 0;
  }

  #watch(refKey: string, target: string): void {
    const set = this.#watching.get(target) ?? new Set<string>();
    set.add(refKey);
    this.#watching.set(target, set);
    this.#watchedTarget.set(refKey, target);
  }

  #unwatch(refKey: string): void {
    const target = this.#watchedTarget.get(refKey);
    if (target === undefined) return;
    this.#watchedTarget.delete(refKey);
    const set = this.#watching.get(target)!;
    set.delete(refKey);
    if (set.size === 0) this.#watching.delete(target);
  }

  // ---- null-rate windows and decisions -----------------------------------------------------------

  /** Counts into a window of this partition (creating it), keeping its close deadline. */
  setWindow(key: string, counts: WindowCounts): void {
    this.#ensureIndexed();
    if (!this.windows.has(key)) this.#windowsDue.set(key, windowCloses(key));
    this.windows.set(key, counts);
  }

  /** Windows closed by `now`, earliest first; removed from the state. */
  closeWindowsDue(now: number): Array<[key: string, counts: WindowCounts]> {
    this.#ensureIndexed();
    const closed: Array<[string, WindowCounts]> = [];
    for (const { key } of this.#windowsDue.popDue(now)) {
      const counts = this.windows.get(key);
      if (!counts) continue;
      this.windows.delete(key);
      closed.push([key, counts]);
    }
    return closed;
  }

  /** Stores a decision, keeping the deadline of its earliest undecided window. */
  setDecision(key: string, decision: NullRateDecision): void {
    this.#ensureIndexed();
    this.decisions.set(key, decision);
    const due = decisionDue(decision);
    if (due === undefined) this.#decisionsDue.delete(key);
    else this.#decisionsDue.set(key, due);
  }

  /** Decision keys with a window settled by `now`, earliest first. */
  decisionsDue(now: number): string[] {
    this.#ensureIndexed();
    return this.#decisionsDue.popDue(now).map((e) => e.key);
  }

  /**
   * The earliest event time at which a tick has work: a reference, window, decision or purge due; `-Infinity`
   * when registry changes wait to be checked against past-due references (`registryPending`).
   */
  nextDue(registryPending: boolean): number {
    this.#ensureIndexed();
    if (registryPending && this.#watching.size > 0) return -Infinity;
    // One tally per system with a candidate: few enough to scan rather than index.
    let shadowDue = Infinity;
    for (const [, tally] of this.shadowDiffs.entries())
      if (tally.revisions > 0) shadowDue = Math.min(shadowDue, tally.end);
    return Math.min(
      this.#referencesDue.peekDue(),
      this.#windowsDue.peekDue(),
      this.#decisionsDue.peekDue(),
      this.#purgesDue.peekDue(),
      shadowDue,
    );
  }

  // ---- changelog ---------------------------------------------------------------------------------

  restore(key: string, value: Buffer | null): void {
    const [store, rest] = this.#route(key);
    if (store) {
      store.restore(rest, value);
      this.#indexed = false;
    } else if (key === 'wm' && value) this.watermark = Number(value.toString());
  }

  drainChanges(): StateChange[] {
    const changes: StateChange[] = [];
    for (const [prefix, store] of this.#stores()) {
      for (const c of store.drainChanges())
        changes.push({ key: `${prefix}${c.key}`, value: c.value });
    }
    if (this.#watermarkDirty) {
      changes.push({ key: 'wm', value: Buffer.from(String(this.watermark)) });
      this.#watermarkDirty = false;
    }
    return changes;
  }

  size(): number {
    return this.#stores().reduce((n, [, s]) => n + s.size(), 0);
  }

  /** Rebuilds the deadline queues from the stores after a restore; a no-op otherwise. */
  #ensureIndexed(): void {
    if (this.#indexed) return;
    this.#indexed = true;
    for (const q of [this.#referencesDue, this.#windowsDue, this.#decisionsDue, this.#purgesDue])
      q.clear();
    this.#watching.clear();
    this.#watchedTarget.clear();
    // Every reference is checked once more when due (or at the first tick): its firing flag keeps that silent.
    for (const [key, ref] of this.references.entries()) this.#referencesDue.set(key, ref.dueAt);
    for (const key of this.windows.keys()) this.#windowsDue.set(key, windowCloses(key));
    for (const [key, decision] of this.decisions.entries()) {
      const due = decisionDue(decision);
      if (due !== undefined) this.#decisionsDue.set(key, due);
    }
    for (const [key, doc] of this.documents.entries()) {
      if (doc.deleted && doc.purgeAt !== undefined) this.#purgesDue.set(key, doc.purgeAt);
    }
  }

  #stores(): Array<[string, KeyValueState<unknown>]> {
    return [
      ['d:', this.documents as KeyValueState<unknown>],
      ['r:', this.references as KeyValueState<unknown>],
      ['w:', this.windows as KeyValueState<unknown>],
      ['n:', this.decisions as KeyValueState<unknown>],
      ['s:', this.shadowDiffs as KeyValueState<unknown>],
    ];
  }

  #route(key: string): [KeyValueState<unknown> | undefined, string] {
    const store = this.#stores().find(([prefix]) => key.startsWith(prefix));
    return store ? [store[1], key.slice(store[0].length)] : [undefined, key];
  }
}
