import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DependencyUnavailableError,
  noopMetrics,
  resolveTopics,
  ticketRecord,
} from '@tidemark/core';
import type { HandlerContext, InputRecord, Ticket } from '@tidemark/core';
import { createJiraSenderService, parseRoutingConfig, syncTicket } from '@tidemark/routing';
import type { Receiver } from '@tidemark/routing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JiraRejectedError, createJiraClient, jiraAuthorizationFromEnv } from './jira.js';

// An in-memory Jira (REST API v2) that checks the shape of every request it gets.
interface Issue {
  key: string;
  fields: Record<string, unknown>;
  comments: string[];
  status: string;
  properties: Map<string, unknown>;
}
let server: Server;
let base = '';
let issues: Issue[] = [];
const calls: string[] = [];
const problems: string[] = [];
let failNext = 0;

function reply(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function handle(req: IncomingMessage, body: unknown, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  calls.push(`${req.method} ${url.pathname}`);
  if (req.headers.authorization !== 'Bearer t0ken')
    return reply(res, 401, { errorMessages: ['auth'] });
  if (failNext > 0) {
    failNext--;
    return reply(res, 503);
  }
  const m = /^\/jira\/rest\/api\/2\/(.*)$/.exec(url.pathname);
  const path = m?.[1] ?? '';
  const issue = (key: string) => issues.find((i) => i.key === key);
  let x: RegExpExecArray | null;
  if (req.method === 'GET' && path === 'search') {
    const jql = url.searchParams.get('jql') ?? '';
    const label = /labels = "([^"]+)"/.exec(jql)?.[1];
    if (!/^project = "DQ" AND labels = "tidemark-[a-z0-9]+"$/.test(jql))
      problems.push(`jql ${jql}`);
    return reply(res, 200, {
      issues: issues
        .filter((i) => (i.fields['labels'] as string[]).includes(label ?? ''))
        .map((i) => ({ key: i.key })),
    });
  }
  if (req.method === 'POST' && path === 'issue') {
    const f = (body as { fields?: Record<string, unknown> }).fields ?? {};
    const ok =
      (f['project'] as { key?: string })?.key === 'DQ' &&
      typeof (f['issuetype'] as { name?: string })?.name === 'string' &&
      typeof f['summary'] === 'string' &&
      typeof f['description'] === 'string' &&
      Array.isArray(f['labels']) &&
      typeof (f['priority'] as { name?: string })?.name === 'string';
    if (!ok) {
      problems.push(`create ${JSON.stringify(f)}`);
      return reply(res, 400, { errors: { fields: 'bad' } });
    }
    const key = `DQ-${issues.length + 1}`;
    issues.push({ key, fields: f, comments: [], status: 'To Do', properties: new Map() });
    return reply(res, 201, { id: String(issues.length), key, self: `${base}/issue/${key}` });
  }
  if ((x = /^issue\/([^/]+)\/comment$/.exec(path)) && req.method === 'POST') {
    const b = body as { body?: unknown };
    if (typeof b.body !== 'string') problems.push(`comment ${JSON.stringify(body)}`);
    issue(x[1]!)?.comments.push(String(b.body));
    return reply(res, 201, { id: '1' });
  }
  if ((x = /^issue\/([^/]+)\/transitions$/.exec(path))) {
    if (req.method === 'GET')
      return reply(res, 200, {
        transitions: [
          { id: '11', name: 'In Progress' },
          { id: '31', name: 'Done' },
        ],
      });
    const id = (body as { transition?: { id?: string } }).transition?.id;
    if (id !== '31') problems.push(`transition ${JSON.stringify(body)}`);
    const i = issue(x[1]!);
    if (i) i.status = 'Done';
    return reply(res, 204);
  }
  if ((x = /^issue\/([^/]+)\/properties\/([^/]+)$/.exec(path))) {
    const i = issue(x[1]!);
    if (!i) return reply(res, 404);
    if (req.method === 'GET') {
      if (!i.properties.has(x[2]!)) return reply(res, 404, { errorMessages: ['no property'] });
      return reply(res, 200, { key: x[2], value: i.properties.get(x[2]!) });
    }
    i.properties.set(x[2]!, body);
    return reply(res, 200);
  }
  problems.push(`unexpected ${req.method} ${url.pathname}`);
  return reply(res, 404);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      handle(req, text ? (JSON.parse(text) as unknown) : undefined, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jira`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  issues = [];
  calls.length = 0;
  problems.length = 0;
  failNext = 0;
});

const config = () =>
  parseRoutingConfig(
    `route: { receiver: jira, group_by: [system] }\nreceivers:\n  - { name: jira, kind: jira, url: '${base}', project: DQ, sla: 3d }\n  - { name: plain, kind: tickets }\n`,
    'r.yml',
  );

function ticket(action: Ticket['action'], version: number, over: Partial<Ticket> = {}): Ticket {
  return {
    ticketKey: 'ab12cd34',
    action,
    version,
    receiver: 'jira',
    queue: 'KOPS',
    assignee: 'knowledge-ops',
    team: 'knowledge-ops',
    priority: 'P3',
    dueBy: '2025-03-10T10:00:00.000Z',
    title: `${version} documents in confluence past their review clock`,
    body: `${version} documents in confluence need attention (freshness).`,
    items: [],
    itemCount: version,
    alerts: [],
    ...over,
  };
}

const api = () => createJiraClient({ authorization: 'Bearer t0ken', sleep: async () => undefined });

describe('Jira sync (local REST API v2 stub)', () => {
  it('open creates one labelled issue; update comments; resolve comments and transitions; redeliveries change nothing', async () => {
    const receiver = config().receivers.get('jira') as Receiver;
    const sync = (t: Ticket) => syncTicket(api(), receiver, t);
    expect(await sync(ticket('open', 1))).toBe('created');
    expect(await sync(ticket('open', 1))).toBe('duplicate'); // redelivered open: searched, found, not created
    expect(await sync(ticket('update', 2))).toBe('commented');
    expect(await sync(ticket('update', 2))).toBe('duplicate'); // redelivered update: version already applied
    expect(
      await sync(
        ticket('update', 3, { escalated: true, escalationReceiver: 'knowledge-ops-email' }),
      ),
    ).toBe('commented');
    expect(await sync(ticket('resolve', 4))).toBe('resolved');
    expect(await sync(ticket('resolve', 4))).toBe('duplicate');
    expect(problems).toEqual([]);
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(issue?.fields).toEqual({
      project: { key: 'DQ' },
      issuetype: { name: 'Task' },
      summary: '1 documents in confluence past their review clock',
      description:
        '1 documents in confluence need attention (freshness).\n\nAssignee: knowledge-ops (team knowledge-ops); queue KOPS.\nTidemark ticket ab12cd34, version 1.',
      labels: ['tidemark', 'tidemark-ab12cd34'],
      priority: { name: 'Medium' },
      duedate: '2025-03-10',
    });
    expect(issue?.comments).toEqual([
      '2 documents in confluence past their review clock (Tidemark version 2)\n\n2 documents in confluence need attention (freshness).',
      '3 documents in confluence past their review clock (Tidemark version 3)\n\n3 documents in confluence need attention (freshness).\nEscalated: past due (escalation: knowledge-ops-email).',
      '4 documents in confluence past their review clock (Tidemark version 4)\n\n4 documents in confluence need attention (freshness).',
    ]);
    expect(issue?.status).toBe('Done');
    expect(issue?.properties.get('tidemark.ticket')).toEqual({
      ticketKey: 'ab12cd34',
      version: 4,
      action: 'resolve',
    });
    // Every action searches first; creates happen once.
    expect(calls.filter((c) => c === 'POST /jira/rest/api/2/issue')).toHaveLength(1);
    expect(calls.filter((c) => c === 'GET /jira/rest/api/2/search')).toHaveLength(7);
  });

  it('an update whose open was lost creates the issue; a resolve of an issue never created does nothing', async () => {
    const receiver = config().receivers.get('jira') as Receiver;
    expect(await syncTicket(api(), receiver, ticket('resolve', 2, { ticketKey: 'ffff' }))).toBe(
      'no-issue',
    );
    expect(await syncTicket(api(), receiver, ticket('update', 2))).toBe('created');
    expect(issues.map((i) => i.fields['labels'])).toEqual([['tidemark', 'tidemark-ab12cd34']]);
  });

  it('retries a 503 and reports a Jira that stays down as unavailable; a 401 is a rejection', async () => {
    const receiver = config().receivers.get('jira') as Receiver;
    failNext = 1;
    expect(await syncTicket(api(), receiver, ticket('open', 1))).toBe('created');
    failNext = 10;
    const down = await syncTicket(
      createJiraClient({
        authorization: 'Bearer t0ken',
        maxAttempts: 2,
        sleep: async () => undefined,
      }),
      receiver,
      ticket('update', 2),
    ).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(DependencyUnavailableError);
    expect((down as Error).message).toBe(
      'Jira (jira) at GET /jira/rest/api/2/search unavailable after 2 attempts: HTTP 503 ',
    );
    failNext = 0;
    const denied = await syncTicket(
      createJiraClient({ authorization: 'Bearer wrong', sleep: async () => undefined }),
      receiver,
      ticket('update', 2),
    ).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(JiraRejectedError);
    expect((denied as Error).message).toBe(
      'Jira (jira) rejected GET /jira/rest/api/2/search: HTTP 401 {"errorMessages":["auth"]}',
    );
  });

  it('the sender service reads dq.tickets.v1 records, syncs jira receivers and skips the others', async () => {
    const topics = resolveTopics({});
    const svc = createJiraSenderService({
      config: config(),
      ticketsTopic: topics.tickets,
      api: api(),
    });
    const ctx: HandlerContext = {
      now: 0,
      partition: 0,
      service: svc.name,
      topics,
      metrics: noopMetrics,
    };
    const rec = (t: Ticket): InputRecord => {
      const o = ticketRecord(t, 0, { service: 'alert-router', topics });
      return {
        topic: topics.tickets,
        partition: 0,
        offset: '1',
        timestamp: '0',
        key: o.key,
        value: Buffer.from(String(o.value)),
        headers: {},
      };
    };
    for (const t of [
      ticket('open', 1),
      ticket('open', 1, { ticketKey: 'other', receiver: 'plain' }),
    ]) {
      const r = rec(t);
      expect(await svc.handle(svc.createState(0), await svc.decode!(r), r, ctx)).toEqual([]);
    }
    expect(svc.inputs).toEqual(['dq.tickets.v1']);
    expect(issues).toHaveLength(1);
  });
});

describe('jiraAuthorizationFromEnv', () => {
  it.each([
    [{}, undefined],
    [{ JIRA_TOKEN: 'abc' }, 'Bearer abc'],
    [
      { JIRA_TOKEN: 'abc', JIRA_USER: 'me@example.com' },
      `Basic ${Buffer.from('me@example.com:abc').toString('base64')}`,
    ],
  ])('%#', (env, expected) => {
    expect(jiraAuthorizationFromEnv(env)).toBe(expected);
  });
  it('refuses a user without a token', () => {
    expect(() => jiraAuthorizationFromEnv({ JIRA_USER: 'me' })).toThrow(
      'JIRA_USER is set but JIRA_TOKEN is not',
    );
  });
});
