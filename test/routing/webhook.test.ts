// Webhook receivers through a real broker: the router publishes one Alertmanager webhook v4 message per group
// flush to its webhook topic; the alert-router in ALERT_ROUTER_MODE=webhook POSTs each to a local HTTP
// receiver (retrying 503s) and commits after the POST, so a restarted sender does not send it again.
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookMessage } from '@tidemark/routing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, produce, waitUntil } from '../runtime/helpers.js';
import {
  contractsDir,
  finding,
  findingMessage,
  resolved,
  routerEnv,
  routerHarness,
  routerTopics,
} from './helpers.js';

interface Post {
  id: string;
  status: number;
  message: WebhookMessage;
}

let server: Server;
let url = '';
const posts: Post[] = [];
let failNext = 0;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failNext > 0 ? 503 : 200;
      if (failNext > 0) failNext--;
      posts.push({
        id: String(req.headers['tidemark-notification-id']),
        status,
        message: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookMessage,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

const { start } = routerHarness();
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const routing = () => `
route:
  receiver: chat
  group_by: [system, check]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - { name: chat, kind: webhook, url: '${url}' }
`;

describe('webhook receivers (broker)', () => {
  it('group flush → one v4 POST (503s retried, same id), committed after the POST; the resolve follows', async () => {
    const t = await routerTopics('webhook');
    await createTopics([`tidemark.${t.name}.webhook`], 3);
    const env = routerEnv(t, contractsDir(routing()), {
      TIDEMARK_EXTERNAL_URL: 'https://tidemark.example',
    });
    const router = start(env);
    const senderEnv = {
      ...env,
      ALERT_ROUTER_MODE: 'webhook',
      KAFKA_GROUP_ID: `${t.group}-webhook`,
    };
    let sender = start(senderEnv);
    await Promise.all([router.waitReady(), sender.waitReady()]);

    failNext = 2;
    const a = finding({ subject: { system: 'confluence', connector: 'c1', docId: 'p1' } });
    const b = finding({ subject: { system: 'confluence', connector: 'c2', docId: 'p2' } });
    await produce(t.findings, [findingMessage(a), findingMessage(b)]);
    await waitUntil(
      'the firing message accepted',
      () => posts.some((p) => p.status === 200),
      60_000,
    );
    const first = posts.find((p) => p.status === 200)!;
    // Two 503s, then the same message (same id) accepted.
    expect(posts.map((p) => [p.id, p.status])).toEqual([
      [first.id, 503],
      [first.id, 503],
      [first.id, 200],
    ]);
    expect(first.message).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'chat',
      groupKey: '{}:{check="freshness.sync-lag", system="confluence"}',
      groupLabels: { check: 'freshness.sync-lag', system: 'confluence' },
      commonLabels: {
        alertname: 'freshness.sync-lag',
        check: 'freshness.sync-lag',
        system: 'confluence',
        severity: 'warning',
      },
      externalURL: 'https://tidemark.example',
      truncatedAlerts: 0,
    });
    expect(first.message.alerts.map((x) => [x.labels['connector'], x.status]).sort()).toEqual([
      ['c1', 'firing'],
      ['c2', 'firing'],
    ]);

    // A restarted sender resumes after the committed message: the next POST is the resolve, not a resend.
    sender.kill('SIGTERM');
    await sender.exited;
    sender = start(senderEnv);
    await sender.waitReady();
    await produce(t.findings, [findingMessage(resolved(a)), findingMessage(resolved(b))]);
    await waitUntil(
      'the resolved message accepted',
      () => posts.some((p) => p.status === 200 && p.message.status === 'resolved'),
      60_000,
    );
    const accepted = posts.filter((p) => p.status === 200);
    expect(accepted.map((p) => p.message.status)).toEqual(['firing', 'resolved']);
    expect(accepted[1]?.message.alerts.map((x) => x.status)).toEqual(['resolved', 'resolved']);
  });
});
