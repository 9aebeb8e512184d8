import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, EnvelopeError, TidemarkError } from './errors.js';
import { FutureEventError, OutputRecordError, processRecord } from './handling.js';
import type { Handled, RecordProcessing, RecordTrace } from './handling.js';
import { DLQ_HEADERS } from './outputs.js';
import type { InputRecord, OutputRecord } from './records.js';
import { noopMetrics, type ServiceDefinition } from './service.js';
import { KeyValueState } from './state.js';
import { DEFAULT_TOPICS } from './topics.js';

class OverBudget extends TidemarkError {}

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const SPAN_TP = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
const NOW = Date.parse('2026-01-01T00:00:00Z');

const upsert = JSON.stringify({
  specversion: '1.0',
  id: 'e1',
  source: 'connector/wiki',
  type: 'content.upserted',
  time: '2026-01-01T00:00:00Z',
  data: { system: 'wiki', docId: 'doc-1', revision: 3, contentClass: 'policy', title: 'T' },
});

function record(value: string, headers: Record<string, string> = {}): InputRecord {
  return {
    topic: DEFAULT_TOPICS.contentChanges,
    partition: 1,
    offset: '7',
    timestamp: String(NOW),
    key: 'wiki/doc-1',
    value: Buffer.from(value),
    headers,
  };
}

type State = KeyValueState<number>;

function processing(
  handle: ServiceDefinition<State>['handle'],
  extra: Partial<RecordProcessing<State, unknown>> = {},
  definition: Partial<ServiceDefinition<State>> = {},
): RecordProcessing<State, unknown> {
  return {
    definition: {
      name: 'unit',
      inputs: [DEFAULT_TOPICS.contentChanges],
      createState: () => new KeyValueState<number>(),
      handle,
      ...definition,
    },
    topics: DEFAULT_TOPICS,
    metrics: noopMetrics,
    ...extra,
  };
}

const out = (headers?: Record<string, string>): OutputRecord => ({
  topic: 'out',
  key: 'k',
  value: 'v',
  ...(headers ? { headers } : {}),
});

async function run(
  p: RecordProcessing<State, unknown>,
  rec: InputRecord,
  checks = {},
): Promise<Handled> {
  return processRecord(p, new KeyValueState<number>(), rec, NOW, checks);
}

function deadLetterOf(handled: Handled): { errorClass?: string; message?: string; check?: string } {
  const dlq = handled.outputs.find((o) => o.topic === DEFAULT_TOPICS.dlq);
  const finding = handled.outputs.find((o) => o.topic === DEFAULT_TOPICS.findings);
  const data = finding ? (JSON.parse(String(finding.value)) as { data: { check: string } }) : null;
  return {
    ...(dlq?.headers?.[DLQ_HEADERS.errorClass]
      ? { errorClass: dlq.headers[DLQ_HEADERS.errorClass] }
      : {}),
    ...(dlq?.headers?.[DLQ_HEADERS.errorMessage]
      ? { message: dlq.headers[DLQ_HEADERS.errorMessage] }
      : {}),
    ...(data ? { check: data.data.check } : {}),
  };
}

describe('processRecord: the one host rule', () => {
  it('is synchronous for a synchronous service, and hands the handler now, partition and trace context', () => {
    let seen: unknown;
    const p = processing((_s, event, _r, ctx) => {
      seen = { type: (event as { type: string }).type, now: ctx.now, partition: ctx.partition };
      return [out(), out({ traceparent: 'kept' })];
    });
    const handled = processRecord(
      p,
      new KeyValueState<number>(),
      record(upsert, { traceparent: TP }),
      NOW,
    );
    expect(handled).not.toBeInstanceOf(Promise);
    expect(seen).toEqual({ type: 'content.upserted', now: NOW, partition: 1 });
    expect((handled as Handled).outputs.map((o) => o.headers?.['traceparent'])).toEqual([
      TP,
      'kept',
    ]);
  });

  it.each([
    {
      name: 'not JSON',
      value: '{',
      handle: () => [],
      errorClass: 'EnvelopeError',
      message: 'record is not valid JSON (at position 1)',
    },
    {
      name: 'a throwing handler',
      value: upsert,
      handle: () => {
        throw new EnvelopeError('schema', 'bad field');
      },
      errorClass: 'EnvelopeError',
      message: 'bad field',
    },
    {
      name: 'outputs that are not records',
      value: upsert,
      handle: () => [{ topic: '', key: null, value: null }],
      errorClass: 'OutputRecordError',
      message: 'output record without a topic',
    },
    {
      name: 'a value that is no string, Buffer or null',
      value: upsert,
      handle: () => [{ topic: 'out', key: null, value: 42 as unknown as string }],
      errorClass: 'OutputRecordError',
      message: 'output record to out: value must be a string, Buffer or null',
    },
  ])(
    'dead-letters $name with an envelope.invalid finding',
    async ({ value, handle, errorClass, message }) => {
      const handled = await run(
        processing(handle as ServiceDefinition<State>['handle']),
        record(value),
      );
      expect(handled.deadLetter).toBeDefined();
      expect(deadLetterOf(handled)).toEqual({ errorClass, message, check: 'envelope.invalid' });
    },
  );

  it('returns a retriable error as retry, or dead-letters it for a host that cannot retry', async () => {
    const outage = () => {
      throw new DependencyUnavailableError('schema-registry', 'registry unreachable');
    };
    const retried = await run(processing(outage), record(upsert));
    expect(retried.outputs).toEqual([]);
    expect(retried.retry).toBeInstanceOf(DependencyUnavailableError);
    const dead = await run(processing(outage, { retry: false }), record(upsert));
    expect(dead.retry).toBeUndefined();
    expect(deadLetterOf(dead).errorClass).toBe('DependencyUnavailableError');
  });

  it('dead-letters what the host rejects, and a record past MAX_FUTURE_SKEW, before decoding', async () => {
    let handled = 0;
    const p = processing(() => {
      handled++;
      return [];
    });
    const rejected = await run(p, record(upsert), {
      reject: new OutputRecordError('undecodable batch'),
    });
    expect(deadLetterOf(rejected).message).toBe('undecodable batch');
    const future = await run(p, record(upsert), {
      future: { reference: NOW - 7_200_000, referenceName: 'host clock', skewMs: 3_600_000 },
    });
    expect(future.deadLetter).toBeInstanceOf(FutureEventError);
    expect((future.deadLetter as Error).message).toBe(
      'record timestamp 2026-01-01T00:00:00.000Z is 2h ahead of the host clock (2025-12-31T22:00:00.000Z), more than MAX_FUTURE_SKEW=1h',
    );
    expect(handled).toBe(0);
  });

  it('runs decode and handle inside the trace, stamps its traceparent and ends it with the outcome', async () => {
    const ends: unknown[] = [];
    let inside = false;
    const trace = (): RecordTrace => ({
      traceparent: SPAN_TP,
      run: (fn) => {
        inside = true;
        try {
          return fn();
        } finally {
          inside = false;
        }
      },
      end: (failure) => ends.push(failure?.outcome ?? 'ok'),
    });
    const ok = await run(
      processing(
        () => {
          expect(inside).toBe(true);
          return [out()];
        },
        { trace },
      ),
      record(upsert, { traceparent: TP }),
    );
    expect(ok.outputs[0]?.headers?.['traceparent']).toBe(SPAN_TP);
    await run(
      processing(
        () => {
          throw new Error('boom');
        },
        { trace },
      ),
      record(upsert),
    );
    expect(ends).toEqual(['ok', 'dead-letter']);
  });

  it('waits for an asynchronous decoder and bounds it with the host budget', async () => {
    const slow = processing(
      () => [out()],
      {
        budget: (_pending, deadLetter) =>
          Promise.resolve(deadLetter(new OverBudget('over budget'))),
      },
      {
        decode: (r) =>
          new Promise((resolve) => setTimeout(() => resolve(JSON.parse(String(r.value))), 5)),
      },
    );
    const handled = await run(slow, record(upsert));
    expect(deadLetterOf(handled).message).toBe('over budget');
    const plain = processing(
      () => [out()],
      {},
      {
        decode: (r) => Promise.resolve(JSON.parse(String(r.value))),
      },
    );
    expect((await run(plain, record(upsert))).outputs).toEqual([out()]);
  });
});
