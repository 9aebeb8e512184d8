import type { InputRecord, OutputRecord } from './records.js';
import type { PartitionState } from './state.js';
import type { TopicCatalog } from './topics.js';
import type { ServiceTopology } from './topology.js';

/** What a handler knows about the moment and place it runs in. */
export interface HandlerContext {
  /** Epoch ms from the host's clock (wall clock live, event time in replay). */
  now: number;
  partition: number;
  service: string;
  topics: TopicCatalog;
  /** W3C trace context of the input record, when it carried one. */
  traceparent?: string;
  /** Where handlers record the service's own metrics (declared in `ServiceDefinition.metrics`). */
  metrics: MetricsSink;
}

/** A metric a service records, declared up front so every host can create it. */
export interface MetricDefinition {
  /** Prometheus name, e.g. `tidemark_sync_lag_seconds`. */
  name: string;
  help: string;
  kind: 'histogram' | 'counter' | 'gauge';
  labelNames: readonly string[];
  /** Histogram bucket upper bounds. */
  buckets?: readonly number[];
}

/** Receives metric observations from handlers; the Kafka host backs it with Prometheus, replay with memory. */
export interface MetricsSink {
  /** Histogram observation, counter increment (by `value`), or gauge set. */
  record(name: string, labels: Record<string, string>, value: number): void;
}

/** A sink that drops everything, for tests that don't look at metrics. */
export const noopMetrics: MetricsSink = { record: () => undefined };

/**
 * A table every instance reads in full from a compacted topic (e.g. the document registry that lets an
 * instance resolve references to documents of partitions it does not own). The host feeds it from the
 * beginning before the service is ready, then keeps following the topic.
 */
export interface GlobalTable {
  apply(key: string, value: Buffer | null): void;
}

/**
 * A service's logic, hosted unchanged by the Kafka runtime, the in-process replay and the tests.
 * Handlers and ticks are functions of (state, input, now); the host owns I/O, the clock and delivery.
 */
export interface ServiceDefinition<S extends PartitionState = PartitionState, E = unknown> {
  /** Service name: log field, CloudEvent source `tidemark/<name>`, changelog `tidemark.<name>.state`. */
  name: string;
  /** Topic names consumed. All must have the same partition count (co-partitioned). */
  inputs: readonly string[];
  /** Empty state for one partition, before its changelog is restored into it. */
  createState(partition: number): S;
  /** Turns a record into an event; throwing an EnvelopeError sends the record to the DLQ. @default core's envelope parser */
  decode?(record: InputRecord): E | Promise<E>;
  /** Handles one event; a throw sends the record to the DLQ and the partition goes on. */
  handle(
    state: S,
    event: E,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[] | Promise<OutputRecord[]>;
  /** Periodic work per owned partition (deadlines due by `ctx.now`). */
  tick?(state: S, ctx: HandlerContext): OutputRecord[];
  /**
   * The earliest time at which `tick` may change the partition's state or emit anything: `-Infinity` at the next
   * tick, `Infinity` when nothing is pending. A tick before it must be a no-op, so a host may skip it — replay jumps
   * over idle event time, and its cost follows events and due deadlines rather than the span of time. May be early
   * (a superseded deadline), never late. It may read only the state and the service's own `tables`: a host may
   * keep the answer until a record, a tick or a table change reaches the partition. Omitted: every tick may have work.
   */
  nextTick?(state: S): number;
  /** Metrics the handlers record through `ctx.metrics`. */
  metrics?: readonly MetricDefinition[];
  /** Compacted topics read in full by every instance, with the tables they feed. */
  tables?: ReadonlyArray<{ topic: string; table: GlobalTable }>;
  /**
   * Topics the handlers and ticks write to besides the DLQ and findings (e.g. alerts, tickets, internal
   * topics); the Kafka host refuses to start while one is missing. @default []
   */
  outputs?: readonly string[];
  /**
   * The service's internal topics and the version of its changelog records (the same value the CLI plans
   * topics from). The host writes `stateFormat` on every changelog record and refuses to restore a newer one.
   * @default state format 1, no internal topics
   */
  topology?: ServiceTopology;
}
