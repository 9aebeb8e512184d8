import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { createEnvelopeParser, parseEnvelope } from './envelope.js';
import { EnvelopeError } from './errors.js';

const upsert = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'connector/confluence-prod',
  type: 'content.upserted',
  time: '2026-11-02T10:00:00Z',
  subject: 'confluence/P-1',
  data: {
    system: 'confluence',
    docId: 'P-1',
    revision: 3,
    contentClass: 'policy',
    title: 'Travel policy',
    owner: 'ana@example.com',
    effectiveDate: '2026-01-01',
    reviewedAt: null,
  },
};

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const withData = (patch: Record<string, unknown>) => ({
  ...upsert,
  data: { ...upsert.data, ...patch },
});

describe('parseEnvelope', () => {
  it('accepts a structured-mode event and keeps unknown extra fields', () => {
    const event = parseEnvelope({
      value: json({ ...upsert, extra: 1, data: { ...upsert.data, x: 2 } }),
    });
    expect(event.type).toBe('content.upserted');
    expect(event.data).toMatchObject({ docId: 'P-1', revision: 3, x: 2 });
    expect((event as unknown as Record<string, unknown>)['extra']).toBe(1);
  });

  it('accepts binary mode: ce_* headers and data as the value', () => {
    const { data, ...attrs } = upsert;
    const headers = Object.fromEntries(
      Object.entries(attrs).map(([k, v]) => [`ce_${k}`, String(v)]),
    );
    const event = parseEnvelope({ value: json(data), headers });
    expect(event).toMatchObject({
      id: 'evt-1',
      type: 'content.upserted',
      subject: 'confluence/P-1',
    });
    expect(event.data).toEqual(data);
  });

  it.each([
    [
      'not JSON',
      Buffer.from('{"nope'),
      'invalid-json',
      /^record is not valid JSON \(at position 6\)$/,
    ],
    ['a tombstone', null, 'invalid-json', /^record has no value \(tombstone\)/],
    [
      'an array',
      json([1]),
      'not-cloudevent',
      /^record is not a CloudEvent: expected a JSON object$/,
    ],
    [
      'wrong specversion',
      json({ ...upsert, specversion: '0.3' }),
      'not-cloudevent',
      /^record is not a CloudEvents 1.0 event: specversion must be "1.0"$/,
    ],
    [
      'unknown type',
      json({ ...upsert, type: 'content.moved' }),
      'unknown-type',
      /^unknown event type "content.moved"$/,
    ],
    [
      'negative revision',
      json(withData({ revision: -1 })),
      'schema',
      /^content.upserted event breaks its schema: data.revision must be >= 0$/,
    ],
    [
      'missing title',
      json({ ...upsert, data: { ...upsert.data, title: undefined } }),
      'schema',
      /^content.upserted event breaks its schema: data.title is required$/,
    ],
    [
      'bad time',
      json({ ...upsert, time: 'yesterday' }),
      'schema',
      /^content.upserted event breaks its schema: time must match format "date-time"$/,
    ],
    [
      'a __proto__ key',
      Buffer.from(
        JSON.stringify(upsert).replace('"data":{', '"data":{"__proto__":{"admin":true},'),
      ),
      'forbidden-key',
      /^record contains the forbidden key "__proto__"$/,
    ],
    [
      'a constructor.prototype key',
      json(withData({ attributes: { constructor: { prototype: { x: 1 } } } })),
      'forbidden-key',
      /^record contains the forbidden key "constructor"$/,
    ],
  ])('rejects %s', (_name, value, reason, message) => {
    let caught: unknown;
    try {
      parseEnvelope({ value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvelopeError);
    expect((caught as EnvelopeError).reason).toBe(reason);
    expect((caught as EnvelopeError).message).toMatch(message);
    expect((caught as EnvelopeError).retriable).toBe(false);
  });

  it('allows a plain "constructor" key that holds no prototype', () => {
    const event = parseEnvelope({ value: json(withData({ attributes: { constructor: 'ACME' } })) });
    expect(event.data).toMatchObject({ attributes: { constructor: 'ACME' } });
  });

  it('enforces the size and depth limits', () => {
    const parser = createEnvelopeParser({ maxBytes: 200, maxDepth: 4 });
    expect(() => parser.parse({ value: json(upsert) })).toThrow(
      /^record is \d+ bytes, over the 200-byte limit$/,
    );
    const deep = createEnvelopeParser({ maxDepth: 4 });
    expect(() =>
      deep.parse({ value: json(withData({ attributes: { a: { b: { c: 1 } } } })) }),
    ).toThrow('record nests deeper than 4 levels');
  });

  it('requires finishedAt on a finished connector run but not on a started one', () => {
    const run = (status: string, extra: Record<string, unknown> = {}) =>
      json({
        ...upsert,
        type: 'connector.run',
        subject: undefined,
        data: {
          connector: 'c1',
          system: 'confluence',
          runId: 'r1',
          status,
          startedAt: upsert.time,
          ...extra,
        },
      });
    expect(parseEnvelope({ value: run('started') }).type).toBe('connector.run');
    expect(() => parseEnvelope({ value: run('succeeded') })).toThrow(
      'connector.run event breaks its schema: data.finishedAt is required',
    );
    expect(parseEnvelope({ value: run('failed', { finishedAt: upsert.time }) }).type).toBe(
      'connector.run',
    );
  });

  // Optional means nullable (issue 13): null in an optional field is no schema break; it reads as absent, and the
  // contracts (required, allowed, null rates) decide whether that is acceptable.
  const deletion = {
    ...upsert,
    type: 'content.deleted',
    data: { system: 'c', docId: 'd', revision: 1 },
  };
  const index = {
    ...upsert,
    type: 'index.upserted',
    data: { connector: 'c1', system: 'c', docId: 'd', revision: 1, sourceTime: upsert.time },
  };
  const runEvent = {
    ...upsert,
    type: 'connector.run',
    data: { connector: 'c1', system: 'c', runId: 'r1', status: 'started', startedAt: upsert.time },
  };
  it.each([
    ['content.upserted', upsert, 'deprecated'],
    ['content.upserted', upsert, 'classification'],
    ['content.upserted', upsert, 'language'],
    ['content.upserted', upsert, 'sizeBytes'],
    ['content.upserted', upsert, 'aclHash'],
    ['content.upserted', upsert, 'attributes'],
    ['content.deleted', deletion, 'contentClass'],
    ['content.deleted', deletion, 'classification'],
    ['content.deleted', deletion, 'aclHash'],
    ['content.deleted', deletion, 'attributes'],
    ['index.upserted', index, 'aclHash'],
    ['index.removed', { ...index, type: 'index.removed' }, 'aclHash'],
    ['connector.run', runEvent, 'finishedAt'],
    ['connector.run', runEvent, 'itemsSeen'],
    ['connector.run', runEvent, 'itemsFailed'],
    ['connector.run', runEvent, 'error'],
  ])('accepts %s with data.%s null, and hands it on as absent', (_type, base, field) => {
    const event = parseEnvelope({
      value: json({ ...base, data: { ...base.data, [field]: null } }),
    });
    expect(event.data).toEqual(base.data);
    expect(field in event.data).toBe(false);
  });

  it('keeps null where it was always allowed (owner, effectiveDate, reviewedAt, supersededBy)', () => {
    const patch = { owner: null, effectiveDate: null, reviewedAt: null, supersededBy: null };
    expect(parseEnvelope({ value: json(withData(patch)) }).data).toMatchObject(patch);
  });

  it.each([
    ['a required field', { title: null }, 'data.title must be string'],
    ['a wrong type', { language: 7 }, 'data.language must be string'],
  ])('still rejects null in %s and wrong types in optional ones', (_name, patch, message) => {
    expect(() => parseEnvelope({ value: json(withData(patch)) })).toThrow(
      `content.upserted event breaks its schema: ${message}`,
    );
  });

  it('a finished connector run with finishedAt null breaks its schema', () => {
    const run = { ...runEvent, data: { ...runEvent.data, status: 'succeeded', finishedAt: null } };
    expect(() => parseEnvelope({ value: json(run) })).toThrow(
      'connector.run event breaks its schema: data.finishedAt must be string',
    );
  });

  it('binary mode reads a null optional field as absent too', () => {
    const { data, ...attrs } = upsert;
    const headers = Object.fromEntries(
      Object.entries(attrs).map(([k, v]) => [`ce_${k}`, String(v)]),
    );
    const event = parseEnvelope({ value: json({ ...data, language: null }), headers });
    expect(event.data).toEqual(data);
  });

  it('rejects an inventory chunk index outside its chunk count', () => {
    const chunk = (chunk: number) =>
      json({
        ...upsert,
        type: 'inventory.snapshot',
        data: {
          system: 'gdrive',
          side: 'source',
          snapshotId: 's1',
          chunk,
          chunks: 2,
          docIds: ['a'],
        },
      });
    expect(parseEnvelope({ value: chunk(1) }).type).toBe('inventory.snapshot');
    expect(() => parseEnvelope({ value: chunk(2) })).toThrow('data.chunk must be < data.chunks');
  });
});

// One parse per record in an in-process host: replay hands the same record object to every service reading its
// topic, and they share the first parse's event — sound only because the event is frozen all the way down.
describe('shared decoding', () => {
  const reviewed = withData({ reviewedAt: '2026-10-01T00:00:00Z', attributes: { labels: ['kb'] } });

  it('hands the same frozen event to every parser of one record object', () => {
    const record = { value: json(reviewed), headers: {} };
    const first = parseEnvelope(record);
    const contractChecker = createEnvelopeParser({ extraTypes: { 'x.partial': Type.Object({}) } });
    expect(contractChecker.parse(record)).toBe(first);
    expect(parseEnvelope(record)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.data)).toBe(true);
    const attributes = (first.data as unknown as { attributes: { labels: string[] } }).attributes;
    expect(Object.isFrozen(attributes.labels)).toBe(true);
  });

  it.each([
    ['set a field', (e: Record<string, unknown>) => (e['type'] = 'content.deleted')],
    [
      'delete a data field',
      (e: Record<string, unknown>) => delete (e['data'] as Record<string, unknown>)['owner'],
    ],
    [
      'push to a nested array',
      (e: Record<string, unknown>) =>
        (e['data'] as { attributes: { labels: string[] } }).attributes.labels.push('x'),
    ],
  ])(
    'a handler that tries to %s gets a TypeError, and the next service sees the event unchanged',
    (_name, change) => {
      const record = { value: json(reviewed), headers: {} };
      const event = parseEnvelope(record) as unknown as Record<string, unknown>;
      expect(() => change(event)).toThrow(TypeError);
      expect(parseEnvelope(record)).toEqual(JSON.parse(json(reviewed).toString()));
    },
  );

  it('parses afresh for another record object, a changed value or headers, or other limits', () => {
    const value = json(reviewed);
    const record: { value: Buffer; headers: Record<string, string> } = { value, headers: {} };
    const first = parseEnvelope(record);
    expect(parseEnvelope({ value, headers: record.headers })).not.toBe(first);
    const again = { value, headers: {} };
    const second = parseEnvelope(again);
    again.value = json(withData({ title: 'Renamed' }));
    expect(parseEnvelope(again)).not.toBe(second);
    expect(parseEnvelope(again).data).toMatchObject({ title: 'Renamed' });
    const third = { value, headers: {} };
    parseEnvelope(third);
    expect(() => createEnvelopeParser({ maxBytes: 100 }).parse(third)).toThrow(
      /over the 100-byte limit/,
    );
  });

  it('validates again when a parser checks the type with another schema', () => {
    const record = { value: json(reviewed), headers: {} };
    parseEnvelope(record);
    const strict = createEnvelopeParser({
      extraTypes: {
        'content.upserted': Type.Object({ data: Type.Object({ title: Type.Number() }) }),
      },
    });
    expect(() => strict.parse(record)).toThrow(
      'content.upserted event breaks its schema: data.title must be number',
    );
  });
});
