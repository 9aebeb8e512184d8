// An indexed binary min-heap of deadlines: each key is held once, with the epoch-ms time it is due at.
// Written by hand because the checks need what general-purpose JS heaps lack together: update and removal by key in
// O(log n) (a rescheduled deadline replaces its entry instead of leaving a stale one behind), a deterministic order
// among equal times (replay must give the same outputs as live), and nothing but pure code (no clock).

/** One scheduled deadline. */
export interface DeadlineEntry<K> {
  key: K;
  /** Epoch ms the deadline is due at. */
  due: number;
}

/**
 * Deadlines keyed by `K`, earliest first; equal times come out in the order they were scheduled (a reschedule
 * counts as scheduling anew). Peeking is O(1), scheduling, rescheduling, removal and popping O(log n), so a tick
 * that pops what is due costs in proportion to what is due, never to what is held.
 */
export class DeadlineQueue<K> {
  #keys: K[] = [];
  #dues: number[] = [];
  #seqs: number[] = [];
  readonly #index = new Map<K, number>();
  #seq = 0;

  /** Deadlines held. */
  get size(): number {
    return this.#keys.length;
  }

  /** Whether `key` has a deadline. */
  has(key: K): boolean {
    return this.#index.has(key);
  }

  /** The time `key` is due at, or undefined when it has none. */
  dueOf(key: K): number | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#dues[i];
  }

  /**
   * Schedules `key` at `due`, replacing its previous deadline. Rescheduling at the same time keeps its place among
   * equal times. Throws RangeError for a time that is not a number (NaN would break the heap order).
   */
  set(key: K, due: number): void {
    if (typeof due !== 'number' || Number.isNaN(due)) {
      throw new RangeError(`deadline of ${String(key)} must be a number, got ${String(due)}`);
    }
    const i = this.#index.get(key);
    if (i === undefined) {
      const at = this.#keys.length;
      this.#keys.push(key);
      this.#dues.push(due);
      this.#seqs.push(this.#seq++);
      this.#index.set(key, at);
      this.#up(at);
      return;
    }
    if (this.#dues[i] === due) return;
    this.#dues[i] = due;
    this.#seqs[i] = this.#seq++;
    this.#down(this.#up(i));
  }

  /** Removes `key`'s deadline; false when it had none. */
  delete(key: K): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#removeAt(i);
    return true;
  }

  /** The earliest deadline's time, or Infinity when none is held. */
  peekDue(): number {
    return this.#dues.length === 0 ? Infinity : (this.#dues[0] as number);
  }

  /** The earliest deadline without removing it. */
  peek(): DeadlineEntry<K> | undefined {
    return this.#keys.length === 0
      ? undefined
      : { key: this.#keys[0] as K, due: this.#dues[0] as number };
  }

  /** Removes and returns the earliest deadline. */
  pop(): DeadlineEntry<K> | undefined {
    const top = this.peek();
    if (top) this.#removeAt(0);
    return top;
  }

  /**
   * Removes and returns, earliest first, every deadline due at or before `now`; at most `limit` of them (the rest
   * stay due for the next call).
   */
  popDue(now: number, limit = Infinity): Array<DeadlineEntry<K>> {
    const out: Array<DeadlineEntry<K>> = [];
    while (out.length < limit && this.#dues.length > 0 && (this.#dues[0] as number) <= now) {
      out.push(this.pop()!);
    }
    return out;
  }

  /** Every deadline, in no particular order. */
  *entries(): IterableIterator<DeadlineEntry<K>> {
    for (let i = 0; i < this.#keys.length; i++) {
      yield { key: this.#keys[i] as K, due: this.#dues[i] as number };
    }
  }

  /** Removes every deadline. */
  clear(): void {
    this.#keys = [];
    this.#dues = [];
    this.#seqs = [];
    this.#index.clear();
  }

  #removeAt(i: number): void {
    const last = this.#keys.length - 1;
    this.#index.delete(this.#keys[i] as K);
    if (i !== last) {
      this.#place(i, this.#keys[last] as K, this.#dues[last] as number, this.#seqs[last] as number);
    }
    this.#keys.pop();
    this.#dues.pop();
    this.#seqs.pop();
    if (i !== last) this.#down(this.#up(i));
  }

  #before(a: number, b: number): boolean {
    const da = this.#dues[a] as number;
    const db = this.#dues[b] as number;
    return da < db || (da === db && (this.#seqs[a] as number) < (this.#seqs[b] as number));
  }

  #place(i: number, key: K, due: number, seq: number): void {
    this.#keys[i] = key;
    this.#dues[i] = due;
    this.#seqs[i] = seq;
    this.#index.set(key, i);
  }

  #swap(a: number, b: number): void {
    const key = this.#keys[a] as K;
    const due = this.#dues[a] as number;
    const seq = this.#seqs[a] as number;
    this.#place(a, this.#keys[b] as K, this.#dues[b] as number, this.#seqs[b] as number);
    this.#place(b, key, due, seq);
  }

  /** Sifts entry `i` up; returns where it ended. */
  #up(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
    return i;
  }

  #down(i: number): void {
    const n = this.#keys.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.#before(right, left) ? right : left;
      if (!this.#before(child, i)) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
