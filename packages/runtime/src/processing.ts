import {
  TidemarkError,
  checkNotFuture,
  formatDuration,
  isPromiseLike,
  isRetriableRecordError,
  processRecord,
  FutureEventError,
  OutputRecordError,
} from '@tidemark/core';
import type {
  Clock,
  FutureLimit,
  Handled,
  InputRecord,
  MetricsSink,
  OutputRecord,
  PartitionState,
  RecordTrace,
  ServiceDefinition,
  StateChange,
  TopicCatalog,
} from '@tidemark/core';
import { SpanStatusCode } from '@opentelemetry/api';
import { UndecodableBatchError, undecodableReason, withoutUndecodableMarker } from './codecs.js';
import { OFFSETS_KEY } from './restore.js';
import { stateFormatHeaders } from './state-format.js';
import { startRecordSpan, tracingEnabled, withContext } from './tracing.js';

// The host rule itself (decode, handle, output checks, trace context, DLQ) is core's processRecord, shared with
// replay; this file adds what only the Kafka host has: OpenTelemetry spans, undecodable batches and the time budget.
export {
  FutureEventError,
  OutputRecordError,
  checkNotFuture,
  isPromiseLike,
  isRetriableRecordError,
};
export type { FutureLimit, Handled };

/** What handling needs besides the record and state: the service, its topics, clock and metrics. */
export interface HandlingContext<S extends PartitionState, E> {
  definition: ServiceDefinition<S, E>;
  topics: TopicCatalog;
  clock: Clock;
  metrics: MetricsSink;
  /**
   * Longest an asynchronous decode + handle of one record may take (RECORD_TIME_BUDGET); past it the record
   * is dead-lettered with RecordTimeBudgetError and whatever it still produces is ignored. Unset: no limit.
   */
  recordBudgetMs?: number;
  /** DLQ_RESTRICTED: the value of a restricted document's dead letter is withheld or kept. @default 'withhold' */
  dlqRestricted?: 'withhold' | 'keep';
}

/**
 * A record whose handling outlasted RECORD_TIME_BUDGET: dead-lettered, so one slow record cannot hold its
 * partition for ever, nor — redelivered after its member is dropped from the group — livelock it.
 */
export class RecordTimeBudgetError extends TidemarkError {
  constructor(budgetMs: number) {
    super(`handling the record took longer than RECORD_TIME_BUDGET=${formatDuration(budgetMs)}`, {
      retriable: false,
      context: { budgetMs },
    });
  }
}

/** The record's `process <topic>` span, as the kernel's trace hook (only while an SDK is registered). */
function otelTrace(record: InputRecord, service: string): RecordTrace | undefined {
  if (!tracingEnabled()) return undefined;
  const rs = startRecordSpan(record, service);
  return {
    traceparent: rs.traceparent,
    run: (fn) => withContext(rs.context, fn),
    end(failure) {
      if (failure) {
        const message = (failure.error as Error)?.message ?? String(failure.error);
        if (failure.outcome === 'dead-letter') {
          rs.span.recordException(
            failure.error instanceof Error ? failure.error : String(failure.error),
          );
        }
        rs.span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      rs.span.end();
    },
  };
}

/** Dead-letters an asynchronous handling that outlasts `budgetMs` (a synchronous one cannot be interrupted). */
function withBudget(budgetMs: number) {
  return (pending: Promise<Handled>, deadLetter: (error: unknown) => Handled) => {
    let timer: NodeJS.Timeout | undefined;
    const overBudget = new Promise<Handled>((resolve) => {
      timer = setTimeout(() => resolve(deadLetter(new RecordTimeBudgetError(budgetMs))), budgetMs);
    });
    return Promise.race([pending, overBudget]).finally(() => clearTimeout(timer));
  };
}

/**
 * Decodes and handles one record (core's processRecord, at the host clock's `now`). Outputs without a traceparent
 * get the record's (with tracing on: that of the record's `process <topic>` span, a child of the record's context).
 * A decode or handler error turns into a dead letter plus an `envelope.invalid` finding, except a retriable
 * TidemarkError (e.g. DependencyUnavailableError), which is returned as `retry`; it never escapes. A record of a
 * batch that could not be decompressed is dead-lettered with UndecodableBatchError. Synchronous decoders and
 * handlers get a synchronous result (no promise per record on the hot path).
 */
export function handleRecord<S extends PartitionState, E>(
  h: HandlingContext<S, E>,
  state: S,
  consumed: InputRecord,
  future?: FutureLimit,
): Handled | Promise<Handled> {
  const undecodable = undecodableReason(consumed.headers);
  const record =
    undecodable === undefined
      ? consumed
      : { ...consumed, headers: withoutUndecodableMarker(consumed.headers) };
  return processRecord(
    {
      definition: h.definition,
      topics: h.topics,
      metrics: h.metrics,
      dlqRestricted: h.dlqRestricted ?? 'withhold',
      trace: otelTrace,
      ...(h.recordBudgetMs === undefined ? {} : { budget: withBudget(h.recordBudgetMs) }),
    },
    state,
    record,
    h.clock.now(),
    {
      ...(undecodable === undefined ? {} : { reject: new UndecodableBatchError(undecodable) }),
      ...(future ? { future } : {}),
    },
  );
}

/** The changelog records for a partition's drained state changes plus its input offsets marker, in `stateFormat`. */
export function changelogRecords(
  topic: string,
  changes: readonly StateChange[],
  marker: ReadonlyMap<string, string>,
  stateFormat = 1,
): OutputRecord[] {
  // Every record says its format: compaction keeps one record per key from whichever version wrote it last.
  const headers = stateFormatHeaders(stateFormat);
  const records: OutputRecord[] = changes.map((c) => ({
    topic,
    key: c.key,
    value: c.value,
    headers,
  }));
  records.push({
    topic,
    key: OFFSETS_KEY,
    value: JSON.stringify(Object.fromEntries(marker)),
    headers,
  });
  return records;
}
