import type { Producer } from 'kafkajs';
import type { SimRecord } from '@tidemark/sim';

/** A simulated record as one replayable JSONL line (the record-envelope form `tidemark replay` reads). */
export function envelopeLine(rec: SimRecord): string {
  return JSON.stringify({
    topic: rec.topic,
    key: rec.key,
    ...(rec.headers ? { headers: rec.headers } : {}),
    value: rec.value,
    ...(rec.encoding ? { encoding: rec.encoding } : {}),
    timestamp: rec.time,
  });
}

/** Raised when producing was interrupted (Ctrl-C). */
export class ProduceAborted extends Error {
  override name = 'ProduceAborted';
}

/**
 * Sends simulated records to Kafka in batches, with each record's simulated time as its Kafka timestamp
 * (services on an event-time clock read it). Paced either at `rate` records per wall second, or at `speed`
 * seconds of event time per wall second — the demo's choice: a batch then spans at most 100 ms of wall time,
 * so co-partitioned topics never drift far apart in event time while the services read them.
 */
export async function produceAtRate(
  producer: Producer,
  events: Iterable<SimRecord>,
  options: {
    rate?: number;
    speed?: number;
    signal?: AbortSignal;
    onRecord?: (rec: SimRecord) => void;
    onProgress?: (produced: number) => void;
    /**
     * Awaited before each batch is sent (backpressure, e.g. until the consumers catch up); with `speed`, the time
     * spent here does not count, so pacing resumes where it stopped instead of sending the missed stretch at once.
     */
    hold?: () => Promise<void>;
  },
): Promise<number> {
  const rate = options.rate ?? 1000;
  const speed = options.speed;
  const batchSize = speed ? 500 : Math.max(1, Math.min(500, Math.round(rate / 10)));
  let begun = Date.now();
  let firstTime: number | undefined;
  let produced = 0;
  let batch: SimRecord[] = [];
  const flush = async () => {
    if (options.hold) {
      const held = Date.now();
      await options.hold();
      begun += Date.now() - held;
    }
    const byTopic = new Map<string, SimRecord[]>();
    for (const r of batch) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, recs]) => ({
        topic,
        messages: recs.map((r) => ({
          key: r.key,
          value: r.encoding === 'base64' ? Buffer.from(r.value, 'base64') : r.value,
          timestamp: String(r.time),
          ...(r.headers ? { headers: r.headers } : {}),
        })),
      })),
    });
    produced += batch.length;
    options.onProgress?.(produced);
    batch = [];
  };
  const wait = async (due: number) => {
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  };
  for (const rec of events) {
    if (options.signal?.aborted) throw new ProduceAborted('interrupted');
    firstTime ??= rec.time;
    if (speed) {
      // Send what is due before this record's wall time, then wait for it.
      const due = begun + (rec.time - firstTime) / speed;
      // Also cut when the batch spans more than 100 ms of paced time: a producer that fell behind must not
      // send hours of event time at once, or one topic would run far ahead of its co-partitioned twin.
      const span = batch.length > 0 ? (rec.time - batch[0]!.time) / speed : 0;
      if (batch.length > 0 && (due - Date.now() > 100 || span > 100 || batch.length >= batchSize))
        await flush();
      await wait(due);
    }
    options.onRecord?.(rec);
    batch.push(rec);
    if (!speed && batch.length >= batchSize) {
      await flush();
      await wait(begun + (produced / rate) * 1000);
    }
  }
  if (batch.length > 0) await flush();
  return produced;
}
