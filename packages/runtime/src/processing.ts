import {
  TidemarkError,
  dlqRecord,
  envelopeInvalidFinding,
  findingRecord,
  formatDuration,
  formatTime,
  parseEnvelope,
} from '@tidemark/core';
import type {
  Clock,
  HandlerContext,
  InputRecord,
  MetricsSink,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
  StateChange,
  TopicCatalog,
} from '@tidemark/core';
import { SpanStatusCode } from '@opentelemetry/api';
import { UndecodableBatchError, undecodableReason, withoutUndecodableMarker } from './codecs.js';
import { OFFSETS_KEY } from './restore.js';
import { startRecordSpan, tracingEnabled, withContext } from './tracing.js';

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

/** Result of handling one record. */
export interface Handled {
  outputs: OutputRecord[];
  /** The error that sent the record to the dead-letter topic, if it went there. */
  deadLetter?: unknown;
  /**
   * A retriable error (a dependency such as the Schema Registry unavailable): the record was neither handled
   * nor dead-lettered, and must be tried again later. `outputs` is empty.
   */
  retry?: TidemarkError;
}

/** A record dated further ahead than MAX_FUTURE_SKEW (a producer with a broken clock): dead-lettered, never a clock. */
export class FutureEventError extends TidemarkError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: false });
  }
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

/** The latest time a record may carry: `reference` plus the allowed skew, and what the reference is. */
export interface FutureLimit {
  /** Epoch ms: the host clock, or the partition's watermark in event-time mode. */
  reference: number;
  /** Name of the reference for the reason, e.g. `host clock`. */
  referenceName: string;
  skewMs: number;
}

/** The time of a decoded event, when it is a CloudEvent-like object with a parseable `time`. */
function eventTimeOf(event: unknown): number | undefined {
  const time = (event as { time?: unknown } | null)?.time;
  if (typeof time !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Throws FutureEventError when `time` (named `what`) is beyond the limit. */
export function checkNotFuture(time: number, what: string, limit: FutureLimit | undefined): void {
  if (limit === undefined || !(time > limit.reference + limit.skewMs)) return;
  throw new FutureEventError(
    `${what} ${formatTime(time)} is ${formatDuration(time - limit.reference)} ahead of the ${limit.referenceName} (${formatTime(limit.reference)}), more than MAX_FUTURE_SKEW=${formatDuration(limit.skewMs)}`,
    { context: { time, reference: limit.reference, skewMs: limit.skewMs } },
  );
}

/** Whether a handler or decoder error means "try this record again later" rather than "bad record". */
export function isRetriableRecordError(error: unknown): error is TidemarkError {
  return error instanceof TidemarkError && error.retriable;
}

/** Whether a value is a promise (handlers and decoders may be sync or async). */
export function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A handler returned something that is not a list of output records (a bug in the service, not the record). */
export class OutputRecordError extends TidemarkError {}

function checkOutputs(outputs: unknown): OutputRecord[] {
  if (!Array.isArray(outputs))
    throw new OutputRecordError('handler must return an array of output records');
  for (const o of outputs as OutputRecord[]) {
    if (typeof o?.topic !== 'string' || o.topic.length === 0) {
      throw new OutputRecordError('output record without a topic');
    }
    if (o.value !== null && typeof o.value !== 'string' && !Buffer.isBuffer(o.value)) {
      throw new OutputRecordError(
        `output record to ${o.topic}: value must be a string, Buffer or null`,
      );
    }
  }
  return outputs as OutputRecord[];
}

/**
 * Decodes and handles one record. Outputs without a traceparent get the record's (with tracing on: that of
 * the record's `process <topic>` span, a child of the record's context). A decode or handler error turns
 * into a dead letter plus an `envelope.invalid` finding, except a retriable TidemarkError (e.g.
 * DependencyUnavailableError), which is returned as `retry`; it never escapes. Synchronous decoders and
 * handlers get a synchronous result (no promise per record on the hot path).
 */
export function handleRecord<S extends PartitionState, E>(
  h: HandlingContext<S, E>,
  state: S,
  consumed: InputRecord,
  future?: FutureLimit,
): Handled | Promise<Handled> {
  const { definition } = h;
  const undecodable = undecodableReason(consumed.headers);
  const record =
    undecodable === undefined
      ? consumed
      : { ...consumed, headers: withoutUndecodableMarker(consumed.headers) };
  const rs = tracingEnabled() ? startRecordSpan(record, definition.name) : undefined;
  const traceparent = rs ? rs.traceparent : record.headers['traceparent'];
  const ctx: HandlerContext = {
    now: h.clock.now(),
    partition: record.partition,
    service: definition.name,
    topics: h.topics,
    metrics: h.metrics,
    ...(traceparent === undefined ? {} : { traceparent }),
  };
  const run = (): OutputRecord[] | Promise<OutputRecord[]> => {
    // A stand-in for a record of a batch that could not be decompressed (codecs.ts): nothing to decode.
    if (undecodable !== undefined) throw new UndecodableBatchError(undecodable);
    if (future) checkNotFuture(Number(record.timestamp), 'record timestamp', future);
    const decoded = definition.decode ? definition.decode(record) : (parseEnvelope(record) as E);
    const handle = (event: E) => {
      if (future) {
        const time = eventTimeOf(event);
        if (time !== undefined) checkNotFuture(time, 'event time', future);
      }
      return definition.handle(state, event, record, ctx);
    };
    if (isPromiseLike(decoded)) return decoded.then(handle);
    return handle(decoded);
  };
  const failed = (error: unknown): Handled => {
    if (isRetriableRecordError(error)) {
      if (rs) {
        rs.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        rs.span.end();
      }
      return { outputs: [], retry: error };
    }
    if (rs) {
      rs.span.recordException(error instanceof Error ? error : String(error));
      rs.span.setStatus({
        code: SpanStatusCode.ERROR,
        message: (error as Error)?.message ?? String(error),
      });
      rs.span.end();
    }
    const finding = envelopeInvalidFinding({
      record,
      error,
      service: definition.name,
      now: ctx.now,
    });
    return {
      outputs: [
        dlqRecord({
          record,
          error,
          service: definition.name,
          topics: h.topics,
          restricted: h.dlqRestricted ?? 'withhold',
        }),
        findingRecord(finding, { service: definition.name, topics: h.topics }),
      ],
      deadLetter: error,
    };
  };
  const succeeded = (result: unknown): Handled => {
    let outputs: OutputRecord[];
    try {
      outputs = checkOutputs(result);
    } catch (error) {
      return failed(error);
    }
    if (traceparent !== undefined) {
      for (let i = 0; i < outputs.length; i++) {
        const o = outputs[i]!;
        if (o.headers?.['traceparent'] === undefined) {
          outputs[i] = { ...o, headers: { ...o.headers, traceparent } };
        }
      }
    }
    rs?.span.end();
    return { outputs };
  };
  let result: OutputRecord[] | Promise<OutputRecord[]>;
  try {
    result = rs ? withContext(rs.context, run) : run();
  } catch (error) {
    return failed(error);
  }
  if (!isPromiseLike(result)) return succeeded(result);
  const handled = result.then(succeeded, failed);
  const budgetMs = h.recordBudgetMs;
  if (budgetMs === undefined) return handled;
  // A synchronous handler cannot be interrupted; an asynchronous one is abandoned when the budget runs out.
  let timer: NodeJS.Timeout | undefined;
  const overBudget = new Promise<Handled>((resolve) => {
    timer = setTimeout(() => resolve(failed(new RecordTimeBudgetError(budgetMs))), budgetMs);
  });
  return Promise.race([handled, overBudget]).finally(() => clearTimeout(timer));
}

/** The changelog records for a partition's drained state changes plus its input offsets marker. */
export function changelogRecords(
  topic: string,
  changes: readonly StateChange[],
  marker: ReadonlyMap<string, string>,
): OutputRecord[] {
  const records: OutputRecord[] = changes.map((c) => ({ topic, key: c.key, value: c.value }));
  records.push({ topic, key: OFFSETS_KEY, value: JSON.stringify(Object.fromEntries(marker)) });
  return records;
}
