import {
  TidemarkError,
  dlqRecord,
  envelopeInvalidFinding,
  findingRecord,
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
import { OFFSETS_KEY } from './restore.js';
import { startRecordSpan, tracingEnabled, withContext } from './tracing.js';

/** What handling needs besides the record and state: the service, its topics, clock and metrics. */
export interface HandlingContext<S extends PartitionState, E> {
  definition: ServiceDefinition<S, E>;
  topics: TopicCatalog;
  clock: Clock;
  metrics: MetricsSink;
  /** DLQ_RESTRICTED: the value of a restricted document's dead letter is withheld or kept. @default 'withhold' */
  dlqRestricted?: 'withhold' | 'keep';
}

/** Result of handling one record. */
export interface Handled {
  outputs: OutputRecord[];
  /** The error that sent the record to the dead-letter topic, if it went there. */
  deadLetter?: unknown;
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
 * into a dead letter plus an `envelope.invalid` finding; it never escapes. Synchronous decoders and
 * handlers get a synchronous result (no promise per record on the hot path).
 */
export function handleRecord<S extends PartitionState, E>(
  h: HandlingContext<S, E>,
  state: S,
  record: InputRecord,
): Handled | Promise<Handled> {
  const { definition } = h;
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
    const decoded = definition.decode ? definition.decode(record) : (parseEnvelope(record) as E);
    if (isPromiseLike(decoded))
      return decoded.then((event) => definition.handle(state, event, record, ctx));
    return definition.handle(state, decoded, record, ctx);
  };
  const failed = (error: unknown): Handled => {
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
  return isPromiseLike(result) ? result.then(succeeded, failed) : succeeded(result);
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
