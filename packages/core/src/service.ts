import type { InputRecord, OutputRecord } from './records.js';
import type { PartitionState } from './state.js';
import type { TopicCatalog } from './topics.js';

/** What a handler knows about the moment and place it runs in. */
export interface HandlerContext {
  /** Epoch ms from the host's clock (wall clock live, event time in replay). */
  now: number;
  partition: number;
  service: string;
  topics: TopicCatalog;
  /** W3C trace context of the input record, when it carried one. */
  traceparent?: string;
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
}
