// W3C trace context kept in binary: 26 bytes instead of a ~72-byte string (see PendingPool).

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
