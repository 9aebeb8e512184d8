// W3C trace context kept in binary (26 bytes instead of a ~72-byte string), and only for documents with a
// source change the index has not applied yet: that is the one trace a later sync-lag finding links to.

/** Bytes of one packed traceparent: version, trace-id, parent-id, flags. */
export const TRACEPARENT_BYTES = 26;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function hexValue(code: number): number {
  return code <= 57 ? code - 48 : code - 87; // '0'-'9', 'a'-'f' (validated by the pattern first)
}

/** Packs a W3C `traceparent` into `out` at `offset`; returns false (writing nothing) when it is not valid. */
export function packTraceparent(value: string, out: Uint8Array, offset: number): boolean {
  if (value.length !== 55 || !TRACEPARENT.test(value)) return false;
  let o = offset;
  for (let i = 0; i < 55; i += 2) {
    if (value.charCodeAt(i) === 45) i++; // '-' between fields
    out[o++] = (hexValue(value.charCodeAt(i)) << 4) | hexValue(value.charCodeAt(i + 1));
  }
  return true;
}

/** Turns packed bytes back into the `traceparent` text. */
export function unpackTraceparent(bytes: Uint8Array, offset: number): string {
  const hex = (from: number, to: number) => {
    let s = '';
    for (let i = offset + from; i < offset + to; i++)
      s += (bytes[i] as number).toString(16).padStart(2, '0');
    return s;
  };
  return `${hex(0, 1)}-${hex(1, 17)}-${hex(17, 25)}-${hex(25, 26)}`;
}

/** A growable pool of packed traceparents addressed by small integer handles, with reuse of freed handles. */
export class TracePool {
  #bytes = new Uint8Array(64 * TRACEPARENT_BYTES);
  #next = 0;
  readonly #free: number[] = [];

  /** Stores a traceparent; returns its handle, or -1 if the text is not a valid traceparent. */
  add(value: string): number {
    const handle = this.#free.pop() ?? this.#next++;
    const offset = handle * TRACEPARENT_BYTES;
    if (offset + TRACEPARENT_BYTES > this.#bytes.length) {
      const bigger = new Uint8Array(Math.ceil(this.#bytes.length * 1.5) + TRACEPARENT_BYTES);
      bigger.set(this.#bytes);
      this.#bytes = bigger;
    }
    if (packTraceparent(value, this.#bytes, offset)) return handle;
    this.#free.push(handle);
    return -1;
  }

  /** Stores already-packed bytes (from the changelog); returns the handle. */
  addPacked(source: Uint8Array, offset: number): number {
    const handle = this.add('00-00000000000000000000000000000000-0000000000000000-00');
    this.#bytes.set(
      source.subarray(offset, offset + TRACEPARENT_BYTES),
      handle * TRACEPARENT_BYTES,
    );
    return handle;
  }

  get(handle: number): string | undefined {
    return handle < 0 ? undefined : unpackTraceparent(this.#bytes, handle * TRACEPARENT_BYTES);
  }

  /** Copies the packed bytes of `handle` into `out` at `offset`. */
  copyPacked(handle: number, out: Uint8Array, offset: number): void {
    const from = handle * TRACEPARENT_BYTES;
    out.set(this.#bytes.subarray(from, from + TRACEPARENT_BYTES), offset);
  }

  release(handle: number): void {
    if (handle >= 0) this.#free.push(handle);
  }

  /** Bytes held by the pool. */
  get byteLength(): number {
    return this.#bytes.byteLength;
  }
}
