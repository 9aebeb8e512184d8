import type { GlobalTable } from '@tidemark/core';
import { ParityState, type DocRecord } from './state.js';

/** Options of RecentChangesTable. */
export interface RecentChangesOptions {
  /** Changes older than this before the newest one seen are forgotten; keep it above the largest SLA plus the inventory tolerance. @default 6h */
  horizonMs?: number;
}

/**
 * Last change time of recently changed documents of every partition, read from the parity-verifier's own
 * changelog topic as a global table. The inventory of a system is keyed by `<system>` and so handled by one
 * partition, while its documents' ledgers are spread over all partitions; this table lets that partition
 * tell an in-flight document from a real orphan or missing one. Only changes within the horizon are kept.
 */
export class RecentChangesTable implements GlobalTable {
  readonly #horizonMs: number;
  readonly #changes = new Map<string, number>();
  #newest = 0;
  #appliedSincePrune = 0;

  constructor({ horizonMs = 6 * 3_600_000 }: RecentChangesOptions = {}) {
    this.#horizonMs = horizonMs;
  }

  apply(key: string, value: Buffer | null): void {
    if (!key.startsWith('d:')) return;
    if (value === null) {
      this.#changes.delete(key);
      return;
    }
    const rec = JSON.parse(value.toString('utf8')) as DocRecord;
    const at = Math.max(rec.sourceAt, rec.indexAt, rec.removedAt);
    if (at > this.#newest) this.#newest = at;
    if (at < this.#newest - this.#horizonMs) this.#changes.delete(key);
    else this.#changes.set(key, at);
    // Prune in batches so the table stays the size of the horizon's changes.
    if (++this.#appliedSincePrune >= Math.max(10_000, this.#changes.size)) this.#prune();
  }

  /** The latest change time known for a document, if it changed within the horizon. */
  lookup(system: string, docId: string): number | undefined {
    const at = this.#changes.get(ParityState.docKey(system, docId));
    return at !== undefined && at >= this.#newest - this.#horizonMs ? at : undefined;
  }

  /** Documents held. */
  get size(): number {
    return this.#changes.size;
  }

  #prune(): void {
    this.#appliedSincePrune = 0;
    const cutoff = this.#newest - this.#horizonMs;
    for (const [key, at] of this.#changes) if (at < cutoff) this.#changes.delete(key);
  }
}
