// A binary min-heap of (deadline, ref) pairs in two typed arrays. Written by hand because the heap must hold
// millions of entries at 12 bytes each; general-purpose JS heaps keep one object per entry (~50 bytes) and
// offer no in-place filtering, which lazy deletion of superseded deadlines needs.

/** Min-heap of deadlines (epoch ms) with an integer reference each; ties break on the reference. */
export class DeadlineHeap {
  #times: Float64Array;
  #refs: Int32Array;
  #size = 0;

  constructor(initialCapacity = 1024) {
    this.#times = new Float64Array(initialCapacity);
    this.#refs = new Int32Array(initialCapacity);
  }

  /** Entries held, superseded ones included. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held by the backing arrays. */
  get byteLength(): number {
    return this.#times.byteLength + this.#refs.byteLength;
  }

  /** Earliest deadline, or Infinity when empty. */
  peekTime(): number {
    return this.#size === 0 ? Infinity : (this.#times[0] as number);
  }

  /** Reference of the earliest entry; only meaningful when size > 0. */
  peekRef(): number {
    return this.#refs[0] as number;
  }

  push(time: number, ref: number): void {
    if (this.#size === this.#times.length) this.#grow();
    let i = this.#size++;
    // Sift up with a hole instead of swaps.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.#times[parent] as number;
      const pr = this.#refs[parent] as number;
      if (pt < time || (pt === time && pr <= ref)) break;
      this.#times[i] = pt;
      this.#refs[i] = pr;
      i = parent;
    }
    this.#times[i] = time;
    this.#refs[i] = ref;
  }

  /** Removes the earliest entry (call peekTime/peekRef first to read it). */
  pop(): void {
    if (this.#size === 0) return;
    const last = --this.#size;
    if (last > 0) this.#siftDown(0, this.#times[last] as number, this.#refs[last] as number);
  }

  /** Keeps only the entries `keep` accepts, then restores heap order in O(n). */
  filter(keep: (time: number, ref: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.#size; i++) {
      const t = this.#times[i] as number;
      const r = this.#refs[i] as number;
      if (keep(t, r)) {
        this.#times[n] = t;
        this.#refs[n] = r;
        n++;
      }
    }
    this.#size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) {
      this.#siftDown(i, this.#times[i] as number, this.#refs[i] as number);
    }
    // Give memory back after a large shrink (e.g. a mass purge), keeping room to grow.
    if (this.#times.length > 4096 && n < this.#times.length >> 2) this.#resize(n * 2);
  }

  clear(): void {
    this.#size = 0;
  }

  /** Adds an entry without ordering it; call heapify() before the next peek or pop. */
  append(time: number, ref: number): void {
    if (this.#size === this.#times.length) this.#grow();
    this.#times[this.#size] = time;
    this.#refs[this.#size] = ref;
    this.#size++;
  }

  /** Restores heap order in O(n) after append(). */
  heapify(): void {
    this.filter(() => true);
  }

  #siftDown(start: number, time: number, ref: number): void {
    const size = this.#size;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      let ct = this.#times[child] as number;
      let cr = this.#refs[child] as number;
      const right = child + 1;
      if (right < size) {
        const rt = this.#times[right] as number;
        const rr = this.#refs[right] as number;
        if (rt < ct || (rt === ct && rr < cr)) {
          child = right;
          ct = rt;
          cr = rr;
        }
      }
      if (time < ct || (time === ct && ref <= cr)) break;
      this.#times[i] = ct;
      this.#refs[i] = cr;
      i = child;
    }
    this.#times[i] = time;
    this.#refs[i] = ref;
  }

  #grow(): void {
    this.#resize(Math.max(1024, Math.ceil(this.#times.length * 1.5)));
  }

  #resize(capacity: number): void {
    const times = new Float64Array(capacity);
    const refs = new Int32Array(capacity);
    times.set(this.#times.subarray(0, this.#size));
    refs.set(this.#refs.subarray(0, this.#size));
    this.#times = times;
    this.#refs = refs;
  }
}
