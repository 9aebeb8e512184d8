import {
  EnvelopeError,
  buildFinding,
  parseTime,
  resolveTopics,
  ticketRecord,
} from '@tidemark/core';
import type { InputRecord, Ticket } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import { jiraIssueFields, parseTicketRecord } from './jira.js';
import { createRouter } from './router.js';
import { RouterState } from './state.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const CONFIG = parseRoutingConfig(
  `
route:
  receiver: ops
  group_by: [system]
  routes:
    - matchers: [check="freshness.review-overdue"]
      receiver: jira
receivers:
  - { name: ops }
  - { name: jira, kind: jira, url: 'https://jira.example', project: DQ, issue_type: Bug, sla: 3d }
`,
  'r.yml',
);

describe('jira receivers', () => {
  it('take ticket items like a tickets receiver; each ticket names its receiver', () => {
    const router = createRouter({ config: CONFIG });
    const state = new RouterState(0);
    router.ingest(
      state,
      buildFinding({
        check: 'freshness.review-overdue',
        status: 'firing',
        severity: 'high',
        subject: { system: 'wiki', docId: 'd1' },
        owner: { steward: 'ann' },
        summary: 'd1 is past its review date',
        evidence: {},
        observedAt: new Date(T0).toISOString(),
      }),
      T0,
    );
    const out = router.tick(state, T0);
    expect(out.alerts).toEqual([]);
    expect(out.tickets.map((t) => [t.action, t.receiver, t.assignee, t.dueBy])).toEqual([
      ['open', 'jira', 'ann', '2025-03-06T10:00:00.000Z'],
    ]);
    const fields = jiraIssueFields(out.tickets[0] as Ticket, CONFIG.receivers.get('jira')!);
    expect(fields).toMatchObject({
      project: { key: 'DQ' },
      issuetype: { name: 'Bug' },
      priority: { name: 'High' },
      duedate: '2025-03-06',
    });
  });
});

describe('parseTicketRecord', () => {
  const topics = resolveTopics({});
  const ticket: Ticket = {
    ticketKey: 'k1',
    action: 'open',
    version: 1,
    receiver: 'jira',
    queue: 'Q',
    assignee: 'ann',
    priority: 'P2',
    title: 't',
    body: 'b',
    items: [],
    itemCount: 0,
    alerts: [],
  };
  const rec = (value: string): InputRecord => ({
    topic: 'dq.tickets.v1',
    partition: 0,
    offset: '0',
    timestamp: '0',
    key: 'k1',
    value: Buffer.from(value),
    headers: {},
  });
  const valid = String(ticketRecord(ticket, T0, { service: 'alert-router', topics }).value);
  const withData = (data: object) => JSON.stringify({ ...JSON.parse(valid), data });

  it('reads what ticketRecord writes', () => {
    expect(parseTicketRecord(rec(valid))).toEqual(ticket);
  });

  it.each([
    ['not JSON', 'x', 'invalid-json', 'ticket record on dq.tickets.v1 is not JSON'],
    [
      'another type',
      JSON.stringify({ ...JSON.parse(valid), type: 'tidemark.alert' }),
      'unknown-type',
      'record on dq.tickets.v1 is a "tidemark.alert" event; the Jira sender takes only tidemark.ticket',
    ],
    [
      'no key',
      withData({ ...ticket, ticketKey: '' }),
      'schema',
      'ticket record on dq.tickets.v1: data.ticketKey must be a string',
    ],
    [
      'a bad action',
      withData({ ...ticket, action: 'close' }),
      'schema',
      'ticket record on dq.tickets.v1: data.action must be "open", "update" or "resolve"',
    ],
    [
      'version 0',
      withData({ ...ticket, version: 0 }),
      'schema',
      'ticket record on dq.tickets.v1: data.version must be a whole number >= 1',
    ],
  ])('rejects %s', (_, value, reason, message) => {
    let error: unknown;
    try {
      parseTicketRecord(rec(value));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as EnvelopeError).reason).toBe(reason);
    expect((error as EnvelopeError).message).toBe(message);
  });
});
