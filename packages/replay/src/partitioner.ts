import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';

/** Default partition count of the replay's topics, like the local broker's. */
export const DEFAULT_PARTITIONS = 3;

/** Assigns records to partitions the way the live producer does. */
export interface Partitioner {
  /** Partition of a record on `topic` with `key`; null keys go round-robin per topic, from 0. */
  partition(topic: string, key: string | null): number;
}

/**
 * A partitioner that places keyed records exactly where the live services' producer does: kafkajs's
 * DefaultPartitioner (Java-compatible murmur2 of the key, positive, modulo the partition count) is called as is,
 * so replay and live share one hash. Keyless records are the exception: kafkajs starts its round-robin counter at a
 * random value, which would make replay non-deterministic, so they go round-robin from partition 0 instead.
 */
export function createPartitioner(partitions: number = DEFAULT_PARTITIONS): Partitioner {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${String(partitions)}`);
  }
  const kafka = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from(
    { length: partitions },
    (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }),
  );
  const roundRobin = new Map<string, number>();
  // Keys repeat (every event of a document has its key); hashing each once keeps replay cheap.
  const cache = new Map<string, number>();
  return {
    partition(topic, key) {
      if (key === null) {
        const next = roundRobin.get(topic) ?? 0;
        roundRobin.set(topic, next + 1);
        return next % partitions;
      }
      let p = cache.get(key);
      if (p === undefined) {
        p = kafka({ topic, partitionMetadata, message: { key, value: null } });
        if (cache.size >= 1_000_000) cache.clear();
        cache.set(key, p);
      }
      return p;
    },
  };
}
