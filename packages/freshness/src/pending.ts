import { TRACEPARENT_BYTES, packTraceparent, unpackTraceparent } from './traces.js';

// What a document needs only while the index is behind it: the revision the sync-lag clock runs for, when
// that clock started, and the trace of that source change (the one a sync-lag finding links to). Kept in a
// pool addressed by a per-document handle, so caught-up documents (nearly all, in steady state) pay 4 bytes
// for the handle instead of 16 bytes of clock and 26 of trace.

/** Pending-sync facts of the documents the index is behind on, by small integer handle. */
export class PendingPool {
  #clock = new Float64Array(128); // [revisionKey, since] per handle
  #traces = new Uint8Array(64 * TRACEPARENT_BYTES);
  #hasTrace = new Uint8Array(64);
  #next = 0;
  readonly #free: number[] = [];
  #live = 0;

  /** Takes a handle for a new pending clock. */
  allocate(revisionKey: number, since: number): number {
    const handle = this.#free.pop() ?? this.#next++;
    if (2 * handle + 2 > this.#clock.length) this.#grow(handle + 1);
    this.#clock[2 * handle] = revisionKey;
    this.#clock[2 * handle + 1] = since;
    this.#hasTrace[handle] = 0;
    this.#live++;
    return handle;
  }

  release(handle: number): void {
    this.#free.push(handle);
    this.#live--;
  }

  revisionKey(handle: number): number {
    return this.#clock[2 * handle] as number;
  }

  since(handle: number): number {
    return this.#clock[2 * handle + 1] as number;
  }

  /** Replaces the clock of a handle (the index applied the revision it ran for, or an older one showed up). */
  set(handle: number, revisionKey: number, since: number): void {
    this.#clock[2 * handle] = revisionKey;
    this.#clock[2 * handle + 1] = since;
  }

  /** Stores the traceparent (dropping an invalid or missing one). */
  setTrace(handle: number, traceparent: string | undefined): void {
    this.#hasTrace[handle] =
      traceparent !== undefined &&
      packTraceparent(traceparent, this.#traces, handle * TRACEPARENT_BYTES)
        ? 1
        : 0;
  }

  /** Stores a packed traceparent read from the changelog. */
  setPackedTrace(handle: number, source: Uint8Array, offset: number): void {
    this.#traces.set(
      source.subarray(offset, offset + TRACEPARENT_BYTES),
      handle * TRACEPARENT_BYTES,
    );
    this.#hasTrace[handle] = 1;
  }

  trace(handle: number): string | undefined {
    return this.#hasTrace[handle]
      ? unpackTraceparent(this.#traces, handle * TRACEPARENT_BYTES)
      : undefined;
  }

  hasTrace(handle: number): boolean {
    return this.#hasTrace[handle] === 1;
  }

  /** Copies the packed trace of `handle` into `out` at `offset`. */
  copyPackedTrace(handle: number, out: Uint8Array, offset: number): void {
    const from = handle * TRACEPARENT_BYTES;
    out.set(this.#traces.subarray(from, from + TRACEPARENT_BYTES), offset);
  }

  /** Handles in use. */
  get size(): number {
    return this.#live;
  }

  get byteLength(): number {
    return this.#clock.byteLength + this.#traces.byteLength + this.#hasTrace.byteLength;
  }

  #grow(minimum: number): void {
    const capacity = Math.max(minimum, Math.ceil(this.#hasTrace.length * 1.5));
    const clock = new Float64Array(2 * capacity);
    clock.set(this.#clock);
    const traces = new Uint8Array(capacity * TRACEPARENT_BYTES);
    traces.set(this.#traces);
    const hasTrace = new Uint8Array(capacity);
    hasTrace.set(this.#hasTrace);
    this.#clock = clock;
    this.#traces = traces;
    this.#hasTrace = hasTrace;
  }
}
