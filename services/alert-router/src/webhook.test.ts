import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, DependencyUnavailableError } from '@tidemark/core';
import { WEBHOOK_ID_HEADER, parseRoutingConfig } from '@tidemark/routing';
import type { Receiver, WebhookMessage } from '@tidemark/routing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookRejectedError, createWebhookDeliver, routerModeFromEnv } from './webhook.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

// A local webhook receiver that answers from a script of status codes (then 200).
let server: Server;
let base = '';
let script: number[] = [];
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      const status = script.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  script = [];
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
  externalURL: 'https://tidemark.example',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'freshness.sync-lag', system: 'wiki' },
      annotations: { summary: 's' },
      startsAt: '2025-03-03T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'urn:tidemark:alert:ab',
      fingerprint: 'ab',
    },
  ],
};

function receiver(path = '/hook?token=secret'): Receiver {
  const config = parseRoutingConfig(
    `route: { receiver: chat, group_by: [system] }\nreceivers: [{ name: chat, kind: webhook, url: '${base}${path}' }]\n`,
    'r.yml',
  );
  return config.receivers.get('chat') as Receiver;
}

const delays: number[] = [];
const sleep = async (ms: number) => {
  delays.push(ms);
};
const logs: string[] = [];
const logger = {
  warn: (obj: object, msg: string) => logs.push(`${msg} ${JSON.stringify(obj)}`),
  error: (obj: object, msg: string) => logs.push(`${msg} ${JSON.stringify(obj)}`),
};

describe('createWebhookDeliver (local HTTP receiver)', () => {
  it('POSTs the v4 message as JSON with its id header', async () => {
    await createWebhookDeliver({ sleep })(receiver(), MESSAGE, 'id-1');
    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe('/hook?token=secret');
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(received[0]?.headers[WEBHOOK_ID_HEADER]).toBe('id-1');
    expect(received[0]?.body).toEqual(MESSAGE);
  });

  it('retries 503, 429 and 408 with backoff, then succeeds; logs never carry the query string', async () => {
    script = [503, 429, 408];
    delays.length = 0;
    logs.length = 0;
    await createWebhookDeliver({ sleep, logger, backoff: { initialMs: 100, jitter: 0 } })(
      receiver(),
      MESSAGE,
      'id-2',
    );
    expect(received).toHaveLength(4);
    expect(new Set(received.map((r) => r.headers[WEBHOOK_ID_HEADER]))).toEqual(new Set(['id-2']));
    expect(delays).toEqual([100, 200, 400]);
    expect(logs).toHaveLength(3);
    expect(logs.join('\n')).not.toContain('secret');
  });

  it('does not retry a 400: the message is rejected for good', async () => {
    script = [400];
    const deliver = createWebhookDeliver({ sleep });
    const error = await deliver(receiver(), MESSAGE, 'id-3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookRejectedError);
    expect((error as WebhookRejectedError).retriable).toBe(false);
    expect((error as Error).message).toBe(
      'webhook receiver chat rejected the message: HTTP 400 nope',
    );
    expect(received).toHaveLength(1);
  });

  it('reports the receiver unavailable (retriable, never a DLQ reason) after maxAttempts', async () => {
    script = [500, 502, 503];
    const error = await createWebhookDeliver({ sleep, maxAttempts: 3 })(
      receiver(),
      MESSAGE,
      'id-4',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe('webhook:chat');
    expect((error as Error).message).toBe(
      `webhook receiver chat (${base}/hook) unavailable after 3 attempts: HTTP 503 nope`,
    );
    expect(received).toHaveLength(3);
  });

  it('treats a refused connection as retriable', async () => {
    const dead = parseRoutingConfig(
      `route: { receiver: x, group_by: [system] }\nreceivers: [{ name: x, kind: webhook, url: 'http://127.0.0.1:1/hook' }]\n`,
      'r.yml',
    ).receivers.get('x') as Receiver;
    const error = await createWebhookDeliver({ sleep, maxAttempts: 2 })(dead, MESSAGE, 'id').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toMatch(
      /^webhook receiver x \(http:\/\/127\.0\.0\.1:1\/hook\) unavailable after 2 attempts: /,
    );
  });
});

describe('routerModeFromEnv', () => {
  it.each([
    [{}, { mode: 'router' }],
    [
      {
        ALERT_ROUTER_MODE: 'webhook',
        TIDEMARK_EXTERNAL_URL: 'https://t.example',
        ALERT_GENERATOR_URL: 'https://grafana.example/d/x?var-system={system}&var-check={check}',
      },
      {
        mode: 'webhook',
        externalUrl: 'https://t.example',
        generatorUrl: 'https://grafana.example/d/x?var-system={system}&var-check={check}',
      },
    ],
  ])('%#', (env, expected) => {
    expect(routerModeFromEnv(env)).toEqual(expected);
  });

  it('lists every bad variable', () => {
    let error: unknown;
    try {
      routerModeFromEnv({
        ALERT_ROUTER_MODE: 'both',
        TIDEMARK_EXTERNAL_URL: 'not a url',
        ALERT_GENERATOR_URL: '{system}',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'ALERT_ROUTER_MODE="both": must be "router", "webhook", "jira" or "alertmanager"',
      'TIDEMARK_EXTERNAL_URL="not a url": must be a URL',
      'ALERT_GENERATOR_URL="{system}": must be a URL (with {label} placeholders)',
    ]);
  });
});
