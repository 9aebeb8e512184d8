// The host rule for one record, in one place: decode → handle → check the outputs → stamp the trace context, and a
// dead letter plus an `envelope.invalid` finding when any of that throws. Every host — the Kafka runtime, the
// in-process replay, the tests — runs records through processRecord, so "the same compositions run in three hosts"
// holds by construction rather than by copying. Pure: the host passes `now`, and brings its own tracing (a hook)
// and its own time budget (a hook), so no clock, timer or OpenTelemetry import lives here.
import { TidemarkError } from './errors.js';
import { parseEnvelope } from './envelope.js';
import { formatDuration, formatTime } from './time.js';
import { dlqRecord, envelopeInvalidFinding, findingRecord } from './outputs.js';
import type { DlqRestrictedPolicy } from './outputs.js';
import type { InputRecord, OutputRecord } from './records.js';
import type { HandlerContext, MetricsSink, ServiceDefinition } from './service.js';
import type { PartitionState } from './state.js';
import type { TopicCatalog } from './topics.js';

/** A record dated further ahead than MAX_FUTURE_SKEW (a producer with a broken clock): dead-lettered, never a clock. */
export class FutureEventError extends TidemarkError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: false });
  }
}

/** A handler returned something that is not a list of output records (a bug in the service, not the record). */
export class OutputRecordError extends TidemarkError {}

/** The latest time a record may carry: `reference` plus the allowed skew, and what the reference is. */
export interface FutureLimit {
  /** Epoch ms: the host clock, or the partition's watermark in event-time mode. */
  reference: number;
  /** Name of the reference for the reason, e.g. `host clock`. */
  referenceName: string;
  skewMs: number;
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

/**
 * Tracing of one record, as a host provides it (the Kafka host: an OpenTelemetry `process <topic>` span that is a
 * child of the record's context; replay: none).
 */
export interface RecordTrace {
  /** The trace context outputs without one get (a recording span's, else the record's own header). */
  traceparent: string | undefined;
  /** Runs decode and handle inside the span's context. */
  run<T>(fn: () => T): T;
  /** Ends the span: `undefined` when handled, else the error and whether the record goes to `retry` or the DLQ. */
  end(failure?: { error: unknown; outcome: 'retry' | 'dead-letter' }): void;
}

/** What processing needs besides the record and state: the service, its topics and metrics, and the host's hooks. */
export interface RecordProcessing<S extends PartitionState, E> {
  definition: ServiceDefinition<S, E>;
  topics: TopicCatalog;
  metrics: MetricsSink;
  /** DLQ_RESTRICTED: the value of a restricted document's dead letter is withheld or kept. @default 'withhold' */
  dlqRestricted?: DlqRestrictedPolicy;
  /** Starts the record's trace; without it (or when it returns undefined) the record's `traceparent` header is used. */
  trace?(record: InputRecord, service: string): RecordTrace | undefined;
  /**
   * Whether a retriable TidemarkError (e.g. the Schema Registry unreachable) comes back as `retry` — a host that can
   * try the record again later — or is dead-lettered like any other error (a host that cannot). @default true
   */
  retry?: boolean;
  /**
   * Bounds an asynchronous decode + handle (the Kafka host's RECORD_TIME_BUDGET): given the pending result and a
   * function that dead-letters the record with an error, returns what the host waits for. Synchronous handling is
   * never passed here (it cannot be interrupted).
   */
  budget?(pending: Promise<Handled>, deadLetter: (error: unknown) => Handled): Promise<Handled>;
}

/** Result of processing one record. */
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

/** Per-record checks a host adds before the handler sees the record. */
export interface RecordChecks {
  /**
   * Thrown inside processing before decoding (so it becomes the record's dead letter), e.g. the Kafka host's
   * stand-in for a record of a batch it could not decompress.
   */
  reject?: unknown;
  /** MAX_FUTURE_SKEW: the record's timestamp and its event's `time` must not be beyond this limit. */
  future?: FutureLimit;
}

/** Checks a handler's result: an array of records with a topic and a string, Buffer or null value. */
export function checkOutputs(outputs: unknown): OutputRecord[] {
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

/** The time of a decoded event, when it is a CloudEvent-like object with a parseable `time`. */
function eventTimeOf(event: unknown): number | undefined {
  const time = (event as { time?: unknown } | null)?.time;
  if (typeof time !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Decodes and handles one record at `now`. Outputs without a traceparent get the record's (or its trace's). A decode
 * or handler error, or outputs that are not records, turn into a dead letter plus an `envelope.invalid` finding —
 * except a retriable TidemarkError, which is returned as `retry` when the host can retry; nothing escapes.
 * Synchronous decoders and handlers get a synchronous result (no promise per record on the hot path).
 */
export function processRecord<S extends PartitionState, E>(
  p: RecordProcessing<S, E>,
  state: S,
  record: InputRecord,
  now: number,
  checks: RecordChecks = {},
): Handled | Promise<Handled> {
  const { definition } = p;
  const trace = p.trace?.(record, definition.name);
  const traceparent = trace ? trace.traceparent : record.headers['traceparent'];
  const ctx: HandlerContext = {
    now,
    partition: record.partition,
    service: definition.name,
    topics: p.topics,
    metrics: p.metrics,
  };
  // Set rather than spread in: once per record and service, a spread costs two objects more.
  if (traceparent !== undefined) ctx.traceparent = traceparent;
  const { future } = checks;
  const run = (): OutputRecord[] | Promise<OutputRecord[]> => {
    if (checks.reject !== undefined) throw checks.reject;
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
    if (p.retry !== false && isRetriableRecordError(error)) {
      trace?.end({ error, outcome: 'retry' });
      return { outputs: [], retry: error };
    }
    trace?.end({ error, outcome: 'dead-letter' });
    return {
      outputs: deadLetterOutputs(p, record, error, now),
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
    trace?.end();
    return { outputs };
  };
  let result: OutputRecord[] | Promise<OutputRecord[]>;
  try {
    result = trace ? trace.run(run) : run();
  } catch (error) {
    return failed(error);
  }
  if (!isPromiseLike(result)) return succeeded(result);
  const handled = result.then(succeeded, failed);
  return p.budget ? p.budget(handled, failed) : handled;
}

/** The dead letter of a record that could not be processed, and its `envelope.invalid` finding. */
export function deadLetterOutputs<S extends PartitionState, E>(
  p: Pick<RecordProcessing<S, E>, 'definition' | 'topics' | 'dlqRestricted'>,
  record: InputRecord,
  error: unknown,
  now: number,
): OutputRecord[] {
  const service = p.definition.name;
  const finding = envelopeInvalidFinding({ record, error, service, now });
  return [
    dlqRecord({
      record,
      error,
      service,
      topics: p.topics,
      restricted: p.dlqRestricted ?? 'withhold',
    }),
    findingRecord(finding, { service, topics: p.topics }),
  ];
}
