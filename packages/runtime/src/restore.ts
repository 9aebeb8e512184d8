import { randomUUID } from 'node:crypto';
import { ConfigError } from '@tidemark/core';
import type { PartitionState } from '@tidemark/core';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { retryTransient } from './delivery.js';
import { checkStateFormat, recordStateFormat } from './state-format.js';

/** Changelog keys starting with this belong to the runtime, never to a service's state. */
export const RESERVED_KEY_PREFIX = '__tidemark.';
/** Key of the restore barrier: a tombstone, so a reader that does not know it applies a harmless delete. */
export const BARRIER_KEY = `${RESERVED_KEY_PREFIX}barrier`;
/** Key of the per-partition record of input offsets already reflected in the state (JSON {topic: offset}). */
export const OFFSETS_KEY = `${RESERVED_KEY_PREFIX}offsets`;
/**
 * Key of the record `tidemark state reset` writes to every partition of a changelog it recreated: the loss of
 * the old state was accepted, so an empty changelog behind committed input offsets is expected.
 */
export const RESET_KEY = `${RESERVED_KEY_PREFIX}reset`;

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
  /** Only sendBatch is used: the host passes its serialized producer (see SerialProducer). */
  producer: Pick<Producer, 'sendBatch'>;
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
  /** The service's input topics, whose committed offsets tell whether a changelog was lost. */
  inputs?: readonly string[];
  /** Service name, for the instructions when the changelog was lost or is in an unknown state format. */
  service?: string;
  /**
   * The newest state format the service reads (see definitionStateFormat): a record in a newer one stops the
   * restore with a StateFormatError instead of being applied. @default 1
   */
  stateFormat?: number;
}

/**
 * Refuses to restore from a changelog younger than the group's committed offsets. Every restore writes a
 * barrier to each changelog partition it restores, so a partition whose inputs have committed offsets was
 * restored — and written to — before; if its changelog partition has never held a record (high watermark 0),
 * the topic was deleted and recreated and the state behind those offsets is gone. Continuing would silently
 * start from empty state; the user must accept that with `tidemark state reset` (which leaves a record).
 */
export async function checkChangelogIntegrity(options: {
  admin: Admin;
  topic: string;
  groupId: string;
  inputs: readonly string[];
  partitions: readonly number[];
  service: string;
}): Promise<void> {
  const { admin, topic, groupId, inputs, partitions, service } = options;
  const high = new Map(
    (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]),
  );
  const committed = await admin.fetchOffsets({ groupId, topics: [...inputs] });
  const problems: string[] = [];
  for (const p of partitions) {
    if ((high.get(p) ?? 0n) > 0n) continue;
    const ahead = committed
      .map((t) => ({ topic: t.topic, offset: t.partitions.find((x) => x.partition === p)?.offset }))
      .filter((c) => c.offset !== undefined && BigInt(c.offset) > 0n);
    if (ahead.length > 0)
      problems.push(
        `${topic}[${p}] is empty but group ${groupId} has committed ${ahead.map((c) => `${c.topic}[${p}]@${c.offset}`).join(', ')}`,
      );
  }
  if (problems.length === 0) return;
  throw new ConfigError(
    `the state changelog of ${service} was deleted and recreated: the state behind the committed input offsets is lost`,
    [
      ...problems,
      `to accept the loss and continue from empty state, stop every instance and run "tidemark state reset ${service} --yes", then start the service again; or restore ${topic} from a backup`,
    ],
  );
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
  if (options.inputs && options.service) {
    const { inputs, service } = options;
    await retryTransient(
      () =>
        checkChangelogIntegrity({
          admin,
          topic,
          groupId: options.groupId,
          inputs,
          partitions: targets.map((t) => t.partition),
          service,
        }),
      {
        what: `check ${topic}`,
        ...(options.abortReason ? { abortReason: options.abortReason } : {}),
      },
    ).catch((error: unknown) => {
      // retryTransient wraps a permanent error; the lost-changelog verdict must reach the host as it is.
      const cause = (error as { cause?: unknown }).cause;
      throw cause instanceof ConfigError ? cause : error;
    });
  }
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
            const barrierAt = batch.messages.findIndex((m) => BigInt(m.offset) >= end);
            const records = barrierAt < 0 ? batch.messages : batch.messages.slice(0, barrierAt);
            // Checked before any of the batch is applied: state half built from unreadable records is never used.
            const refused = checkStateFormat(records, {
              service: options.service ?? options.groupId,
              topic,
              partition: p,
              supported: options.stateFormat ?? 1,
            });
            if (refused) {
              consumer.pause([{ topic, partitions: [p] }]);
              reject(refused);
              return;
            }
            let count = 0;
            for (const m of records) {
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
              target.state.restore(key, m.value, recordStateFormat(m));
              count++;
            }
            if (barrierAt >= 0) {
              pending.delete(p);
              consumer.pause([{ topic, partitions: [p] }]);
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
