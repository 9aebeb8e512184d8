import { randomUUID } from 'node:crypto';
import type { PartitionState } from '@tidemark/core';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { retryTransient } from './delivery.js';

/** Changelog keys starting with this belong to the runtime, never to a service's state. */
export const RESERVED_KEY_PREFIX = '__tidemark.';
/** Key of the restore barrier: a tombstone, so a reader that does not know it applies a harmless delete. */
export const BARRIER_KEY = `${RESERVED_KEY_PREFIX}barrier`;
/** Key of the per-partition record of input offsets already reflected in the state (JSON {topic: offset}). */
export const OFFSETS_KEY = `${RESERVED_KEY_PREFIX}offsets`;

/** One partition to restore: where its changelog entries go and where its input offsets marker goes. */
export interface RestoreTarget {
  partition: number;
  state: PartitionState;
  /** Filled with the restored input offsets marker: next offset per input topic already in the state. */
  marker: Map<string, string>;
}

/** Options of restorePartitions. */
export interface RestoreOptions {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  /** The changelog topic. */
  topic: string;
  /** The service's group id; the restore reader uses `<groupId>.restore.<uuid>`. */
  groupId: string;
  targets: readonly RestoreTarget[];
  logger: Logger;
  /** Called for each changelog record applied (metrics). */
  onApplied?: (count: number) => void;
  /** Stops waiting for transient broker errors when it returns a reason. */
  abortReason?: () => string | undefined;
}

/**
 * Rebuilds partition states from the compacted changelog. kafkajs has no manual partition assignment, so:
 * (1) write a barrier tombstone to each changelog partition and note its offset — everything before it is
 * the state to restore, and the barrier is a record that is certain to exist at the end, even where the
 * log cleaner removed old tombstones at the tail; (2) read the changelog from the beginning with a
 * short-lived consumer in a group of its own (sole member, so it gets every partition), pausing the
 * partitions not needed; (3) stop each partition at its barrier, then leave and delete the group.
 */
export async function restorePartitions(options: RestoreOptions): Promise<void> {
  const { kafka, admin, producer, topic, targets, logger } = options;
  if (targets.length === 0) return;
  const byPartition = new Map(targets.map((t) => [t.partition, t]));
  const started = performance.now();
  const results = await retryTransient(
    () =>
      producer.sendBatch({
        acks: -1,
        topicMessages: [
          {
            topic,
            messages: targets.map((t) => ({
              key: BARRIER_KEY,
              value: null,
              partition: t.partition,
            })),
          },
        ],
      }),
    {
      what: `restore barrier on ${topic}`,
      ...(options.abortReason ? { abortReason: options.abortReason } : {}),
      onRetry: (error, attempt) =>
        logger.warn({ err: error, attempt }, 'restore barrier: retrying'),
    },
  );
  const barrier = new Map<number, bigint>();
  for (const r of results) barrier.set(r.partition, BigInt(r.baseOffset ?? '0'));
  for (const t of targets) {
    if (!barrier.has(t.partition))
      throw new Error(`no barrier offset acknowledged for ${topic}[${t.partition}]`);
  }

  const groupId = `${options.groupId}.restore.${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 10 * 1024 * 1024,
    retry: { retries: 8, restartOnFailure: async () => false },
  });
  const pending = new Set(byPartition.keys());
  let applied = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assigned = payload.memberAssignment[topic] ?? [];
        const idle = assigned.filter((p) => !pending.has(p));
        if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      const run = async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: 4,
          eachBatch: async ({ batch }) => {
            const p = batch.partition;
            const target = byPartition.get(p);
            const end = barrier.get(p);
            if (!target || end === undefined || !pending.has(p)) return;
            let count = 0;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) {
                pending.delete(p);
                consumer.pause([{ topic, partitions: [p] }]);
                break;
              }
              const key = m.key?.toString('utf8');
              if (key === undefined) continue;
              if (key.startsWith(RESERVED_KEY_PREFIX)) {
                if (key === OFFSETS_KEY && m.value) {
                  target.marker.clear();
                  const offsets = JSON.parse(m.value.toString('utf8')) as Record<string, string>;
                  for (const [t, o] of Object.entries(offsets)) target.marker.set(t, o);
                }
                continue;
              }
              target.state.restore(key, m.value);
              count++;
            }
            applied += count;
            options.onApplied?.(count);
            if (pending.size === 0) resolve();
          },
        });
      };
      run().catch(reject);
    });
  } finally {
    await consumer
      .disconnect()
      .catch((error: unknown) => logger.warn({ err: error }, 'restore reader disconnect'));
    // The group never committed offsets; deleting it now just saves the broker from keeping it around.
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  logger.info(
    {
      topic,
      partitions: [...byPartition.keys()],
      records: applied,
      ms: Math.round(performance.now() - started),
    },
    'partition state restored',
  );
}
