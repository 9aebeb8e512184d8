// `tidemark replay --from-kafka`: reads the input topics' records between two bounds, without a consumer
// group commit, into replay input lines (the merge and the bounds are @tidemark/replay's kafka-input.ts).
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { rangeLines } from '@tidemark/replay';
import type { RangeBound, RangeRecord } from '@tidemark/replay';
import { kafkaAccessError, type KafkaConnection } from '@tidemark/runtime';
import { connectAdmin } from './kafka-admin.js';
import { awaitGroupCoordinator, cliKafka } from './kafka-connection.js';

/** Options of readKafkaRange. */
export interface KafkaRangeOptions {
  /** The cluster and how to reach it (TLS, SASL), as every CLI command takes it. */
  connection: KafkaConnection;
  /** Topics to read (the replay's input topics). */
  topics: readonly string[];
  /** First record: a time (offsets by timestamp) or an offset. @default each partition's earliest */
  since?: RangeBound;
  /** End, exclusive: a time or an offset. @default each partition's end when the read starts */
  until?: RangeBound;
  /** Give up when the range is not read by then, ms. @default 120000 */
  timeoutMs?: number;
}

/** Where one partition's read starts and ends (end exclusive). */
interface PartitionRange {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

async function boundOffsets(
  admin: Admin,
  topic: string,
  bound: RangeBound | undefined,
  fallback: 'low' | 'high',
): Promise<Map<number, bigint>> {
  const watermarks = await admin.fetchTopicOffsets(topic);
  const out = new Map<number, bigint>();
  const byTime =
    bound?.kind === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, bound.ms) : [];
  for (const w of watermarks) {
    const low = BigInt(w.low);
    const high = BigInt(w.high);
    let at: bigint;
    if (bound === undefined) at = fallback === 'low' ? low : high;
    else if (bound.kind === 'offset') at = bound.offset;
    else {
      // The first offset with a timestamp at or after the time; -1 (none) means the end.
      const o = BigInt(byTime.find((p) => p.partition === w.partition)?.offset ?? '-1');
      at = o < 0n ? high : o;
    }
    out.set(w.partition, at < low ? low : at > high ? high : at);
  }
  return out;
}

/**
 * Reads every record of `topics` from `since` up to (not including) `until`, with a consumer of a throwaway
 * group that never commits, and returns them as replay input lines in timestamp order.
 */
export async function readKafkaRange(options: KafkaRangeOptions): Promise<string[]> {
  const admin = await connectAdmin(options.connection);
  const ranges: PartitionRange[] = [];
  try {
    for (const topic of options.topics) {
      const starts = await boundOffsets(admin, topic, options.since, 'low');
      const ends = await boundOffsets(admin, topic, options.until, 'high');
      for (const [partition, start] of starts) {
        const end = ends.get(partition) ?? start;
        if (end > start) ranges.push({ topic, partition, start, end });
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (ranges.length === 0) return [];
  const records: RangeRecord[] = [];
  const pending = new Map(ranges.map((r) => [`${r.topic}/${r.partition}`, r]));
  // A group id nobody else uses; autoCommit off, so the read leaves no committed offsets behind.
  const groupId = `tidemark-replay-${randomUUID()}`;
  const coordinator = await connectAdmin(options.connection);
  try {
    await awaitGroupCoordinator(coordinator, groupId, options.connection);
  } finally {
    await coordinator.disconnect();
  }
  const consumer = cliKafka(options.connection, 'tidemark-replay').consumer({ groupId });
  await consumer.connect();
  try {
    const topics = [...new Set(ranges.map((r) => r.topic))];
    await consumer.subscribe({ topics, fromBeginning: true });
    let finish: () => void = () => undefined;
    let crash: (error: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      crash = reject;
    });
    // A crashed consumer reads nothing more: say why now rather than time out.
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      crash(
        kafkaAccessError(payload.error, options.connection, 'read the input topics') ??
          payload.error,
      ),
    );
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const r = pending.get(`${batch.topic}/${batch.partition}`);
        if (!r) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < r.start) continue;
          if (offset >= r.end) break;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) {
            if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : String(v);
          }
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            timestamp: m.timestamp,
            key: m.key === null ? null : m.key.toString('utf8'),
            value: m.value,
            headers,
          });
        }
        const last = BigInt(batch.lastOffset());
        if (last + 1n >= r.end) {
          pending.delete(`${batch.topic}/${batch.partition}`);
          if (pending.size === 0) finish();
        }
      },
    });
    for (const r of ranges)
      consumer.seek({ topic: r.topic, partition: r.partition, offset: r.start.toString() });
    const timeoutMs = options.timeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `replay --from-kafka: ${pending.size} partition(s) not read to their end within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
  return rangeLines(records, options.topics);
}
