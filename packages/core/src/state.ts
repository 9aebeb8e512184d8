/** One changelog entry: a key and its new value, or null for a deletion (tombstone). */
export interface StateChange {
  key: string;
  value: Buffer | null;
}

/**
 * State one partition keeps. The host restores it from a compacted changelog topic before the partition's
 * first record, and writes `drainChanges()` to that topic before committing offsets. Implementations
 * choose their own in-memory layout (a Map, typed arrays, a heap) — only the changelog form is shared.
 */
export interface PartitionState {
  /**
   * Applies one changelog entry during restore (value null = deleted). `format` is the state format the entry
   * was written in (ServiceTopology.stateFormat; 1 for entries from before formats were stamped), never newer
   * than the service's own: a service that raised its format converts older entries here.
   */
  restore(key: string, value: Buffer | null, format?: number): void;
  /** Changes since the previous call, last write per key wins. */
  drainChanges(): StateChange[];
  /** Number of entries held, for the state-size metric. */
  size(): number;
}

/** A PartitionState of JSON values in a Map, with dirty-key tracking. */
export class KeyValueState<T> implements PartitionState {
  readonly #entries = new Map<string, T>();
  readonly #dirty = new Set<string>();

  get(key: string): T | undefined {
    return this.#entries.get(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Stores a value; it must survive a JSON round trip, since that is how it is restored. */
  set(key: string, value: T): void {
    this.#entries.set(key, value);
    this.#dirty.add(key);
  }

  delete(key: string): boolean {
    const had = this.#entries.delete(key);
    if (had) this.#dirty.add(key);
    return had;
  }

  entries(): IterableIterator<[string, T]> {
    return this.#entries.entries();
  }

  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  size(): number {
    return this.#entries.size;
  }

  restore(key: string, value: Buffer | null): void {
    if (value === null) this.#entries.delete(key);
    else this.#entries.set(key, JSON.parse(value.toString('utf8')) as T);
  }

  drainChanges(): StateChange[] {
    const changes: StateChange[] = [];
    for (const key of this.#dirty) {
      const value = this.#entries.get(key);
      changes.push({
        key,
        value: value === undefined ? null : Buffer.from(JSON.stringify(value)),
      });
    }
    this.#dirty.clear();
    return changes;
  }
}
