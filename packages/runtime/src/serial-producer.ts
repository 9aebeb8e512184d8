import { TidemarkError } from '@tidemark/core';
import { Partitioners } from 'kafkajs';
import type { ICustomPartitioner, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaErrorType, retryTransient, type RetryOptions } from './delivery.js';

/** The broker refused a batch for its sequence numbers; the producer was replaced and the batch goes again. */
export class ProducerSequenceResetError extends TidemarkError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** Options of SerialProducer. */
export interface SerialProducerOptions {
  /** Builds a new (not yet connected) idempotent producer. */
  create: () => Producer;
  logger: Logger;
}

/**
 * The runtime's one idempotent producer, made safe for a broker that stops answering without closing its
 * sockets (SIGSTOP, a long GC pause, a hung disk).
 *
 * kafkajs numbers each partition's batches and, when a produce request fails — a request timeout included —
 * takes those sequence numbers back, although a timed-out request may still sit in the frozen broker's socket
 * and be appended once it wakes (tulios/kafkajs sendMessages.js: `updateSequence(…, -entry.messages.length)`
 * in the catch). A batch sent in between reuses the numbers: the broker rejects it with
 * OUT_OF_ORDER_SEQUENCE_NUMBER when its size differs, and acknowledges it as a duplicate without writing it
 * when its size matches — records lost without an error. So batches go one at a time, each retried until it
 * succeeds before the next one is sent: a sequence number is only ever reused for the very same records,
 * which the broker deduplicates. Should the broker still answer OUT_OF_ORDER_SEQUENCE_NUMBER (the batch was
 * not written), the producer is replaced — a new producer id starts new sequences — and the batch sent again.
 */
export class SerialProducer {
  readonly #options: SerialProducerOptions;
  #producer: Producer | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #replaced = 0;

  constructor(options: SerialProducerOptions) {
    this.#options = options;
  }

  /** How many times the producer was replaced after OUT_OF_ORDER_SEQUENCE_NUMBER. */
  get replaced(): number {
    return this.#replaced;
  }

  async connect(): Promise<void> {
    await this.#current();
  }

  async disconnect(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.disconnect();
  }

  /**
   * Sends one batch after every batch queued before it has finished, retrying transient errors (and a
   * replaced producer) with `retry` before the next batch may go; resolves with the broker's offsets.
   */
  send(batch: ProducerBatch, retry: RetryOptions): Promise<RecordMetadata[]> {
    const result = this.#tail.then(() => retryTransient(() => this.#attempt(batch), retry));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #current(): Promise<Producer> {
    if (this.#producer) return this.#producer;
    const producer = this.#options.create();
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.#producer = producer;
    return producer;
  }

  async #attempt(batch: ProducerBatch): Promise<RecordMetadata[]> {
    const producer = await this.#current();
    try {
      return await producer.sendBatch(batch);
    } catch (error) {
      if (kafkaErrorType(error) !== 'OUT_OF_ORDER_SEQUENCE_NUMBER') throw error;
      this.#producer = undefined;
      this.#replaced++;
      this.#options.logger.warn(
        { err: error, topics: batch.topicMessages?.map((t) => t.topic) },
        'produce refused for its sequence numbers; replacing the producer and sending the batch again',
      );
      await producer.disconnect().catch(() => undefined);
      throw new ProducerSequenceResetError(
        'the broker refused the batch for its sequence numbers (OUT_OF_ORDER_SEQUENCE_NUMBER); producer replaced',
        { cause: error },
      );
    }
  }
}

/**
 * kafkajs' default partitioner, except that a record with neither key nor partition goes by a hash of its value
 * instead of round-robin: kafkajs partitions a batch anew on every retry, and a retried request must carry the
 * same records per partition under the same sequence numbers for the broker to recognize it (see SerialProducer).
 */
export const stablePartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return ({ topic, partitionMetadata, message }) =>
    byKey({
      topic,
      partitionMetadata,
      message:
        (message.key === null || message.key === undefined) &&
        (message.partition === null || message.partition === undefined)
          ? { ...message, key: message.value ?? '' }
          : message,
    });
};
