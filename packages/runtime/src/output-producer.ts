// The write half of a batch or a tick: a flush sends the partition's outputs, then its state changes with the
// input-offsets marker to the changelog, each acknowledged (acks=all). Produce batches stay under
// KAFKA_MAX_REQUEST_BYTES; an output the broker will never take is dead-lettered instead; transient errors are
// retried for as long as it takes, heartbeating the group and checking that the topics still exist.
import { ConfigError, describeError, outputDlqRecord } from '@tidemark/core';
import type { OutputRecord, PartitionState } from '@tidemark/core';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import { OutputRejectedError, isRecordRejection, kafkaErrorType } from './delivery.js';
import { waitWithHeartbeat } from './heartbeat.js';
import type { FailFn, HostStatus } from './host-status.js';
import type { RuntimeMetrics } from './metrics.js';
import type { OperationsMetrics } from './ops-metrics.js';
import type { Slot } from './partitions.js';
import { changelogRecords } from './processing.js';
import { messageBytes, planBatches } from './produce-batches.js';
import type { Addressed } from './produce-batches.js';
import { groupByTopic, toKafkaMessage } from './records.js';
import { SerialProducer, stablePartitioner } from './serial-producer.js';
import { missingOutputTopics } from './topology.js';

// A produce pending this long makes the runtime check that its topics still exist (kafkajs retries an unknown
// topic for ever, so a deleted output topic would otherwise stall the service silently).
const PRODUCE_TOPIC_CHECK_MS = 10_000;
// Broker refusals that no retry or other record can fix: the service stops (exit 2) with the topic named.
const AUTHORIZATION_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/** The host's one producer: idempotent, one batch at a time (see SerialProducer for why); connect it next. */
export function createSerialProducer(kafka: Kafka, logger: Logger): SerialProducer {
  // One batch at a time, replaced on OUT_OF_ORDER_SEQUENCE_NUMBER: see SerialProducer for why.
  return new SerialProducer({
    create: () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: stablePartitioner,
        // kafkajs keeps idempotence only while it retries on its own (it warns otherwise); transient errors are
        // retried in there with backoff up to 30 s apart, so a broker outage delays outputs and never drops them.
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 30_000 },
      }),
    logger: logger.child({ component: 'producer' }),
  });
}

/** An output refused by the broker, with why. */
interface Rejected {
  item: Addressed;
  error: unknown;
}

/** The slot fields a flush reads and writes. */
type FlushedSlot = Pick<Slot<PartitionState>, 'partition' | 'watermark' | 'marker' | 'state'>;

export interface OutputProducerInput {
  producer: SerialProducer;
  admin: Admin;
  service: string;
  /** The state changelog topic. */
  changelog: string;
  /** Stamped on every changelog record (`tidemark-state-format`), so a rollback refuses what it cannot read. */
  stateFormat: number;
  /** TIDEMARK_CLOCK=event: outputs carry the partition's event time. */
  eventTime: boolean;
  config: Pick<RuntimeConfig, 'topics' | 'reliability'>;
  status: HostStatus;
  fail: FailFn;
  metrics: RuntimeMetrics;
  ops: OperationsMetrics;
  logger: Logger;
}

/** Delivers what a batch or tick produced; see the file comment. */
export class OutputProducer {
  readonly #in: OutputProducerInput;

  constructor(input: OutputProducerInput) {
    this.#in = input;
  }

  /**
   * Delivers a partition's outputs, then its state changes with the input offsets marker, each awaited
   * (acks=all). Outputs go first so the marker never claims records whose outputs could still be lost.
   */
  async flush(
    slot: FlushedSlot,
    outputs: readonly OutputRecord[],
    advance?: { topic: string; next: string },
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    if (outputs.length > 0) {
      // In event-time mode outputs carry the partition's event time, so a service reading them (the router, or
      // this service's own internal topics) stays on the same clock instead of jumping to the wall clock.
      const timestamp =
        this.#in.eventTime && slot.watermark > 0 ? String(slot.watermark) : undefined;
      await this.#send(
        slot,
        outputs.map((o) => {
          const message = toKafkaMessage(o);
          if (timestamp !== undefined) message.timestamp = timestamp;
          return { topic: o.topic, message };
        }),
        heartbeat,
      );
    }
    const changes = slot.state.drainChanges();
    if (changes.length > 0) {
      if (advance) slot.marker.set(advance.topic, advance.next);
      const records = changelogRecords(
        this.#in.changelog,
        changes,
        slot.marker,
        this.#in.stateFormat,
      );
      await this.#send(
        slot,
        records.map((r) => ({ topic: r.topic, message: toKafkaMessage(r, slot.partition) })),
        heartbeat,
      );
    }
    this.#in.metrics.stateEntries.set({ partition: String(slot.partition) }, slot.state.size());
  }

  /**
   * Produces messages in batches under the broker's size limit (KAFKA_MAX_REQUEST_BYTES). An output the
   * broker will never take (too large, invalid) is dead-lettered with the reason — its DLQ copy cut to fit —
   * and the rest goes on; only transient errors are retried (for as long as it takes).
   */
  async #send(
    slot: FlushedSlot,
    messages: Addressed[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    const rejected: Rejected[] = [];
    await this.#sendAll(slot, messages, rejected, heartbeat);
    if (rejected.length === 0) return;
    const { topics, reliability } = this.#in.config;
    const copies = rejected.map(({ item, error }) => {
      const { errorClass, message } = describeError(error);
      this.#in.logger.error(
        { topic: item.topic, partition: slot.partition, errorClass, error: message },
        'output can never be produced; sent to the dead-letter topic instead',
      );
      this.#in.metrics.deadLetters.inc({ topic: item.topic });
      const m = item.message;
      const dlq = outputDlqRecord({
        output: {
          topic: item.topic,
          key: m.key === undefined || m.key === null ? null : m.key.toString(),
          value: m.value ?? null,
          headers: Object.fromEntries(
            Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]),
          ),
        },
        error,
        service: this.#in.service,
        topics,
        // The copy's headers are counted generously; leave room for the batch framing too.
        maxBytes: reliability.maxRequestBytes - 1024,
      });
      return { topic: dlq.topic, message: toKafkaMessage(dlq) };
    });
    const lost: Rejected[] = [];
    await this.#sendAll(slot, copies, lost, heartbeat);
    // A dead letter refused in turn is not retried again: that would be the crash loop this avoids.
    for (const { item, error } of lost)
      this.#in.logger.error(
        { err: error, topic: item.topic, partition: slot.partition },
        'dead-letter copy of an output refused by the broker too; dropped',
      );
  }

  /** Sends messages in size-bounded batches, collecting the ones the broker will never accept. */
  async #sendAll(
    slot: FlushedSlot,
    messages: Addressed[],
    rejected: Rejected[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    const limit = this.#in.config.reliability.maxRequestBytes;
    const { batches, tooLarge } = planBatches(messages, limit);
    for (const item of tooLarge) {
      rejected.push({
        item,
        error: new OutputRejectedError(
          `output to ${item.topic} is about ${messageBytes(item.message)} bytes, over the produce limit of ${limit} (KAFKA_MAX_REQUEST_BYTES)`,
        ),
      });
    }
    for (const batch of batches) await this.#sendSplitting(slot, batch, rejected, heartbeat);
  }

  /** Sends one batch; when the broker refuses records of it, halves it until the refused ones are alone. */
  async #sendSplitting(
    slot: FlushedSlot,
    batch: Addressed[],
    rejected: Rejected[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    try {
      await this.#produce(slot, batch, heartbeat);
    } catch (error) {
      if (!isRecordRejection(error)) {
        const type = kafkaErrorType(error);
        if (type !== undefined && AUTHORIZATION_ERRORS.has(type)) {
          const names = [...new Set(batch.map((b) => b.topic))].join(', ');
          throw new ConfigError(
            `cannot run ${this.#in.service}`,
            [
              `the broker refused to let this service write to ${names} (${type}): grant it write access`,
            ],
            { cause: error },
          );
        }
        throw error;
      }
      if (batch.length === 1) {
        rejected.push({ item: batch[0]!, error });
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.#sendSplitting(slot, batch.slice(0, half), rejected, heartbeat);
      await this.#sendSplitting(slot, batch.slice(half), rejected, heartbeat);
    }
  }

  /**
   * One sendBatch (acks=all), retried through transient errors. While it is pending the group is heartbeated
   * (when called from a batch) and, past PRODUCE_TOPIC_CHECK_MS, the topics are checked to still exist.
   */
  async #produce(
    slot: FlushedSlot,
    messages: Addressed[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    const { metrics, status } = this.#in;
    const topicMessages = groupByTopic(messages);
    const produceTimer = this.#in.ops.produceSeconds.startTimer();
    const sending = this.#in.producer.send(
      { acks: -1, topicMessages },
      {
        what: `produce ${messages.length} records`,
        abortReason: () => (status.fatal !== undefined ? 'service failed' : undefined),
        onRetry: (error, attempt, delayMs) => {
          metrics.deliveryRetries.inc();
          this.#in.logger.warn(
            { err: error, attempt, delayMs, partition: slot.partition },
            'produce failed; retrying',
          );
        },
      },
    );
    const started = performance.now();
    let checked = started;
    await waitWithHeartbeat(
      sending.then(() => undefined),
      async () => {
        if (heartbeat) await heartbeat().catch(() => undefined);
        if (performance.now() - checked >= PRODUCE_TOPIC_CHECK_MS) {
          checked = performance.now();
          await this.#checkOutputTopics(topicMessages.map((t) => t.topic));
        }
      },
    );
    produceTimer();
    for (const t of topicMessages) metrics.recordsOut.inc({ topic: t.topic }, t.messages.length);
  }

  /** Stops the service (exit 2) when an output topic no longer exists; an admin error leaves it to later. */
  async #checkOutputTopics(names: readonly string[]): Promise<void> {
    let existing: Set<string>;
    try {
      existing = new Set(await this.#in.admin.listTopics());
    } catch (error) {
      this.#in.logger.warn({ err: error }, 'could not list topics while a produce is pending');
      return;
    }
    const missing = missingOutputTopics(this.#in.service, names, existing);
    if (missing) this.#in.fail(missing, 'output topic missing');
  }
}
