import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { InputRecord } from '@tidemark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rememberProcessSpan } from './otel-handle.js';
import { recordTraceFields, startRecordSpan } from './tracing.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const rec = (headers: Record<string, string>): InputRecord => ({
  topic: 'in',
  partition: 1,
  offset: '5',
  timestamp: '0',
  key: null,
  value: null,
  headers,
});

describe('startRecordSpan', () => {
  it('without an SDK passes the input traceparent through unchanged', () => {
    const s = startRecordSpan(rec({ traceparent: `00-${TRACE}-${PARENT}-01` }), 'svc');
    expect(s.span.isRecording()).toBe(false);
    expect(s.traceparent).toBe(`00-${TRACE}-${PARENT}-01`);
    expect(startRecordSpan(rec({}), 'svc').traceparent).toBeUndefined();
  });

  describe('with an SDK', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    beforeAll(() => trace.setGlobalTracerProvider(provider));
    afterAll(() => trace.disable());

    it("without the instrumentation: a consumer span, child of the record's context, outputs get its traceparent", () => {
      exporter.reset();
      const s = startRecordSpan(rec({ traceparent: `00-${TRACE}-${PARENT}-01` }), 'svc');
      s.span.end();
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('handle in');
      expect(span?.kind).toBe(SpanKind.CONSUMER);
      expect(span?.spanContext().traceId).toBe(TRACE);
      expect(span?.parentSpanContext?.spanId).toBe(PARENT);
      expect(span?.links.map((l) => l.context.spanId)).toEqual([PARENT]);
      expect(span?.attributes).toEqual({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'handle',
        'messaging.destination.name': 'in',
        'messaging.destination.partition.id': '1',
        'messaging.kafka.offset': 5,
        'tidemark.service': 'svc',
      });
      expect(s.traceparent).toBe(`00-${TRACE}-${span!.spanContext().spanId}-01`);
    });

    it("with the instrumentation's process span: its child (not a second process span), linked to the producer", () => {
      exporter.reset();
      const tracer = provider.getTracer('kafkajs-instrumentation-stand-in');
      const poll = tracer.startSpan('poll in');
      const processSpan = tracer.startSpan('process in', {}, trace.setSpan(ROOT_CONTEXT, poll));
      const record = rec({ traceparent: `00-${TRACE}-${PARENT}-01` });
      rememberProcessSpan(record, processSpan);
      const s = startRecordSpan(record, 'svc');
      s.span.end();
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('handle in');
      expect(span?.kind).toBe(SpanKind.INTERNAL);
      expect(span?.spanContext().traceId).toBe(poll.spanContext().traceId);
      expect(span?.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
      expect(span?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
        [TRACE, PARENT],
      ]);
      expect(s.traceparent).toBe(
        `00-${poll.spanContext().traceId}-${span!.spanContext().spanId}-01`,
      );
      // Log lines about the record outside its handler span carry the process span's trace.
      expect(recordTraceFields(record)).toEqual({
        trace_id: poll.spanContext().traceId,
        span_id: processSpan.spanContext().spanId,
      });
    });

    it('starts a new trace for a record without trace context', () => {
      const s = startRecordSpan(rec({ traceparent: 'garbage' }), 'svc');
      expect(s.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(s.traceparent).not.toContain(TRACE);
    });
  });
});

describe('recordTraceFields', () => {
  it.each<[string, Record<string, string>, object]>([
    [
      'the context the record carried',
      { traceparent: `00-${TRACE}-${PARENT}-01` },
      { trace_id: TRACE, span_id: PARENT },
    ],
    ['nothing without trace context', {}, {}],
    [
      'nothing for an invalid traceparent',
      { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` },
      {},
    ],
  ])('without tracing: %s', (_name, headers, fields) => {
    expect(recordTraceFields(rec(headers))).toEqual(fields);
  });
});
