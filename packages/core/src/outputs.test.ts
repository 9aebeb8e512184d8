import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint } from './ids.js';
import {
  buildFinding,
  dlqRecord,
  outputDlqRecord,
  DLQ_HEADERS,
  envelopeInvalidFinding,
  findingFingerprint,
  findingRecord,
  ticketRecord,
  type Ticket,
} from './outputs.js';
import { EnvelopeError } from './errors.js';
import { KeyValueState } from './state.js';
import { resolveTopics } from './topics.js';
import type { InputRecord } from './records.js';

const topics = resolveTopics();
const base = {
  check: 'contract.required',
  status: 'firing' as const,
  severity: 'high' as const,
  subject: { system: 'confluence', docId: 'P-1', field: 'owner' },
  owner: { team: 'hr-content' },
  summary: 'Travel policy has no owner',
  evidence: { field: 'owner', observed: 'Travel policy draft', expected: 'non-empty' },
  observedAt: '2026-11-02T10:00:00.000Z',
};

describe('ids', () => {
  it('canonical JSON sorts keys at every level and skips undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    expect(fingerprint({ a: 1, b: 2 })).toBe(fingerprint({ b: 2, a: 1 }));
    expect(fingerprint({ a: 1 })).toMatch(/^[0-9a-f]{32}$/);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow('canonicalJson: non-finite number NaN');
  });
});

describe('buildFinding', () => {
  it('fingerprints by check and subject only', () => {
    const a = buildFinding(base);
    const b = buildFinding({
      ...base,
      status: 'resolved',
      summary: 'other',
      observedAt: '2027-01-01T00:00:00Z',
    });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).toBe(findingFingerprint('contract.required', base.subject));
    expect(
      buildFinding({ ...base, subject: { ...base.subject, field: 'title' } }).fingerprint,
    ).not.toBe(a.fingerprint);
  });

  it('keeps only ids for restricted documents', () => {
    const f = buildFinding({ ...base, classification: 'restricted' });
    expect(f.restricted).toBe(true);
    expect(f.summary).toBe(
      'contract.required on confluence/P-1 (restricted document: details withheld)',
    );
    expect(f.evidence).toEqual({ field: 'owner', expected: 'non-empty' });
    expect(JSON.stringify(f)).not.toContain('Travel policy');
  });

  it('bounds evidence arrays and strings', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `doc-${i}`);
    const f = buildFinding({ ...base, evidence: { sample: ids, note: 'x'.repeat(2000) } });
    expect(f.evidence['sample']).toHaveLength(20);
    expect(f.evidence['sampleTotal']).toBe(100);
    expect((f.evidence['note'] as string).length).toBe(513);
  });
});

describe('records', () => {
  it('a finding record is keyed by fingerprint with a deterministic id and the trace header', () => {
    const f = buildFinding({
      ...base,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const r1 = findingRecord(f, { service: 'contract-checker', topics });
    const r2 = findingRecord(buildFinding({ ...base, traceparent: f.traceparent! }), {
      service: 'contract-checker',
      topics,
    });
    expect(r1.topic).toBe('dq.findings.v1');
    expect(r1.key).toBe(f.fingerprint);
    expect(r1.value).toBe(r2.value);
    expect(r1.headers).toEqual({ traceparent: f.traceparent });
    const event = JSON.parse(r1.value as string);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'tidemark.finding',
      source: 'tidemark/contract-checker',
      subject: 'confluence/P-1',
      time: base.observedAt,
      data: { check: 'contract.required', fingerprint: f.fingerprint },
    });
  });

  it('a ticket record id changes with the version only', () => {
    const ticket: Ticket = {
      ticketKey: 'k1',
      action: 'open',
      version: 1,
      queue: 'stewards',
      assignee: 'ana@example.com',
      priority: 'P3',
      title: '12 policies past their review clock',
      body: '…',
      items: [],
      itemCount: 12,
      alerts: [],
    };
    const id = (t: Ticket, at: number) =>
      JSON.parse(ticketRecord(t, at, { service: 's', topics }).value as string).id;
    expect(id(ticket, 1)).toBe(id(ticket, 2));
    expect(id({ ...ticket, action: 'update', version: 2 }, 1)).not.toBe(id(ticket, 1));
  });

  it('a dead letter keeps the original bytes, key and headers and adds the dlq headers', () => {
    const record: InputRecord = {
      topic: 'content.changes.v1',
      partition: 2,
      offset: '41',
      timestamp: '1700000000000',
      key: 'confluence/P-1',
      value: Buffer.from('{"nope'),
      headers: { traceparent: 'tp', 'x-origin': 'a' },
    };
    const error = new EnvelopeError('invalid-json', 'record is not valid JSON: boom');
    const dlq = dlqRecord({ record, error, service: 'contract-checker', topics });
    expect(dlq.topic).toBe('dq.dlq.v1');
    expect(dlq.key).toBe('confluence/P-1');
    expect(dlq.value).toBe(record.value);
    expect(dlq.headers).toEqual({
      traceparent: 'tp',
      'x-origin': 'a',
      [DLQ_HEADERS.topic]: 'content.changes.v1',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '41',
      [DLQ_HEADERS.timestamp]: '1700000000000',
      [DLQ_HEADERS.errorClass]: 'EnvelopeError',
      [DLQ_HEADERS.errorMessage]: 'record is not valid JSON: boom',
      [DLQ_HEADERS.service]: 'contract-checker',
    });
    const finding = envelopeInvalidFinding({ record, error, service: 'contract-checker', now: 0 });
    expect(finding).toMatchObject({
      check: 'envelope.invalid',
      subject: { system: 'confluence', feature: 'contract-checker:content.changes.v1' },
      evidence: { offset: '41', errorClass: 'EnvelopeError' },
      traceparent: 'tp',
      observedAt: '1970-01-01T00:00:00.000Z',
      // Expires after the quiet period (default 1h) unless a later invalid record refreshes it.
      expiresAt: '1970-01-01T01:00:00.000Z',
    });
    const quick = envelopeInvalidFinding({
      record,
      error,
      service: 'contract-checker',
      now: 0,
      quietMs: 10 * 60_000,
    });
    expect(quick.expiresAt).toBe('1970-01-01T00:10:00.000Z');
    expect(quick.fingerprint).toBe(finding.fingerprint);
  });
});

describe('outputDlqRecord', () => {
  const error = new Error('broker: MESSAGE_TOO_LARGE');
  it.each([
    {
      case: 'a small output is copied whole with the topic it was meant for',
      output: { topic: 'dq.alerts.v1', key: 'k', value: 'v'.repeat(10), headers: { a: '1' } },
      value: 'v'.repeat(10),
      extra: { [DLQ_HEADERS.outputTopic]: 'dq.alerts.v1' },
    },
    {
      case: 'a large output is cut to fit and marked truncated with its original size',
      output: { topic: 'dq.alerts.v1', key: 'k', value: 'v'.repeat(5000), headers: { a: '1' } },
      value: 'v'.repeat(1345), // 2000 − 512 framing − 1 key − 142 header bytes
      extra: {
        [DLQ_HEADERS.outputTopic]: 'dq.alerts.v1',
        [DLQ_HEADERS.truncated]: 'true',
        [DLQ_HEADERS.originalBytes]: '5000',
      },
    },
    {
      case: 'a DLQ copy keeps its input coordinates and names no output topic',
      output: {
        topic: 'dq.dlq.v1',
        key: null,
        value: 'x',
        headers: { a: '1', [DLQ_HEADERS.offset]: '7' },
      },
      value: 'x',
      extra: { [DLQ_HEADERS.offset]: '7' },
    },
  ])('$case', ({ output, value, extra }) => {
    const dlq = outputDlqRecord({ output, error, service: 'svc', topics, maxBytes: 2000 });
    expect(dlq.topic).toBe('dq.dlq.v1');
    expect(dlq.key).toBe(output.key);
    expect(dlq.value?.toString()).toBe(value);
    expect(dlq.headers).toEqual({
      a: '1',
      ...extra,
      [DLQ_HEADERS.errorClass]: 'Error',
      [DLQ_HEADERS.errorMessage]: 'broker: MESSAGE_TOO_LARGE',
      [DLQ_HEADERS.service]: 'svc',
    });
    const size = Object.entries(dlq.headers ?? {}).reduce(
      (n, [k, v]) => n + k.length + (v?.length ?? 0),
      (dlq.key?.length ?? 0) + (dlq.value?.length ?? 0),
    );
    expect(size).toBeLessThan(2000 - 256);
  });

  it('drops the value when not even the headers leave room for it', () => {
    const output = { topic: 'dq.alerts.v1', key: 'k', value: 'v'.repeat(100) };
    const dlq = outputDlqRecord({ output, error, service: 'svc', topics, maxBytes: 300 });
    expect(dlq.value).toBeNull();
    expect(dlq.headers?.[DLQ_HEADERS.truncated]).toBe('true');
  });
});

describe('KeyValueState', () => {
  it('drains each changed key once and restores from its own changelog', () => {
    const state = new KeyValueState<{ n: number }>();
    state.set('a', { n: 1 });
    state.set('a', { n: 2 });
    state.set('b', { n: 3 });
    state.delete('b');
    const changes = state.drainChanges();
    expect(changes.map((c) => [c.key, c.value?.toString() ?? null])).toEqual([
      ['a', '{"n":2}'],
      ['b', null],
    ]);
    expect(state.drainChanges()).toEqual([]);
    const restored = new KeyValueState<{ n: number }>();
    for (const c of changes) restored.restore(c.key, c.value);
    expect([...restored.entries()]).toEqual([['a', { n: 2 }]]);
    expect(restored.drainChanges()).toEqual([]);
  });
});
