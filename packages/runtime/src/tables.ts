import { randomUUID } from 'node:crypto';
import type { GlobalTable } from '@tidemark/core';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay, type BackoffOptions } from './delivery.js';

/** Options of TableFollower. */
export interface TableFollowerOptions {
  kafka: Kafka;
  admin: Admin;
  tables: ReadonlyArray<{ topic: string; table: GlobalTable }>;
  /** The service's group id; the table reader uses `<groupId>.tables.<uuid>` (every instance reads everything). */
  groupId: string;
  logger: Logger;
  /** Called when the reader fails after start in a way reconnecting cannot mend (see `isFatal`). */
  onFatal: (error: unknown) => void;
  /**
   * Whether a crash of the reader is for good (e.g. the cluster refused access); any other crash — the broker
   * restarted, killed or frozen — is followed by a reconnect. @default () => false
   */
  isFatal?: (error: unknown) => boolean;
  /** Called when a table's apply throws for a record (the record is skipped). */
  onApplyError?: (topic: string) => void;
  /** Backoff between reconnect attempts. @default 500 ms doubling up to 10 s */
  reconnectBackoff?: BackoffOptions;
  /** Waits between reconnect attempts (tests pass a fake). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads compacted topics in full into global tables, then keeps following them. `start` resolves once
 * every partition has been read up to the high watermark it had when reading began. When the reader loses
 * the broker later it reconnects (with backoff, for as long as it takes) from the offsets it had reached, and
 * is not caught up — the service not ready — until it has read to the high watermarks again.
 */
export class TableFollower {
  #consumer: Consumer | undefined;
  #caughtUp = false;
  #stopped = false;
  #recovering: Promise<void> | undefined;
  /** Fails the catching up of the reader in progress (stop() during a reconnect). */
  #abandon: ((reason: Error) => void) | undefined;
  /** The reader of a reconnect crashed again before the reconnect loop had finished: go round once more. */
  #crashedAgain = false;
  /** Next offset to apply per `topic|partition`: a reconnect resumes there and skips anything older. */
  readonly #next = new Map<string, bigint>();
  readonly #byTopic: Map<string, GlobalTable>;
  readonly #options: TableFollowerOptions;

  constructor(options: TableFollowerOptions) {
    this.#options = options;
    this.#byTopic = new Map(options.tables.map((t) => [t.topic, t.table]));
  }

  /** Whether the reader has read every table to the high watermarks of its latest (re)connect. */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** Starts reading; resolves when caught up. A failure here fails the start (nothing was read yet to keep). */
  async start(): Promise<void> {
    if (this.#byTopic.size === 0) {
      this.#caughtUp = true;
      return;
    }
    await this.#follow();
  }

  /** Stops following (and any reconnect) and leaves the reader's group. */
  async stop(): Promise<void> {
    this.#stopped = true;
    // A reconnect in progress may wait for a broker that is still away: end it instead of waiting for it.
    this.#abandon?.(new Error('table reader stopped'));
    await this.#consumer?.disconnect();
  }

  /** One reader consumer, from the offsets reached so far; resolves once it has caught up. */
  async #follow(): Promise<void> {
    const { kafka, admin, logger } = this.#options;
    // Last offset to reach per topic-partition; partitions with nothing left to read need nothing.
    const remaining = new Map<string, bigint>();
    for (const topic of this.#byTopic.keys()) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const key = `${topic}|${p.partition}`;
        const from = this.#next.get(key) ?? BigInt(p.low);
        if (BigInt(p.high) > from) remaining.set(key, BigInt(p.high) - 1n);
      }
    }
    if (this.#stopped) throw new Error('table reader stopped');
    const consumer = kafka.consumer({
      groupId: `${this.#options.groupId}.tables.${randomUUID()}`,
      maxWaitTimeInMs: 1000,
      retry: { retries: 8, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
    const caughtUp = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.#abandon = (reason) => settle?.reject(reason);
    let live = false;
    const check = () => {
      if (!live && remaining.size === 0) {
        live = true;
        this.#caughtUp = true;
        logger.info({ topics: [...this.#byTopic.keys()] }, 'global tables caught up');
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
      if (consumer !== this.#consumer || this.#stopped) return;
      if (!live) settle?.reject(payload.error);
      else this.#recover(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.#byTopic.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const table = this.#byTopic.get(batch.topic);
        if (!table) return;
        const key = `${batch.topic}|${batch.partition}`;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          // A reconnect may fetch again what the previous reader applied: applying it twice could briefly
          // put an older value back in front of a newer one.
          if (offset < (this.#next.get(key) ?? 0n)) continue;
          this.#next.set(key, offset + 1n);
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
    // Resume where the previous reader stopped instead of fetching each table from its beginning again.
    for (const [key, next] of this.#next) {
      const at = key.lastIndexOf('|');
      consumer.seek({
        topic: key.slice(0, at),
        partition: Number(key.slice(at + 1)),
        offset: String(next),
      });
    }
    check();
    await caughtUp;
  }

  /** After a crash past start: not caught up, then reconnect with backoff until a reader catches up again. */
  #recover(error: unknown): void {
    const { logger, isFatal = () => false } = this.#options;
    this.#caughtUp = false;
    if (this.#recovering) {
      this.#crashedAgain = true;
      return;
    }
    if (isFatal(error)) {
      this.#options.onFatal(error);
      return;
    }
    logger.warn(
      { err: error },
      'global table reader lost the broker; reconnecting (not ready until caught up again)',
    );
    const sleep = this.#options.sleep ?? realSleep;
    const backoff = this.#options.reconnectBackoff ?? { initialMs: 500, maxMs: 10_000 };
    this.#recovering = (async () => {
      for (let attempt = 0; !this.#stopped; attempt++) {
        await this.#consumer?.disconnect().catch(() => undefined);
        await sleep(backoffDelay(attempt, backoff));
        if (this.#stopped) return;
        try {
          this.#crashedAgain = false;
          await this.#follow();
          if (this.#crashedAgain) continue;
          logger.info({ attempts: attempt + 1 }, 'global table reader reconnected');
          return;
        } catch (retryError) {
          if (isFatal(retryError)) {
            this.#options.onFatal(retryError);
            return;
          }
          logger.warn(
            { err: retryError, attempt },
            'global table reader reconnect failed; retrying',
          );
        }
      }
    })().finally(() => {
      this.#recovering = undefined;
    });
  }
}
