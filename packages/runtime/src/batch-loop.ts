// The batch loop: what happens to one kafkajs batch of one input partition, in order.
//
//   eachBatch     wait for the partition's restore, then take its lock
//   processBatch  per record: skip what the restored state already has (offsets marker) → move event time and
//                 run due ticks (event-time.ts, ticks.ts) → handleRecord (processing.ts, core's processRecord:
//                 decode, handle, output checks, trace context, DLQ) → collect outputs
//   flush         outputs, then state changes + offsets marker to the changelog (output-producer.ts)
//   handleBatch   commit the offset after the last record handled; pause for a dependency (dependency-waits.ts)
//
// A failed delivery drops the partition's in-memory state (it restores again) and a permanent one stops the service.
import { ConfigError, describeError, safeErrorText } from '@tidemark/core';
import type { Clock, OutputRecord, PartitionState } from '@tidemark/core';
import type { Batch, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import {
  DeliveryAbortedError,
  DeliveryError,
  isRebalanceError,
  retryTransient,
} from './delivery.js';
import type { BlockedRecord, DependencyWaits } from './dependency-waits.js';
import type { EventTime } from './event-time.js';
import { HEARTBEAT_EVERY_MS, heartbeatWhile, waitWithHeartbeat } from './heartbeat.js';
import type { FailFn, HostStatus } from './host-status.js';
import type { RuntimeMetrics } from './metrics.js';
import type { OperationsMetrics } from './ops-metrics.js';
import type { OutputProducer } from './output-producer.js';
import type { Partitions, Slot } from './partitions.js';
import { handleRecord, isPromiseLike } from './processing.js';
import type { FutureLimit, HandlingContext } from './processing.js';
import { nextOffset, offsetBefore, toInputRecord } from './records.js';
import type { Ticks } from './ticks.js';
import { recordTraceFields } from './tracing.js';

/** What processBatch got through: the last offset handled or skipped, and the record it stopped at, if any. */
interface Processed {
  last: string | undefined;
  blocked?: BlockedRecord | undefined;
}

export interface BatchLoopInput<S extends PartitionState, E> {
  /** The per-record rule's inputs (definition, topics, clock, metrics, budget, DLQ_RESTRICTED). */
  handling: HandlingContext<S, E>;
  config: Pick<RuntimeConfig, 'reliability'>;
  /** The host clock (MAX_FUTURE_SKEW is measured against it). */
  clock: Clock;
  /** Set in event-time mode (TIDEMARK_CLOCK=event). */
  eventTime: EventTime | undefined;
  partitions: Partitions<S>;
  waits: DependencyWaits;
  ticks: Ticks<S, E>;
  /** Created once the producer is connected, before the consumer runs. */
  outputs: () => OutputProducer;
  status: HostStatus;
  fail: FailFn;
  metrics: RuntimeMetrics;
  ops: OperationsMetrics;
  logger: Logger;
}

/** The consumer's eachBatch; see the file comment. */
export class BatchLoop<S extends PartitionState, E> {
  readonly #in: BatchLoopInput<S, E>;

  constructor(input: BatchLoopInput<S, E>) {
    this.#in = input;
  }

  async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const { partitions } = this.#in;
    if (this.#in.status.fatal !== undefined) return;
    const slot = partitions.slotFor(batch.partition);
    await waitWithHeartbeat(slot.ready, heartbeat);
    if (slot.dropped || isStale()) return;
    await partitions.locks.run(batch.partition, async () => {
      if (slot.dropped) return;
      slot.busySince = Date.now();
      try {
        await this.#handleBatch(slot, batch, resolveOffset, heartbeat, commitOffsetsIfNecessary);
      } finally {
        slot.busySince = undefined;
      }
    });
  }

  /** Processes a batch, pauses its partition if a record waits for a dependency, and commits what got done. */
  async #handleBatch(
    slot: Slot<S>,
    batch: Batch,
    resolveOffset: EachBatchPayload['resolveOffset'],
    heartbeat: EachBatchPayload['heartbeat'],
    commitOffsetsIfNecessary: EachBatchPayload['commitOffsetsIfNecessary'],
  ): Promise<void> {
    const { metrics, ops, logger } = this.#in;
    let processed: Processed;
    try {
      processed = await this.#processBatch(slot, batch, heartbeat);
    } catch (error) {
      // In-memory state may now hold changes that never reached the changelog: rebuild it before reuse.
      this.#in.partitions.drop(slot.partition, 'batch failed');
      if (error instanceof DeliveryError || error instanceof ConfigError)
        this.#in.fail(error, 'delivery failed permanently');
      throw error;
    }
    if (processed.blocked) this.#in.waits.pause(slot, batch.topic, processed.blocked);
    if (processed.last === undefined) return;
    const next = nextOffset(processed.last);
    resolveOffset(processed.last);
    const commitTimer = ops.commitSeconds.startTimer();
    try {
      await retryTransient(
        () =>
          commitOffsetsIfNecessary({
            topics: [
              { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] },
            ],
          }),
        {
          what: `commit ${batch.topic}[${batch.partition}]@${next}`,
          abortReason: () => (slot.dropped ? 'partition revoked' : undefined),
          // Keep the membership while the coordinator is away; a failed heartbeat is the next attempt's problem.
          onRetry: () => void heartbeat().catch(() => undefined),
        },
      );
    } catch (error) {
      if (isRebalanceError(error) || error instanceof DeliveryAbortedError) {
        logger.warn(
          { err: error, topic: batch.topic, partition: batch.partition, offset: next },
          'offset commit lost to a rebalance; the records will be redelivered (the offsets marker skips them where state already has them)',
        );
        return;
      }
      throw error;
    }
    commitTimer();
    const lag = BigInt(batch.highWatermark) - BigInt(next);
    slot.progress.set(batch.topic, { at: Date.now(), lag: lag > 0n ? lag : 0n });
    const lagRecords = Number(lag > 0n ? lag : 0n);
    metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, lagRecords);
    const lastTimestamp = Number(
      batch.messages.find((m) => m.offset === processed.last)?.timestamp ?? Number.NaN,
    );
    if (Number.isFinite(lastTimestamp))
      ops.recordProgress(batch.topic, batch.partition, lastTimestamp, lagRecords);
  }

  async #processBatch(
    slot: Slot<S>,
    batch: Batch,
    heartbeat: () => Promise<void>,
  ): Promise<Processed> {
    const { eventTime, ticks, waits, logger } = this.#in;
    const { topic, partition } = batch;
    const skipBefore = slot.marker.get(topic);
    const outputs: OutputRecord[] = [];
    const metrics = this.#in.metrics;
    const handlerSeconds = metrics.handlerSeconds.labels({ topic });
    const waitKey = `${topic}:${partition}`;
    let handled = 0;
    let skipped = 0;
    let deadLetters = 0;
    let last: string | undefined;
    let blocked: Processed['blocked'];
    let lastBeat = performance.now();
    const handlingContext = eventTime
      ? { ...this.#in.handling, clock: { now: () => slot.watermark } }
      : this.#in.handling;
    for (const message of batch.messages) {
      if (skipBefore !== undefined && offsetBefore(message.offset, skipBefore)) {
        skipped++;
        last = message.offset;
        continue;
      }
      const future = this.#futureLimit(slot);
      const timestamp = Number(message.timestamp);
      // A record dated too far ahead never moves the partition's event time; handleRecord dead-letters it.
      if (eventTime && !(timestamp > future.reference + future.skewMs)) {
        const tickUpTo = eventTime.advance(slot, topic, timestamp);
        if (tickUpTo !== undefined) ticks.runEventTicks(slot, tickUpTo, outputs);
      }
      const started = performance.now();
      const input = toInputRecord(topic, partition, message);
      const handling = handleRecord(handlingContext, slot.state, input, future);
      const result = isPromiseLike(handling)
        ? await heartbeatWhile(handling, heartbeat, logger)
        : handling;
      const finished = performance.now();
      if (result.retry !== undefined) {
        // Stop here: what came before is delivered and committed, this record is tried again later.
        blocked = { offset: message.offset, error: result.retry, trace: recordTraceFields(input) };
        break;
      }
      waits.passed(waitKey);
      handlerSeconds.observe((finished - started) / 1000);
      handled++;
      last = message.offset;
      for (const o of result.outputs) outputs.push(o);
      if (result.deadLetter !== undefined) {
        deadLetters++;
        // Never the record, and only error text that cannot quote it (safeErrorText).
        const { errorClass } = describeError(result.deadLetter);
        const reason = safeErrorText(result.deadLetter);
        logger.warn(
          {
            errorClass,
            error: reason,
            topic,
            partition,
            offset: message.offset,
            ...recordTraceFields(input),
          },
          'record sent to the dead-letter topic',
        );
      }
      // A slow handler over a whole batch could outlast the session timeout.
      if (finished - lastBeat > HEARTBEAT_EVERY_MS) {
        await heartbeat();
        lastBeat = performance.now();
      }
    }
    metrics.recordsIn.inc({ topic }, handled + skipped);
    if (skipped > 0) metrics.recordsSkipped.inc({ topic }, skipped);
    if (deadLetters > 0) metrics.deadLetters.inc({ topic }, deadLetters);
    if (eventTime && last !== undefined && blocked === undefined) {
      if (BigInt(nextOffset(last)) >= BigInt(batch.highWatermark)) eventTime.caughtUp(slot, topic);
    }
    if (last !== undefined || outputs.length > 0)
      await this.#in
        .outputs()
        .flush(
          slot,
          outputs,
          last === undefined ? undefined : { topic, next: nextOffset(last) },
          heartbeat,
        );
    return { last, blocked };
  }

  /**
   * The latest time a record of this partition may carry (MAX_FUTURE_SKEW): ahead of the host clock in wall-clock
   * mode; in event-time mode ahead of the partition's watermark — or of the host clock where that is later (the
   * first record of a partition, or replayed history: a quiet spell in old traffic is no reason to reject).
   */
  #futureLimit(slot: Slot<S>): FutureLimit {
    const skewMs = this.#in.config.reliability.maxFutureSkewMs;
    const host = this.#in.clock.now();
    if (this.#in.eventTime && slot.watermark > host)
      return { reference: slot.watermark, referenceName: 'partition watermark', skewMs };
    return { reference: host, referenceName: 'host clock', skewMs };
  }
}
