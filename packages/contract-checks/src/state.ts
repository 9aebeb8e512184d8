import type { NullRatePartial } from './null-rate.js';
import {
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

/**
 * The contract checker's partition state: documents, pending references and null-rate windows kept apart,
 * so ticks walk only references and windows, never every document.
 */
export class ContractCheckerState implements PartitionState {
  readonly documents = new KeyValueState<DocumentEntry>();
  readonly references = new KeyValueState<ReferenceEntry>();
  /** `<system>/<class>/<field>|<windowStart>` → this partition's counts, until the window closes. */
  readonly windows = new KeyValueState<WindowCounts>();
  /** `<system>/<class>/<field>` → merged decision (only on the partition that owns that key). */
  readonly decisions = new KeyValueState<NullRateDecision>();
  /** Highest event time seen on this partition. */
  watermark = 0;
  #watermarkDirty = false;

  advanceWatermark(time: number): void {
    if (time > this.watermark) {
      this.watermark = time;
      this.#watermarkDirty = true;
    }
  }

  restore(key: string, value: Buffer | null): void {
    const [store, rest] = this.#route(key);
    if (store) store.restore(rest, value);
    else if (key === 'wm' && value) this.watermark = Number(value.toString());
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

  #stores(): Array<[string, KeyValueState<unknown>]> {
    return [
      ['d:', this.documents as KeyValueState<unknown>],
      ['r:', this.references as KeyValueState<unknown>],
      ['w:', this.windows as KeyValueState<unknown>],
      ['n:', this.decisions as KeyValueState<unknown>],
    ];
  }

  #route(key: string): [KeyValueState<unknown> | undefined, string] {
    const store = this.#stores().find(([prefix]) => key.startsWith(prefix));
    return store ? [store[1], key.slice(store[0].length)] : [undefined, key];
  }
}
