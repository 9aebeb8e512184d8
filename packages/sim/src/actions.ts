// What a resolved fault plan holds: the timed actions the generator carries out, per document, connector and system.
import type { TruthEntry } from './types.js';

/** Field changes a faulty revision carries: values to set (null included) and fields to remove. */
export interface Overrides {
  set: ReadonlyArray<readonly [string, unknown]>;
  remove: readonly string[];
}

/** A timed action on one document. */
export interface DocAction {
  fault: number;
  kind:
    | 'overrides'
    | 'stuck'
    | 'acl'
    | 'delete-missed'
    | 'resurrect'
    | 'missing'
    | 'clean-delete'
    | 'mass-remove';
  s: number;
  i: number;
  t: number;
  overrides?: Overrides;
  /** `reviewedAt` (epoch ms) of an overdue revision. */
  reviewedAt?: number;
  /** Delay from the index removal to the stale re-upsert (resurrect). */
  afterMs?: number;
  /** When the connector re-indexes a mass-removed document (mass-remove); absent: never within the run. */
  restoreAt?: number;
}

/** A record that is broken on purpose. */
export interface PoisonAction {
  fault: number;
  s: number;
  i: number;
  t: number;
  form: 'invalid-json' | 'not-cloudevent' | 'unknown-type' | 'schema' | 'framed';
  topic: 'content' | 'sync' | 'inventory';
  schemaId: number;
}

/** A connector outage: runs skipped or failed, and the index applying nothing until it recovers. */
export interface Outage {
  fault: number;
  /** Index of the connector that is down. */
  c: number;
  from: number;
  /** Start of the run that recovers and catches up; Infinity when the outage lasts to the end. */
  until: number;
  skipSlots: ReadonlySet<number>;
  failSlots: ReadonlySet<number>;
  error: string;
}

/** A fault that changes a share of a system's events for a while (drift, null rate, volume). */
export interface PopulationWindow {
  fault: number;
  kind: 'null-rate' | 'numeric' | 'categorical' | 'volume';
  from: number;
  to: number;
  field: string;
  value: unknown;
  share: number;
  factor: number;
  contentClass: string | undefined;
  /** null-rate: write null, or remove the field (for fields the event schema does not let be null). */
  as: 'null' | 'missing';
}

/** A document the index holds although the source never had it (`parity.orphan`). */
export interface Ghost {
  i: number;
  docId: string;
  from: number;
}

/** An inventory snapshot whose last chunk never arrives (`parity.snapshot-incomplete`). */
export interface IncompleteSnapshot {
  fault: number;
  /** Time of the inventory (one of `inventoryTimes`). */
  at: number;
  side: 'source' | 'index';
}

/** Per-system actions of a resolved plan. */
export interface SystemPlan {
  /** Documents any fault acts on: never deleted by the random process. */
  victims: Set<number>;
  outages: Outage[];
  windows: PopulationWindow[];
  ghosts: Ghost[];
  incomplete: IncompleteSnapshot[];
}

/** A fault plan resolved against a world. */
export interface ResolvedPlan {
  docActions: DocAction[];
  poison: PoisonAction[];
  systems: SystemPlan[];
  truth: TruthEntry[];
  warnings: string[];
}
