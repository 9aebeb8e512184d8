// The group consumer: joined with the co-partitioned assigner, manual commits, and never restarted by kafkajs
// itself (tulios/kafkajs#1529). When a broker outage crashes it, a new consumer takes its place and every
// partition restores again; anything else that crashes it stops the service.
import type { PartitionState } from '@tidemark/core';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { coPartitionedAssigner } from './assigner.js';
import { isBrokerOutage } from './broker-outage.js';
import type { RuntimeConfig } from './config.js';
import { backoffDelay } from './delivery.js';
import type { EventTime } from './event-time.js';
import type { FailFn, HostStatus } from './host-status.js';
import type { OperationsMetrics } from './ops-metrics.js';
import type { Partitions } from './partitions.js';

/** How long a crashed consumer's replacement keeps trying to rejoin before the service gives up (exit 1). */
const CONSUMER_REPLACE_MAX_MS = 5 * 60_000;

export interface GroupConsumerInput<S extends PartitionState> {
  kafka: Kafka;
  config: RuntimeConfig['kafka'];
  inputs: readonly string[];
  partitions: Partitions<S>;
  /** Set in event-time mode: counts the consumer's fetch rounds. */
  eventTime: EventTime | undefined;
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  status: HostStatus;
  fail: FailFn;
  ops: OperationsMetrics;
  logger: Logger;
}

/** The service's membership in its consumer group; see the file comment. */
export class GroupConsumer<S extends PartitionState> {
  readonly #in: GroupConsumerInput<S>;
  #consumer: Consumer | undefined;

  constructor(input: GroupConsumerInput<S>) {
    this.#in = input;
  }

  /** The consumer of the moment (replaced after a broker outage). */
  get current(): Consumer | undefined {
    return this.#consumer;
  }

  /** Creates the group consumer, joins and runs it (at start, and in place of one a broker outage crashed). */
  async run(): Promise<void> {
    const kc = this.#in.config;
    const { status, partitions } = this.#in;
    const consumer = this.#in.kafka.consumer({
      groupId: kc.groupId,
      partitionAssigners: [coPartitionedAssigner(() => [...partitions.slots.keys()])],
      sessionTimeout: kc.sessionTimeoutMs,
      rebalanceTimeout: Math.max(60_000, kc.sessionTimeoutMs),
      heartbeatInterval: Math.min(3000, Math.floor(kc.sessionTimeoutMs / 3)),
      maxBytesPerPartition: kc.maxBytesPerPartition,
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
      // kafkajs must never restart itself: a crashed consumer in a live process is the failure mode of
      // tulios/kafkajs#1529. The runtime exits instead and the orchestrator restarts it. Retries as the
      // client's (kafka.ts): they ride out about two minutes of broker outage first.
      retry: { restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#in.ops.rebalances.inc();
      partitions.onAssignment(payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      status.rebalancing = true;
    });
    consumer.on(consumer.events.FETCH_START, ({ payload }) => {
      if (this.#consumer !== consumer) return;
      this.#in.eventTime?.countFetch(payload.nodeId);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.#consumer !== consumer) return;
      if (isBrokerOutage(payload.error) && status.fatal === undefined && !status.stopping)
        void this.#replace(consumer, payload.error);
      else this.#in.fail(payload.error, 'kafka consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...this.#in.inputs],
      fromBeginning: kc.startFrom === 'earliest',
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: kc.partitionsConsumedConcurrently,
      eachBatch: this.#in.eachBatch,
    });
  }

  /**
   * kafkajs crashes its consumer when a broker outage outlasts its retries — or at once, when a rejoin finds no
   * broker in the metadata (KafkaJSNoBrokerAvailableError): a clean broker restart can do that. Restarting the
   * same consumer object is what tulios/kafkajs#1529 warns against; instead every partition is dropped (as in a
   * rebalance that revokes all: uncommitted records come again, state restores from the changelog) and a new
   * consumer joins the group, retried with backoff while the broker stays away (not ready meanwhile).
   */
  async #replace(crashed: Consumer, error: unknown): Promise<void> {
    const { status, partitions, logger } = this.#in;
    logger.warn(
      { err: error },
      'kafka consumer crashed on a broker outage; replacing it (its partitions restore again)',
    );
    status.joined = false;
    status.rebalancing = true;
    for (const p of [...partitions.slots.keys()]) partitions.drop(p, 'consumer replaced');
    await crashed.disconnect().catch(() => undefined);
    const deadline = Date.now() + CONSUMER_REPLACE_MAX_MS;
    for (let attempt = 0; ; attempt++) {
      if (status.stopping || status.fatal !== undefined) return;
      try {
        await this.run();
        return;
      } catch (retry) {
        await this.#consumer?.disconnect().catch(() => undefined);
        if (!isBrokerOutage(retry) || Date.now() > deadline) {
          this.#in.fail(retry, 'kafka consumer could not rejoin after a broker outage');
          return;
        }
        const delayMs = backoffDelay(attempt, { initialMs: 1000, maxMs: 15_000 });
        logger.warn({ err: retry, delayMs }, 'kafka consumer rejoin failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }
}
