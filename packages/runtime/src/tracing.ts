import {
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  context,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';
import type { Context, Span, SpanContext, TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
// Messaging attributes are still "development" in the semantic conventions, hence the incubating entry point.
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_SYSTEM_VALUE_KAFKA,
} from '@opentelemetry/semantic-conventions/incubating';
import type { InputRecord, RecordHeaders } from '@tidemark/core';
import { processSpanOf } from './otel-handle.js';

const tracer = trace.getTracer('@tidemark/runtime');
// Used directly rather than the global propagator so trace context is read the same way whether or not the
// SDK was started (the API's default global propagator is a no-op).
const w3c = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<RecordHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

// The API's no-op provider (what a proxy delegates to before an SDK registers a real one).
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether an SDK has registered a tracer provider. Without one, per-record spans are skipped altogether
 * (they would be no-ops, and this is the hot path); trace context is then copied from input to outputs.
 */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate !== NOOP_PROVIDER;
}

/** A span around one record's handling, child of the trace context the record carried. */
export interface RecordSpan {
  span: Span;
  /** Context to run the handler in (the span set on the record's extracted context). */
  context: Context;
  /** traceparent for the record's outputs: the span's own when recording, else the input's unchanged. */
  traceparent: string | undefined;
}

/** The W3C traceparent of a recording span. */
export function formatTraceparent(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** The span context a record's `traceparent` header carries, if it is valid. */
function producerContext(record: InputRecord): SpanContext | undefined {
  if (record.headers['traceparent'] === undefined) return undefined;
  const spanContext = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, record.headers, headerGetter));
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * Starts the handler span of one input record, `handle <topic>`. With the kafkajs instrumentation (the otel
 * preload) it is a child of the instrumentation's `process <topic>` span of that message, which in a batch
 * belongs to the batch's `poll` trace; without it, it is the consumer span itself, a child of the record's
 * context. Either way it links to the producer's span, so the record's origin is one hop away.
 */
export function startRecordSpan(record: InputRecord, service: string): RecordSpan {
  const producer = producerContext(record);
  const processSpan = processSpanOf(record);
  const parent = processSpan
    ? trace.setSpan(ROOT_CONTEXT, processSpan)
    : producer
      ? trace.setSpanContext(ROOT_CONTEXT, producer)
      : ROOT_CONTEXT;
  const span = tracer.startSpan(
    `handle ${record.topic}`,
    {
      kind: processSpan ? SpanKind.INTERNAL : SpanKind.CONSUMER,
      links: producer ? [{ context: producer }] : [],
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_KAFKA,
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
        [ATTR_MESSAGING_OPERATION_NAME]: 'handle',
        [ATTR_MESSAGING_DESTINATION_NAME]: record.topic,
        [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(record.partition),
        [ATTR_MESSAGING_KAFKA_OFFSET]: Number(record.offset),
        'tidemark.service': service,
      },
    },
    parent,
  );
  return {
    span,
    context: trace.setSpan(parent, span),
    traceparent: span.isRecording() ? formatTraceparent(span) : record.headers['traceparent'],
  };
}

/**
 * `trace_id` and `span_id` for a log line about a record written outside its handler span (a dead letter, a
 * paused partition): the instrumentation's process span of the record when tracing is on, else the trace
 * context the record carried. Empty when there is neither.
 */
export function recordTraceFields(record: InputRecord): { trace_id?: string; span_id?: string } {
  const spanContext = processSpanOf(record)?.spanContext() ?? producerContext(record);
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/** Starts a root span for periodic work (ticks), which has no input record to continue. */
export function startTickSpan(service: string, partition: number): RecordSpan {
  const span = tracer.startSpan(
    'tick',
    { attributes: { 'tidemark.service': service, 'tidemark.partition': partition } },
    ROOT_CONTEXT,
  );
  return {
    span,
    context: trace.setSpan(ROOT_CONTEXT, span),
    traceparent: span.isRecording() ? formatTraceparent(span) : undefined,
  };
}

/** Runs fn with ctx as the active context (so logs and instrumentations see the span). */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
