import { DocumentRegistry } from './registry.js';

/** Registry changes kept for partitions that have not looked yet; beyond this they re-check every past-due reference. */
export const REGISTRY_JOURNAL_LIMIT = 65_536;

/** What changed in the registry since a cursor. */
export interface RegistryChanges {
  /** Keys whose status changed, oldest first (a key may repeat); undefined when the journal no longer reaches back. */
  keys: string[] | undefined;
  /** The cursor to pass next time. */
  cursor: number;
}

/**
 * The document registry with a journal of the keys whose status changed, so each partition re-checks only the
 * past-due references whose target changed since its last tick (a pull: partitions come and go with rebalances,
 * and the registry never needs to know them). The journal keeps the last `limit` changes; a partition further
 * behind is told to re-check all of its past-due references, which is correct, only slower.
 */
export class JournaledRegistry extends DocumentRegistry {
  readonly #limit: number;
  #journal: string[] = [];
  /** Cursor of the journal's first entry. */
  #base = 0;

  constructor(limit = REGISTRY_JOURNAL_LIMIT) {
    super();
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `registry journal limit must be a positive integer, got ${String(limit)}`,
      );
    }
    this.#limit = limit;
  }

  override apply(key: string, value: Buffer | null): void {
    const before = this.status(key);
    super.apply(key, value);
    if (this.status(key) === before) return;
    this.#journal.push(key);
    if (this.#journal.length > this.#limit) {
      const drop = this.#journal.length - Math.floor(this.#limit / 2);
      this.#journal = this.#journal.slice(drop);
      this.#base += drop;
    }
  }

  /** The cursor after the latest change. */
  get cursor(): number {
    return this.#base + this.#journal.length;
  }

  /** Keys changed since `cursor` (0 for a partition that never looked). */
  changesSince(cursor: number): RegistryChanges {
    const end = this.cursor;
    if (cursor >= end) return { keys: [], cursor: end };
    if (cursor < this.#base) return { keys: undefined, cursor: end };
    return { keys: this.#journal.slice(cursor - this.#base), cursor: end };
  }
}
