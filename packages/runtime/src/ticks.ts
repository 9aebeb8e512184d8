// definition.tick per owned, restored partition, never at the same time as that partition's batch (the
// partition lock): on TICK_SCHEDULE with the host clock, or in event-time mode inline with the records, every
// EVENT_TICK of the partition's event time (the schedule then only ticks partitions that no record will move).
// Tick outputs and state changes go the same way as a batch's (OutputProducer.flush).
import { ConfigError } from '@tidemark/core';
import type {
  Clock,
  HandlerContext,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
} from '@tidemark/core';
import { SpanStatusCode } from '@opentelemetry/api';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import { DeliveryError } from './delivery.js';
import type { EventTime } from './event-time.js';
import type { FailFn, HostStatus } from './host-status.js';
import type { RuntimeMetrics } from './metrics.js';
import type { OutputProducer } from './output-producer.js';
import type { Partitions, Slot } from './partitions.js';
import { startTickSpan, withContext } from './tracing.js';

export interface TicksInput<S extends PartitionState, E> {
  definition: ServiceDefinition<S, E>;
  config: Pick<RuntimeConfig, 'topics' | 'tickSchedule' | 'eventTickMs'>;
  clock: Clock;
  /** Set in event-time mode (TIDEMARK_CLOCK=event). */
  eventTime: EventTime | undefined;
  partitions: Partitions<S>;
  /** Created once the producer is connected, before the first tick. */
  outputs: () => OutputProducer;
  status: HostStatus;
  fail: FailFn;
  metrics: RuntimeMetrics;
  logger: Logger;
}

/** The ticks of this instance's partitions; see the file comment. */
export class Ticks<S extends PartitionState, E> {
  readonly #in: TicksInput<S, E>;
  #task: ScheduledTask | undefined;
  #ticking: Promise<void> = Promise.resolve();

  constructor(input: TicksInput<S, E>) {
    this.#in = input;
  }

  /** Starts TICK_SCHEDULE (when the definition has a tick). */
  startSchedule(): void {
    const { definition, config } = this.#in;
    // In event-time mode ticks run inline with the records; the schedule only ticks partitions without any.
    if (definition.tick) {
      this.#task = cron.schedule(config.tickSchedule, () => this.#scheduleTicks(), {
        name: `${definition.name}-tick`,
        noOverlap: true,
      });
    }
  }

  /** Stops the schedule; a round already running goes on (see settled()). */
  async stopSchedule(): Promise<void> {
    await this.#task?.destroy();
  }

  /** Resolves when the last scheduled round has finished. */
  settled(): Promise<void> {
    return this.#ticking;
  }

  /**
   * Runs the partition's ticks due up to `tickUpTo` (event time), every EVENT_TICK. Nothing runs while that is
   * not a finite time — a co-partitioned topic with records not read yet holds the partition's ticks back.
   */
  runEventTicks(slot: Slot<S>, tickUpTo: number, outputs: OutputRecord[]): void {
    const { definition, config, metrics } = this.#in;
    const tick = definition.tick;
    const step = config.eventTickMs;
    if (tick && Number.isFinite(tickUpTo)) {
      slot.nextTick ??= Math.floor(tickUpTo / step) * step + step;
      // A gap of more than 1000 steps is crossed in one tick at its end: deadlines inside it fire then.
      if ((tickUpTo - slot.nextTick) / step > 1000)
        slot.nextTick = Math.floor(tickUpTo / step) * step;
      while (slot.nextTick <= tickUpTo) {
        const ctx: HandlerContext = {
          now: slot.nextTick,
          partition: slot.partition,
          service: definition.name,
          topics: config.topics,
          metrics: metrics.sink,
        };
        try {
          for (const o of tick.call(definition, slot.state, ctx)) outputs.push(o);
        } catch (error) {
          this.#in.logger.error({ err: error, partition: slot.partition }, 'tick failed');
        }
        metrics.ticks.inc({ partition: String(slot.partition) });
        slot.nextTick += step;
      }
    }
  }

  #scheduleTicks(): Promise<void> {
    this.#ticking = this.#runTicks().catch((error: unknown) => {
      if (error instanceof DeliveryError || error instanceof ConfigError)
        this.#in.fail(error, 'tick delivery failed permanently');
      else this.#in.logger.error({ err: error }, 'tick round failed');
    });
    return this.#ticking;
  }

  /** No new tick starts while stopping, rebalancing or failed. */
  #halted(): boolean {
    const { status } = this.#in;
    return status.stopping || status.rebalancing || status.fatal !== undefined;
  }

  /** Flushes a tick's outputs; a failed delivery drops the partition (its state restores again). */
  async #flush(slot: Slot<S>, outputs: readonly OutputRecord[]): Promise<void> {
    try {
      await this.#in.outputs().flush(slot, outputs);
    } catch (error) {
      this.#in.partitions.drop(slot.partition, 'tick delivery failed');
      throw error;
    }
  }

  async #runTicks(): Promise<void> {
    const { definition, partitions, clock, config, metrics } = this.#in;
    const tick = definition.tick;
    if (!tick) return;
    if (this.#in.eventTime) return this.#runIdleEventTicks(this.#in.eventTime);
    for (const partition of [...partitions.slots.keys()].sort((a, b) => a - b)) {
      if (this.#halted()) return;
      const slot = partitions.slots.get(partition);
      if (!slot?.restored) continue;
      await partitions.locks.run(partition, async () => {
        if (slot.dropped) return;
        const ts = startTickSpan(definition.name, partition);
        const ctx: HandlerContext = {
          now: clock.now(),
          partition,
          service: definition.name,
          topics: config.topics,
          metrics: metrics.sink,
          ...(ts.traceparent === undefined ? {} : { traceparent: ts.traceparent }),
        };
        let outputs: OutputRecord[] = [];
        try {
          outputs = withContext(ts.context, () => tick.call(definition, slot.state, ctx));
        } catch (error) {
          ts.span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          this.#in.logger.error({ err: error, partition }, 'tick failed');
        } finally {
          ts.span.end();
        }
        metrics.ticks.inc({ partition: String(partition) });
        await this.#flush(slot, outputs);
      });
    }
  }

  /**
   * Event-time mode, on TICK_SCHEDULE: partitions that have no records of their own yet tick from the slowest
   * input topic's event time on this instance (each topic's highest time over the partitions that read it,
   * then the lowest of those, minus EVENT_SKEW), so deadlines of an idle partition still fire.
   */
  async #runIdleEventTicks(eventTime: EventTime): Promise<void> {
    const { partitions, config } = this.#in;
    await this.#runEventTicksOfIdleTopics(eventTime);
    const tickUpTo = eventTime.idlePartitionBound(partitions.slots.values());
    if (tickUpTo === undefined || !Number.isFinite(tickUpTo)) return;
    for (const slot of partitions.sorted()) {
      if (this.#halted()) return;
      if (!slot.restored || slot.topicTime.size > 0) continue;
      await partitions.locks.run(slot.partition, async () => {
        if (slot.dropped || slot.topicTime.size > 0) return;
        const outputs: OutputRecord[] = [];
        // No record will move this partition's time later: its first tick is the step boundary reached now.
        const step = config.eventTickMs;
        slot.nextTick ??= Math.floor(tickUpTo / step) * step;
        this.runEventTicks(slot, tickUpTo, outputs);
        if (outputs.length === 0) return;
        if (tickUpTo > slot.watermark) slot.watermark = tickUpTo;
        await this.#flush(slot, outputs);
      });
    }
  }

  /**
   * Event-time mode, on TICK_SCHEDULE: a partition whose topics went idle (read to their end more than
   * EVENT_IDLE_TIMEOUT ago) runs the ticks its last records allow — no record may arrive to trigger them.
   */
  async #runEventTicksOfIdleTopics(eventTime: EventTime): Promise<void> {
    const { partitions } = this.#in;
    for (const slot of partitions.sorted()) {
      if (this.#halted()) return;
      if (!slot.restored || slot.topicTime.size === 0) continue;
      await partitions.locks.run(slot.partition, async () => {
        if (slot.dropped) return;
        const outputs: OutputRecord[] = [];
        this.runEventTicks(slot, eventTime.tickBound(slot, Date.now()), outputs);
        if (outputs.length === 0) return;
        await this.#flush(slot, outputs);
      });
    }
  }
}
