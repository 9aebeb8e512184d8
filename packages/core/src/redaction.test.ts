import { describe, expect, it } from 'vitest';
import { EnvelopeError, safeErrorText } from './errors.js';
import { parseEnvelope } from './envelope.js';
import {
  DLQ_HEADERS,
  DLQ_VALUE_WITHHELD_HEADER,
  declaredClassification,
  dlqRecord,
  envelopeInvalidFinding,
} from './outputs.js';
import type { InputRecord } from './records.js';
import { DEFAULT_TOPICS } from './topics.js';

const SECRET = 'Project Nightjar merger terms';

const record = (value: string, headers: Record<string, string> = {}): InputRecord => ({
  topic: DEFAULT_TOPICS.contentChanges,
  partition: 1,
  offset: '7',
  timestamp: '1764748800000',
  key: 'wiki/P1',
  value: Buffer.from(value),
  headers,
});

const restricted = JSON.stringify({
  specversion: '1.0',
  type: 'content.upserted',
  data: { system: 'wiki', docId: 'P1', title: SECRET, classification: 'restricted', revision: 'x' },
});

function errorOf(value: string): unknown {
  try {
    parseEnvelope(record(value));
  } catch (error) {
    return error;
  }
  throw new Error('expected a parse error');
}

describe('error text never quotes the record', () => {
  it.each([
    [
      'broken JSON',
      `{"title": "${SECRET}" oops}`,
      /^record is not valid JSON \(at position \d+\)$/,
    ],
    [
      'a wrong specversion',
      JSON.stringify({ specversion: SECRET, type: 'content.upserted' }),
      /^record is not a CloudEvents 1\.0 event: specversion must be "1\.0"$/,
    ],
    [
      'an unknown type that is not an identifier',
      JSON.stringify({ specversion: '1.0', type: SECRET }),
      /^unknown event type \(not an identifier\)$/,
    ],
    ['a schema break', restricted, /^content\.upserted event breaks its schema: /],
  ])('%s', (_name, value, message) => {
    const error = errorOf(value);
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(safeErrorText(error)).toMatch(message);
    expect(safeErrorText(error)).not.toContain('Nightjar');
    expect(JSON.stringify((error as EnvelopeError).context)).not.toContain('Nightjar');
  });

  it("withholds the message of an error that is not Tidemark's own", () => {
    expect(safeErrorText(new SyntaxError(`Unexpected token in "${SECRET}"`))).toBe(
      'SyntaxError (its message is withheld: it may quote the record)',
    );
    expect(safeErrorText('text')).toBe('string (its message is withheld: it may quote the record)');
  });
});

describe('dlqRecord of a restricted document', () => {
  const error = errorOf(restricted);

  it.each([
    ['withhold', null, { [DLQ_VALUE_WITHHELD_HEADER]: 'classification restricted' }],
    ['keep', Buffer.from(restricted), {}],
  ] as const)('policy %s', (policy, value, extra) => {
    const dlq = dlqRecord({
      record: record(restricted),
      error,
      service: 'svc',
      topics: DEFAULT_TOPICS,
      restricted: policy,
    });
    expect(dlq.key).toBe('wiki/P1');
    expect(dlq.value).toEqual(value);
    expect(dlq.headers).toMatchObject({
      [DLQ_HEADERS.offset]: '7',
      [DLQ_HEADERS.errorClass]: 'EnvelopeError',
      ...extra,
    });
    expect(JSON.stringify(dlq.headers)).not.toContain('Nightjar');
  });

  it('keeps the value of a document not known to be restricted (withhold is the default)', () => {
    const internal = restricted.replace('"restricted"', '"internal"');
    expect(
      dlqRecord({ record: record(internal), error, service: 's', topics: DEFAULT_TOPICS }).value,
    ).toEqual(Buffer.from(internal));
    expect(
      dlqRecord({ record: record(restricted), error, service: 's', topics: DEFAULT_TOPICS }).value,
    ).toBeNull();
  });

  it('the envelope.invalid finding carries no fragment either', () => {
    const finding = envelopeInvalidFinding({
      record: record(`{"title": "${SECRET}"`),
      error: errorOf(`{"title": "${SECRET}"`),
      service: 'svc',
      now: 0,
    });
    expect(JSON.stringify(finding)).not.toContain('Nightjar');
  });
});

describe('declaredClassification', () => {
  it.each([
    [record(restricted), 'restricted'],
    [record('{"classification":"restricted"}', { ce_specversion: '1.0' }), 'restricted'],
    [record('{"classification":"restricted"}'), undefined],
    [record('not json'), undefined],
    [record('{"data":{"classification":7}}'), undefined],
  ])('%#', (input, expected) => {
    expect(declaredClassification(input)).toBe(expected);
  });
});
