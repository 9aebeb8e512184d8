// Replay from the topics themselves: what `tidemark replay --from-kafka --since … --until …` reads. The broker
// side (offsets by timestamp, a consumer that commits nothing) is in the CLI, the only place besides the runtime
// that talks to Kafka; this file holds what does not need a broker: the range bounds and the merge into the
// record-envelope lines every replay input already accepts.
import { parseTime } from '@tidemark/core';
import type { InputRecord } from '@tidemark/core';

/** One end of a replay range: a time (every partition's first record at or after it) or an offset. */
export type RangeBound = { kind: 'time'; ms: number } | { kind: 'offset'; offset: bigint };

/** A bound that cannot be read (an option value a user typed). */
export class RangeBoundError extends Error {
  override name = 'RangeBoundError';
}

/**
 * Reads `--since` / `--until`: an RFC 3339 time (`2025-03-03T10:00:00Z`), or a whole number, which is an
 * offset (the same in every partition of every topic).
 */
export function parseRangeBound(text: string, flag: string): RangeBound {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { kind: 'offset', offset: BigInt(t) };
  try {
    return { kind: 'time', ms: parseTime(t) };
  } catch {
    throw new RangeBoundError(
      `${flag} ${JSON.stringify(text)}: not an RFC 3339 time (e.g. 2025-03-03T10:00:00Z) nor an offset (a whole number)`,
    );
  }
}

/** A consumed record of a replay range: the record a host hands a handler. */
export type RangeRecord = InputRecord;

/**
 * The records of a range as replay input lines (record envelopes with the record's timestamp and base64
 * values, so any bytes survive), in timestamp order; ties keep the order of `topics`, then partition, then
 * offset, so the result does not depend on the order the broker delivered them in.
 */
export function rangeLines(records: readonly RangeRecord[], topics: readonly string[]): string[] {
  const rank = new Map(topics.map((t, i) => [t, i]));
  const sorted = [...records].sort(
    (a, b) =>
      Number(a.timestamp) - Number(b.timestamp) ||
      (rank.get(a.topic) ?? 0) - (rank.get(b.topic) ?? 0) ||
      a.partition - b.partition ||
      Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  return sorted.map((r) =>
    JSON.stringify({
      topic: r.topic,
      key: r.key,
      headers: Object.fromEntries(
        Object.entries(r.headers).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      timestamp: new Date(Number(r.timestamp)).toISOString(),
      value: r.value === null ? null : r.value.toString('base64'),
      ...(r.value === null ? {} : { encoding: 'base64' }),
    }),
  );
}
