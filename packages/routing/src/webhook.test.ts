import {
  EnvelopeError,
  ManualClock,
  buildFinding,
  noopMetrics,
  parseTime,
  resolveTopics,
} from '@tidemark/core';
import type { Finding, HandlerContext, InputRecord } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import type { Receiver } from './config.js';
import { createRouter } from './router.js';
import type { RouterOutput } from './router.js';
import { createAlertRouterService } from './service.js';
import { RouterState } from './state.js';
import {
  UnknownWebhookReceiverError,
  WEBHOOK_ID_HEADER,
  createWebhookSenderService,
  parseWebhookRecord,
  webhookMessage,
  webhookMessageId,
} from './webhook.js';
import type { WebhookMessage } from './webhook.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const S = 1000;
const M = 60 * S;

const CONFIG = parseRoutingConfig(
  `
route:
  receiver: ops
  group_by: [system, check]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [severity="critical"]
      receiver: chat
      continue: true
    - matchers: [check="parity.orphan"]
      receiver: quiet-chat
receivers:
  - { name: ops, kind: alerts }
  - { name: chat, kind: webhook, url: 'http://127.0.0.1:9/hook?token=x' }
  - { name: quiet-chat, kind: webhook, url: 'https://bridge.example/hook', send_resolved: false, max_alerts: 1 }
`,
  'webhook.yml',
);

function finding(
  over: { doc: string; at: number; check?: string; connector?: string } & Partial<Finding>,
): Finding {
  const { doc, at, check = 'freshness.sync-lag', connector = 'c1', ...rest } = over;
  return buildFinding({
    check,
    status: 'firing',
    severity: 'critical',
    subject: { system: 'wiki', connector, docId: doc },
    owner: {},
    summary: `${doc} is behind`,
    evidence: {},
    observedAt: new Date(at).toISOString(),
    ...rest,
  });
}

function run(findings: Array<[number, Finding]>, until: number): RouterOutput {
  const router = createRouter({ config: CONFIG });
  const state = new RouterState(0);
  const clock = new ManualClock(T0);
  const out: RouterOutput = {
    alerts: [],
    notifications: [],
    webhooks: [],
    tickets: [],
    findings: [],
  };
  const queue = [...findings];
  while (clock.now() < until) {
    while (queue.length > 0 && (queue[0]?.[0] ?? Infinity) <= clock.now()) {
      router.ingest(state, (queue.shift() as [number, Finding])[1], clock.now());
    }
    const o = router.tick(state, clock.now());
    out.alerts.push(...o.alerts);
    out.webhooks.push(...o.webhooks);
    clock.advance(S);
  }
  return out;
}

describe('webhook receivers', () => {
  it('parses a webhook receiver with Alertmanager defaults', () => {
    expect(CONFIG.receivers.get('chat')).toEqual({
      name: 'chat',
      kind: 'webhook',
      url: 'http://127.0.0.1:9/hook?token=x',
      sendResolved: true,
      maxAlerts: 0,
      period: 7 * 24 * 3600_000,
      sla: 7 * 24 * 3600_000,
    });
    expect(CONFIG.receivers.get('quiet-chat')).toMatchObject({ sendResolved: false, maxAlerts: 1 });
  });

  it('sends one v4 message per group flush: alerts of the flush, group and common labels, status', () => {
    const out = run(
      [
        [T0, finding({ doc: 'd1', at: T0, connector: 'c1' })],
        [T0, finding({ doc: 'd2', at: T0, connector: 'c2' })],
        [T0 + 40 * S, finding({ doc: 'd1', at: T0 + 40 * S, status: 'resolved', connector: 'c1' })],
      ],
      T0 + 6 * M,
    );
    // group_wait 30s: both alerts in one message; at +5m30s the resolve of c1 alone.
    expect(
      out.webhooks.map((w) => [w.receiver, w.dueAt - T0, w.alerts.map((a) => a.status)]),
    ).toEqual([
      ['chat', 30 * S, ['firing', 'firing']],
      ['chat', 30 * S + 5 * M, ['resolved']],
    ]);
    const first = out.webhooks[0]!;
    const receiver = CONFIG.receivers.get('chat') as Receiver;
    const msg = webhookMessage(first, receiver, 'https://tidemark.example');
    expect(msg).toMatchObject({
      version: '4',
      groupKey: '{}/{severity="critical"}:{check="freshness.sync-lag", system="wiki"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'chat',
      groupLabels: { check: 'freshness.sync-lag', system: 'wiki' },
      commonLabels: {
        alertname: 'freshness.sync-lag',
        check: 'freshness.sync-lag',
        severity: 'critical',
        system: 'wiki',
      },
      commonAnnotations: {},
      externalURL: 'https://tidemark.example',
    });
    expect(msg.alerts.map((a) => [a.labels['connector'], a.status, a.endsAt])).toEqual([
      ['c1', 'firing', '0001-01-01T00:00:00Z'],
      ['c2', 'firing', '0001-01-01T00:00:00Z'],
    ]);
    expect(msg.alerts[0]).toEqual({
      status: 'firing',
      labels: first.alerts[0]?.labels,
      annotations: { summary: 'd1 is behind' },
      startsAt: '2025-03-03T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: `urn:tidemark:alert:${first.alerts[0]?.fingerprint}`,
      fingerprint: first.alerts[0]?.fingerprint,
    });
    const resolvedMsg = webhookMessage(out.webhooks[1]!, receiver);
    expect(resolvedMsg.status).toBe('resolved');
    expect(resolvedMsg.alerts[0]?.endsAt).toBe('2025-03-03T10:00:40.000Z');
    // The same flush always has the same id; another flush another.
    expect(webhookMessageId(first)).toBe(webhookMessageId({ ...first, alerts: [...first.alerts] }));
    expect(webhookMessageId(first)).not.toBe(webhookMessageId(out.webhooks[1]!));
    // dq.alerts.v1 still gets every notification, the webhook ones included.
    expect(out.alerts.filter((a) => a.receiver === 'chat')).toHaveLength(3);
  });

  it('honours send_resolved: false and max_alerts (truncatedAlerts counts the rest)', () => {
    const orphan = (doc: string, connector: string, status: 'firing' | 'resolved', at: number) =>
      finding({ doc, at, connector, check: 'parity.orphan', severity: 'warning', status });
    const out = run(
      [
        [T0, orphan('d1', 'c1', 'firing', T0)],
        [T0, orphan('d2', 'c2', 'firing', T0)],
        [T0 + M, orphan('d1', 'c1', 'resolved', T0 + M)],
      ],
      T0 + 6 * M,
    );
    const quiet = out.webhooks.filter((w) => w.receiver === 'quiet-chat');
    // The resolve goes to dq.alerts.v1 but not to a receiver that does not want resolves.
    expect(quiet.map((w) => w.alerts.map((a) => a.status))).toEqual([['firing', 'firing']]);
    expect(out.alerts.filter((a) => a.receiver === 'quiet-chat').map((a) => a.status)).toEqual([
      'firing',
      'firing',
      'resolved',
    ]);
    const msg = webhookMessage(quiet[0]!, CONFIG.receivers.get('quiet-chat') as Receiver);
    expect(msg.alerts).toHaveLength(1);
    expect(msg.truncatedAlerts).toBe(1);
    // commonLabels are over every alert of the flush, not only the ones sent.
    expect(msg.commonLabels['connector']).toBeUndefined();
  });

  it('the router service publishes each message to its webhook topic, keyed by group, id in a header', () => {
    const topics = resolveTopics({});
    const svc = createAlertRouterService({
      config: CONFIG,
      topics,
      externalUrl: 'https://t.example',
    });
    const state = new RouterState(0);
    const ctx = (now: number): HandlerContext => ({
      now,
      partition: 0,
      service: svc.name,
      topics,
      metrics: noopMetrics,
    });
    const f = finding({ doc: 'd1', at: T0 });
    const record: InputRecord = {
      topic: svc.repartition,
      partition: 0,
      offset: '0',
      timestamp: String(T0),
      key: 'wiki',
      value: Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: 'x',
          source: 'tidemark/freshness-monitor',
          type: 'tidemark.finding',
          time: f.observedAt,
          data: f,
        }),
      ),
      headers: {},
    };
    svc.handle(state, svc.decode(record), record, ctx(T0));
    const out = svc.tick(state, ctx(T0 + 30 * S));
    const hooks = out.filter((o) => o.topic === 'tidemark.alert-router.webhook');
    expect(hooks).toHaveLength(1);
    const msg = JSON.parse(String(hooks[0]?.value)) as WebhookMessage;
    expect(msg).toMatchObject({ version: '4', receiver: 'chat', externalURL: 'https://t.example' });
    expect(hooks[0]?.headers?.[WEBHOOK_ID_HEADER]).toMatch(/^[0-9a-f]{16,}$/);
    expect(svc.webhook).toBe('tidemark.alert-router.webhook');
  });
});

const MESSAGE: WebhookMessage = {
  version: '4',
  groupKey: '{}:{system="wiki"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'chat',
  groupLabels: { system: 'wiki' },
  commonLabels: { system: 'wiki' },
  commonAnnotations: {},
  externalURL: '',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'x', system: 'wiki' },
      annotations: { summary: 's' },
      startsAt: '2025-03-03T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'urn:tidemark:alert:ab',
      fingerprint: 'ab',
    },
  ],
};

const rec = (value: string, headers: Record<string, string> = {}): InputRecord => ({
  topic: 'tidemark.alert-router.webhook',
  partition: 1,
  offset: '7',
  timestamp: String(T0),
  key: 'k',
  value: Buffer.from(value),
  headers,
});

describe('parseWebhookRecord', () => {
  it.each([
    [
      'not json',
      '{',
      'invalid-json',
      'webhook message on tidemark.alert-router.webhook is not JSON',
    ],
    [
      'an array',
      '[]',
      'schema',
      'webhook message on tidemark.alert-router.webhook: value must be an object',
    ],
    [
      'another version',
      JSON.stringify({ ...MESSAGE, version: '3' }),
      'schema',
      'webhook message on tidemark.alert-router.webhook: version must be "4"',
    ],
    [
      'no alerts',
      JSON.stringify({ ...MESSAGE, alerts: [] }),
      'schema',
      'webhook message on tidemark.alert-router.webhook: alerts must be a non-empty list',
    ],
    [
      'a bad label',
      JSON.stringify({ ...MESSAGE, alerts: [{ ...MESSAGE.alerts[0], labels: { a: 1 } }] }),
      'schema',
      'webhook message on tidemark.alert-router.webhook: alerts[0].labels must map names to strings',
    ],
  ])('rejects %s', (_, value, reason, message) => {
    let error: unknown;
    try {
      parseWebhookRecord(rec(value));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as EnvelopeError).reason).toBe(reason);
    expect((error as EnvelopeError).message).toBe(message);
  });

  it('reads a message back as written', () => {
    expect(parseWebhookRecord(rec(JSON.stringify(MESSAGE)))).toEqual(MESSAGE);
  });
});

describe('createWebhookSenderService', () => {
  const ctx: HandlerContext = {
    now: T0,
    partition: 1,
    service: 'alert-router-webhook',
    topics: resolveTopics({}),
    metrics: noopMetrics,
  };

  it('consumes the router webhook topic and awaits the delivery of each message with its id', async () => {
    const sent: Array<[string, string, string]> = [];
    const svc = createWebhookSenderService({
      config: CONFIG,
      deliver: async (receiver, message, id) => {
        sent.push([receiver.url ?? '', message.groupKey, id]);
      },
    });
    expect(svc.name).toBe('alert-router-webhook');
    expect(svc.inputs).toEqual(['tidemark.alert-router.webhook']);
    const r = rec(JSON.stringify(MESSAGE), { [WEBHOOK_ID_HEADER]: 'id-1' });
    const out = await svc.handle(svc.createState(1), await svc.decode!(r), r, ctx);
    expect(out).toEqual([]);
    expect(sent).toEqual([['http://127.0.0.1:9/hook?token=x', '{}:{system="wiki"}', 'id-1']]);
  });

  it('refuses a message for a receiver that is not a webhook receiver (the record goes to the DLQ)', async () => {
    const svc = createWebhookSenderService({ config: CONFIG, deliver: async () => undefined });
    const r = rec(JSON.stringify({ ...MESSAGE, receiver: 'ops' }));
    await expect(svc.handle(svc.createState(1), await svc.decode!(r), r, ctx)).rejects.toThrow(
      new UnknownWebhookReceiverError('ops'),
    );
    await expect(svc.handle(svc.createState(1), await svc.decode!(r), r, ctx)).rejects.toThrow(
      'webhook message for receiver "ops", which routing.yaml does not define as kind: webhook',
    );
  });

  it('lets a delivery failure through, so the host does not commit the record', async () => {
    const svc = createWebhookSenderService({
      config: CONFIG,
      deliver: async () => {
        throw new Error('down');
      },
    });
    const r = rec(JSON.stringify(MESSAGE));
    await expect(svc.handle(svc.createState(1), await svc.decode!(r), r, ctx)).rejects.toThrow(
      'down',
    );
  });
});
