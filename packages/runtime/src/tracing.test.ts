import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { InputRecord } from '@tidemark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordSpan } from './tracing.js';

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

    it("starts a consumer span, child of the record's context, and gives outputs its own traceparent", () => {
      const s = startRecordSpan(rec({ traceparent: `00-${TRACE}-${PARENT}-01` }), 'svc');
      s.span.end();
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('process in');
      expect(span?.spanContext().traceId).toBe(TRACE);
      expect(span?.parentSpanContext?.spanId).toBe(PARENT);
      expect(span?.attributes).toMatchObject({
        'messaging.destination.name': 'in',
        'messaging.kafka.offset': 5,
        'tidemark.service': 'svc',
      });
      expect(s.traceparent).toBe(`00-${TRACE}-${span!.spanContext().spanId}-01`);
    });

    it('starts a new trace for a record without trace context', () => {
      const s = startRecordSpan(rec({ traceparent: 'garbage' }), 'svc');
      expect(s.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(s.traceparent).not.toContain(TRACE);
    });
  });
});
