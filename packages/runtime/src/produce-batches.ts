import type { OutgoingMessage } from './records.js';

/** One message on its way to a topic. */
export interface Addressed {
  topic: string;
  message: OutgoingMessage;
}

// Per-record framing in a v2 batch (length, attributes, deltas, key/value lengths, header counts) is at most
// ~25 bytes; 64 leaves room, and a batch header is 61 bytes per topic-partition.
const RECORD_OVERHEAD_BYTES = 64;
const BATCH_OVERHEAD_BYTES = 256;

function bytes(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** Upper estimate of a message's size on the wire, uncompressed. */
export function messageBytes(message: OutgoingMessage): number {
  let n = RECORD_OVERHEAD_BYTES + bytes(message.key) + bytes(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    n += 8 + Buffer.byteLength(name);
    for (const v of Array.isArray(value) ? value : [value]) n += bytes(v as string | Buffer);
  }
  return n;
}

/**
 * Splits messages, in order, into batches whose estimated size stays under `maxBytes` (the broker refuses a
 * larger produce with MESSAGE_TOO_LARGE, and a retry would refuse it again). A message that alone exceeds the
 * limit can never be produced; it is returned in `tooLarge` instead.
 */
export function planBatches(
  messages: readonly Addressed[],
  maxBytes: number,
): { batches: Addressed[][]; tooLarge: Addressed[] } {
  const batches: Addressed[][] = [];
  const tooLarge: Addressed[] = [];
  let current: Addressed[] = [];
  let size = BATCH_OVERHEAD_BYTES;
  for (const m of messages) {
    const n = messageBytes(m.message);
    if (n + BATCH_OVERHEAD_BYTES > maxBytes) {
      tooLarge.push(m);
      continue;
    }
    if (size + n > maxBytes && current.length > 0) {
      batches.push(current);
      current = [];
      size = BATCH_OVERHEAD_BYTES;
    }
    current.push(m);
    size += n;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}
