import { describe, expect, it } from 'vitest';
import { CLOUDEVENTS_CONTENT_TYPE, isStructuredCloudEvent } from './content-type.js';
import { alertRecord, buildFinding, findingRecord, ticketRecord } from './outputs.js';
import { DEFAULT_TOPICS } from './topics.js';

describe('isStructuredCloudEvent', () => {
  it.each([
    ['a serialized CloudEvent', JSON.stringify({ specversion: '1.0', id: 'x' }), true],
    ['JSON that is not a CloudEvent', JSON.stringify({ id: 'x', specversion: '1.0' }), false],
    ['plain text', 'hello', false],
    ['an empty string', '', false],
    ['a tombstone', null, false],
    ['passed-through bytes', Buffer.from('{"specversion":"1.0"}'), false],
  ] as const)('%s → %s', (_, value, expected) => {
    expect(isStructuredCloudEvent(value)).toBe(expected);
  });

  it('names the media type the CloudEvents Kafka binding requires', () => {
    expect(CLOUDEVENTS_CONTENT_TYPE).toBe('application/cloudevents+json; charset=UTF-8');
  });

  it('recognises every output the core builders make', () => {
    const options = { service: 'test', topics: DEFAULT_TOPICS };
    const finding = buildFinding({
      check: 'contract.required',
      status: 'firing',
      severity: 'warning',
      subject: { system: 'wiki', docId: 'a' },
      owner: {},
      summary: 's',
      evidence: {},
      observedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(isStructuredCloudEvent(findingRecord(finding, options).value)).toBe(true);
    expect(
      isStructuredCloudEvent(
        alertRecord(
          {
            status: 'firing',
            labels: { check: 'contract.required' },
            annotations: { summary: 's' },
            startsAt: '2025-01-01T00:00:00.000Z',
            endsAt: '0001-01-01T00:00:00Z',
            fingerprint: 'f',
            receiver: 'r',
            groupKey: 'g',
            findings: { count: 1, sample: ['f'] },
          },
          0,
          options,
        ).value,
      ),
    ).toBe(true);
    expect(
      isStructuredCloudEvent(
        ticketRecord(
          {
            ticketKey: 'k',
            action: 'open',
            version: 1,
            queue: 'Q',
            assignee: 'a',
            priority: 'P3',
            title: 't',
            body: 'b',
            items: [],
            itemCount: 0,
            alerts: [],
          },
          0,
          options,
        ).value,
      ),
    ).toBe(true);
  });
});
