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
 * Sends simulated records to Kafka at `rate` records per second of wall time, in batches, with each record's
 * simulated time as its Kafka timestamp (services on an event-time clock read it).
 */
export async function produceAtRate(
  producer: Producer,
  events: Iterable<SimRecord>,
  options: {
    rate: number;
    signal?: AbortSignal;
    onRecord?: (rec: SimRecord) => void;
    onProgress?: (produced: number) => void;
  },
): Promise<number> {
  const batchSize = Math.max(1, Math.min(500, Math.round(options.rate / 10)));
  const begun = Date.now();
  let produced = 0;
  let batch: SimRecord[] = [];
  const flush = async () => {
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
    const due = begun + (produced / options.rate) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  };
  for (const rec of events) {
    if (options.signal?.aborted) throw new ProduceAborted('interrupted');
    options.onRecord?.(rec);
    batch.push(rec);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return produced;
}
