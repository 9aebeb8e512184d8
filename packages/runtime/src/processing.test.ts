import {
  DLQ_HEADERS,
  DEFAULT_TOPICS,
  DependencyUnavailableError,
  TidemarkError,
  KeyValueState,
  ManualClock,
  noopMetrics,
} from '@tidemark/core';
import type { AnyCloudEvent, InputRecord, OutputRecord, ServiceDefinition } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import {
  FutureEventError,
  RecordTimeBudgetError,
  changelogRecords,
  handleRecord,
} from './processing.js';
import type { HandlingContext } from './processing.js';
import { OFFSETS_KEY } from './restore.js';

const topics = { ...DEFAULT_TOPICS };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function record(value: string | null, headers: Record<string, string> = {}): InputRecord {
  return {
    topic: 'content.changes.v1',
    partition: 2,
    offset: '41',
    timestamp: '1767225600000',
    key: 'wiki/doc-1',
    value: value === null ? null : Buffer.from(value),
    headers,
  };
}

const upsert = JSON.stringify({
  specversion: '1.0',
  id: 'e1',
  source: 'connector/wiki',
  type: 'content.upserted',
  time: '2026-01-01T00:00:00Z',
  data: { system: 'wiki', docId: 'doc-1', revision: 3, contentClass: 'policy', title: 'T' },
});

type Handle = ServiceDefinition<KeyValueState<number>, AnyCloudEvent>['handle'];

function context(
  handle: Handle,
  extra: Partial<ServiceDefinition<KeyValueState<number>, AnyCloudEvent>> = {},
) {
  const definition: ServiceDefinition<KeyValueState<number>, AnyCloudEvent> = {
    name: 'unit',
    inputs: ['content.changes.v1'],
    createState: () => new KeyValueState<number>(),
    handle,
    ...extra,
  };
  const h: HandlingContext<KeyValueState<number>, AnyCloudEvent> = {
    definition,
    topics,
    clock: new ManualClock(Date.UTC(2026, 0, 2)),
    metrics: noopMetrics,
  };
  return h;
}

const echo: Handle = (state, event, rec, ctx) => {
  state.set(rec.key!, (state.get(rec.key!) ?? 0) + 1);
  return [{ topic: 'out', key: rec.key, value: `${event.id}@${ctx.now}/${ctx.partition}` }];
};

describe('handleRecord', () => {
  it('decodes with the envelope parser, hands the handler state, event and ctx, and returns its outputs', async () => {
    const state = new KeyValueState<number>();
    const result = await handleRecord(context(echo), state, record(upsert));
    expect(result).toEqual({
      outputs: [{ topic: 'out', key: 'wiki/doc-1', value: `e1@${Date.UTC(2026, 0, 2)}/2` }],
    });
    expect(state.get('wiki/doc-1')).toBe(1);
  });

  it("gives outputs without a traceparent the input's, and keeps one the handler set", async () => {
    const own = '00-11111111111111111111111111111111-2222222222222222-01';
    const handle: Handle = (_s, _e, _r, ctx) => [
      { topic: 'a', key: null, value: 'x' },
      { topic: 'b', key: null, value: 'y', headers: { traceparent: own, extra: '1' } },
      { topic: 'c', key: null, value: ctx.traceparent ?? 'none' },
    ];
    const { outputs } = await handleRecord(
      context(handle),
      new KeyValueState(),
      record(upsert, { traceparent: TRACEPARENT }),
    );
    expect(outputs).toEqual([
      { topic: 'a', key: null, value: 'x', headers: { traceparent: TRACEPARENT } },
      { topic: 'b', key: null, value: 'y', headers: { traceparent: own, extra: '1' } },
      { topic: 'c', key: null, value: TRACEPARENT, headers: { traceparent: TRACEPARENT } },
    ]);
    const untraced = await handleRecord(context(handle), new KeyValueState(), record(upsert));
    expect(untraced.outputs[0]).toEqual({ topic: 'a', key: null, value: 'x' });
  });

  it('waits for async decoders and handlers', async () => {
    const h = context(
      async (_s, event) =>
        [
          { topic: 'out', key: null, value: String((event as unknown as { n: number }).n) },
        ] as OutputRecord[],
      {
        decode: async (r) => ({ n: r.value!.length }) as unknown as AnyCloudEvent,
      },
    );
    expect((await handleRecord(h, new KeyValueState(), record('12345'))).outputs).toEqual([
      { topic: 'out', key: null, value: '5' },
    ]);
  });

  it.each([
    [
      'a decoder whose dependency is unavailable',
      {
        decode: async () => {
          throw new DependencyUnavailableError(
            'schema-registry',
            'Schema Registry answered HTTP 503',
          );
        },
      },
      echo,
    ],
    [
      'a handler throwing a retriable TidemarkError',
      {},
      (() => {
        throw new TidemarkError('sink busy', { retriable: true });
      }) as Handle,
    ],
  ])('returns %s as retry: no output, no dead letter, no finding', async (_, extra, handle) => {
    const result = await handleRecord(context(handle, extra), new KeyValueState(), record(upsert));
    expect(result.outputs).toEqual([]);
    expect(result.deadLetter).toBeUndefined();
    expect(result.retry).toBeInstanceOf(TidemarkError);
    expect(result.retry?.retriable).toBe(true);
  });

  const now = Date.UTC(2026, 0, 2);
  const hostLimit = { reference: now, referenceName: 'host clock', skewMs: 3_600_000 };
  it.each([
    {
      case: 'a record timestamp in 2099',
      input: { ...record(upsert), timestamp: String(Date.UTC(2099, 0, 1)) },
      message:
        /^record timestamp 2099-01-01T00:00:00.000Z is \d+d ahead of the host clock \(2026-01-02T00:00:00.000Z\), more than MAX_FUTURE_SKEW=1h$/,
    },
    {
      case: 'an event time 2h ahead',
      input: { ...record(upsert.replace('2026-01-01T00:00:00Z', '2026-01-02T02:00:00Z')) },
      message:
        /^event time 2026-01-02T02:00:00.000Z is 2h ahead of the host clock \(2026-01-02T00:00:00.000Z\), more than MAX_FUTURE_SKEW=1h$/,
    },
  ])('dead-letters $case (FutureEventError), never handling it', async ({ input, message }) => {
    const state = new KeyValueState<number>();
    const result = await handleRecord(context(echo), state, input, hostLimit);
    expect(result.deadLetter).toBeInstanceOf(FutureEventError);
    expect((result.deadLetter as Error).message).toMatch(message);
    expect(result.outputs.map((o) => o.topic)).toEqual([topics.dlq, topics.findings]);
    expect(state.size()).toBe(0);
  });

  it('handles a record within the allowed skew', async () => {
    const input = { ...record(upsert.replace('2026-01-01T00:00:00Z', '2026-01-02T00:59:00Z')) };
    const result = await handleRecord(context(echo), new KeyValueState(), input, hostLimit);
    expect(result.deadLetter).toBeUndefined();
    expect(result.outputs).toHaveLength(1);
  });

  it('dead-letters an async record that outlasts the time budget, and ignores what it produces later', async () => {
    let finish!: () => void;
    const late = new Promise<void>((resolve) => (finish = resolve));
    const h = context(async () => {
      await late;
      return [{ topic: 'out', key: null, value: 'too late' }];
    });
    const result = await handleRecord(
      { ...h, recordBudgetMs: 20 },
      new KeyValueState(),
      record(upsert),
    );
    finish();
    expect(result.deadLetter).toBeInstanceOf(RecordTimeBudgetError);
    expect((result.deadLetter as Error).message).toBe(
      'handling the record took longer than RECORD_TIME_BUDGET=20ms',
    );
    expect(result.outputs.map((o) => o.topic)).toEqual([topics.dlq, topics.findings]);
  });

  it('lets an async record within the time budget through', async () => {
    const h = context(async (state, event, rec, ctx) => echo(state, event, rec, ctx));
    const result = await handleRecord(
      { ...h, recordBudgetMs: 5_000 },
      new KeyValueState(),
      record(upsert),
    );
    expect(result.deadLetter).toBeUndefined();
    expect(result.outputs).toHaveLength(1);
  });

  it('dead-letters a TidemarkError that is not retriable', async () => {
    const handle = (() => {
      throw new TidemarkError('bad', { retriable: false });
    }) as Handle;
    const result = await handleRecord(context(handle), new KeyValueState(), record(upsert));
    expect(result.retry).toBeUndefined();
    expect(result.deadLetter).toBeInstanceOf(TidemarkError);
  });

  it.each([
    ['invalid JSON', record('{nope'), echo, 'EnvelopeError', /^record is not valid JSON/],
    [
      'an unknown type',
      record(upsert.replace('content.upserted', 'content.exploded')),
      echo,
      'EnvelopeError',
      /^unknown event type "content\.exploded"$/,
    ],
    ['a tombstone', record(null), echo, 'EnvelopeError', /^record has no value \(tombstone\)/],
    [
      'a handler that throws',
      record(upsert),
      (() => {
        throw new RangeError('revision went backwards');
      }) as Handle,
      'RangeError',
      // Not Tidemark's own wording, so it could quote the record: only the class travels.
      /^RangeError \(its message is withheld: it may quote the record\)$/,
    ],
    [
      'a handler that returns no array',
      record(upsert),
      (() => 'nope') as unknown as Handle,
      'OutputRecordError',
      /^handler must return an array of output records$/,
    ],
    [
      'an output without a topic',
      record(upsert),
      (() => [{ key: null, value: 'x' }]) as unknown as Handle,
      'OutputRecordError',
      /^output record without a topic$/,
    ],
    [
      'an output whose value is a number',
      record(upsert),
      (() => [{ topic: 't', key: null, value: 7 }]) as unknown as Handle,
      'OutputRecordError',
      /^output record to t: value must be a string, Buffer or null$/,
    ],
  ])(
    'turns %s into a dead letter and an envelope.invalid finding',
    async (_, input, handle, errorClass, message) => {
      const state = new KeyValueState<number>();
      const result = await handleRecord(context(handle), state, {
        ...input,
        headers: { traceparent: TRACEPARENT, origin: 'x' },
      });
      expect(result.deadLetter).toBeInstanceOf(Error);
      expect(result.outputs).toHaveLength(2);
      const [dlq, finding] = result.outputs as [OutputRecord, OutputRecord];
      expect(dlq.topic).toBe(topics.dlq);
      expect(dlq.key).toBe('wiki/doc-1');
      expect(dlq.value).toBe(input.value);
      expect(dlq.headers).toMatchObject({
        origin: 'x',
        traceparent: TRACEPARENT,
        [DLQ_HEADERS.topic]: 'content.changes.v1',
        [DLQ_HEADERS.partition]: '2',
        [DLQ_HEADERS.offset]: '41',
        [DLQ_HEADERS.errorClass]: errorClass,
        [DLQ_HEADERS.service]: 'unit',
      });
      expect(dlq.headers?.[DLQ_HEADERS.errorMessage]).toMatch(message);
      expect(finding.topic).toBe(topics.findings);
      const event = JSON.parse(finding.value as string) as {
        type: string;
        source: string;
        data: { check: string; evidence: Record<string, unknown>; observedAt: string };
      };
      expect(event).toMatchObject({ type: 'tidemark.finding', source: 'tidemark/unit' });
      expect(event.data).toMatchObject({
        check: 'envelope.invalid',
        observedAt: '2026-01-02T00:00:00.000Z',
        evidence: { offset: '41', partition: 2, errorClass },
      });
      expect(finding.headers).toEqual({ traceparent: TRACEPARENT });
    },
  );
});

describe('changelogRecords', () => {
  const marker = new Map([
    ['content.changes.v1', '42'],
    ['sync.events.v1', '7'],
  ]);
  const changes = [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
  ];

  it('writes each change, then the input offsets marker under the reserved key, all in format 1 by default', () => {
    const headers = { 'tidemark-state-format': '1' };
    expect(changelogRecords('tidemark.unit.state', changes, marker)).toEqual([
      { topic: 'tidemark.unit.state', key: 'a', value: Buffer.from('1'), headers },
      { topic: 'tidemark.unit.state', key: 'b', value: null, headers },
      {
        topic: 'tidemark.unit.state',
        key: OFFSETS_KEY,
        value: '{"content.changes.v1":"42","sync.events.v1":"7"}',
        headers,
      },
    ]);
  });

  it("stamps the service's state format on every record, tombstones and the marker included", () => {
    expect(
      changelogRecords('tidemark.unit.state', changes, marker, 3).map(
        (r) => r.headers?.['tidemark-state-format'],
      ),
    ).toEqual(['3', '3', '3']);
  });
});
