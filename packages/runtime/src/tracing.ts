import { ProxyTracerProvider, ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Context, Span, TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { InputRecord, RecordHeaders } from '@tidemark/core';

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

/** Starts the processing span of one input record, parented to the context in its headers. */
export function startRecordSpan(record: InputRecord, service: string): RecordSpan {
  const incoming = record.headers['traceparent'];
  const parent =
    incoming === undefined ? ROOT_CONTEXT : w3c.extract(ROOT_CONTEXT, record.headers, headerGetter);
  const span = tracer.startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': record.topic,
        'messaging.destination.partition.id': String(record.partition),
        'messaging.kafka.offset': Number(record.offset),
        'tidemark.service': service,
      },
    },
    parent,
  );
  return {
    span,
    context: trace.setSpan(parent, span),
    traceparent: span.isRecording() ? formatTraceparent(span) : incoming,
  };
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
