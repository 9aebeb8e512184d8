import { randomUUID } from 'node:crypto';
import type { GlobalTable } from '@tidemark/core';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

/** Options of TableFollower. */
export interface TableFollowerOptions {
  kafka: Kafka;
  admin: Admin;
  tables: ReadonlyArray<{ topic: string; table: GlobalTable }>;
  /** The service's group id; the table reader uses `<groupId>.tables.<uuid>` (every instance reads everything). */
  groupId: string;
  logger: Logger;
  /** Called when the reader crashes after start: the instance can no longer trust its tables. */
  onFatal: (error: unknown) => void;
  /** Called when a table's apply throws for a record (the record is skipped). */
  onApplyError?: (topic: string) => void;
}

/**
 * Reads compacted topics in full into global tables, then keeps following them. `start` resolves once
 * every partition has been read up to the high watermark it had when reading began.
 */
export class TableFollower {
  #consumer: Consumer | undefined;
  #caughtUp = false;
  readonly #options: TableFollowerOptions;

  constructor(options: TableFollowerOptions) {
    this.#options = options;
  }

  /** Whether the initial read has reached the high watermarks. */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** Starts reading; resolves when caught up. */
  async start(): Promise<void> {
    const { kafka, admin, tables, logger } = this.#options;
    if (tables.length === 0) {
      this.#caughtUp = true;
      return;
    }
    const byTopic = new Map(tables.map((t) => [t.topic, t.table]));
    // Last offset to reach per topic-partition; partitions that are empty need nothing.
    const remaining = new Map<string, bigint>();
    for (const topic of byTopic.keys()) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low))
          remaining.set(`${topic}|${p.partition}`, BigInt(p.high) - 1n);
      }
    }
    const consumer = kafka.consumer({
      groupId: `${this.#options.groupId}.tables.${randomUUID()}`,
      maxWaitTimeInMs: 1000,
      retry: { retries: 8, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
    const caughtUp = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const check = () => {
      if (!this.#caughtUp && remaining.size === 0) {
        this.#caughtUp = true;
        logger.info({ topics: [...byTopic.keys()] }, 'global tables caught up');
        settle?.resolve();
      }
    };
    // END_BATCH_PROCESS also reports batches emptied by compaction, so progress counts skipped offsets too.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const key = `${payload.topic}|${payload.partition}`;
      const target = remaining.get(key);
      if (target !== undefined && BigInt(payload.lastOffset) >= target) {
        remaining.delete(key);
        check();
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.#caughtUp) this.#options.onFatal(payload.error);
      else settle?.reject(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const table = byTopic.get(batch.topic);
        if (!table) return;
        for (const m of batch.messages) {
          if (m.key === null) continue;
          try {
            table.apply(m.key.toString('utf8'), m.value);
          } catch (error) {
            logger.error(
              { err: error, topic: batch.topic, partition: batch.partition, offset: m.offset },
              'global table apply failed; record skipped',
            );
            this.#options.onApplyError?.(batch.topic);
          }
        }
      },
    });
    check();
    await caughtUp;
  }

  /** Stops following and leaves the reader's group. */
  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
  }
}
