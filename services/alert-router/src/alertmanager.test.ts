import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, DependencyUnavailableError, formatTime, parseTime } from '@tidemark/core';
import type { Alert } from '@tidemark/core';
import { toPostableAlert } from '@tidemark/routing';
import type { PostableAlert } from '@tidemark/routing';
import { describe, expect, it } from 'vitest';
import {
  AlertmanagerRejectedError,
  alertmanagerSettingsFromEnv,
  createAlertmanagerDeliver,
} from './alertmanager.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const M = 60_000;
const H = 60 * M;
const noSleep = async () => undefined;

function firing(over: Partial<Alert> = {}, refreshBy = T0 + 4 * H): PostableAlert {
  const alert: Alert = {
    status: 'firing',
    labels: { check: 'freshness.sync-lag', severity: 'warning', system: 'confluence' },
    annotations: { summary: '3 × freshness.sync-lag on confluence' },
    startsAt: formatTime(T0),
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: 'a1',
    receiver: 'platform-alerts',
    groupKey: '{}:{system="confluence"}',
    findings: { count: 3, sample: ['f1', 'f2', 'f3'] },
    ...over,
  };
  return toPostableAlert(alert, refreshBy, 10 * M);
}

/** A local HTTP server answering POST /api/v2/alerts with the given statuses in turn (then 200). */
async function fakeAlertmanager(statuses: number[]): Promise<{
  server: Server;
  url: string;
  bodies: PostableAlert[][];
}> {
  const bodies: PostableAlert[][] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      expect([req.method, req.url, req.headers['content-type']]).toEqual([
        'POST',
        '/api/v2/alerts',
        'application/json',
      ]);
      bodies.push(JSON.parse(text) as PostableAlert[]);
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '' : JSON.stringify({ code: status, message: `status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, bodies };
}

describe('createAlertmanagerDeliver', () => {
  it('retries 5xx, 429, 401 and 403 with backoff, then posts; resolves once Alertmanager accepted', async () => {
    const am = await fakeAlertmanager([503, 429, 401, 403]);
    try {
      const deliver = createAlertmanagerDeliver({ url: am.url }, { sleep: noSleep });
      await deliver([firing()]);
      expect(am.bodies).toHaveLength(5);
      expect(am.bodies[4]).toEqual([firing()]);
    } finally {
      am.server.close();
    }
  });

  it('reports Alertmanager unavailable (the record is kept and retried) once the attempts run out', async () => {
    const deliver = createAlertmanagerDeliver(
      { url: 'http://127.0.0.1:1' },
      { sleep: noSleep, maxAttempts: 2, timeoutMs: 2000 },
    );
    const error = await deliver([firing()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toMatch(
      /^Alertmanager \(http:\/\/127\.0\.0\.1:1\/api\/v2\/alerts\) unavailable after 2 attempts: /,
    );
  });

  it('does not retry a 400: the alert is refused for good (dead-lettered with the reason)', async () => {
    const am = await fakeAlertmanager([400]);
    try {
      const deliver = createAlertmanagerDeliver({ url: am.url }, { sleep: noSleep });
      const error = await deliver([firing()]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AlertmanagerRejectedError);
      expect((error as AlertmanagerRejectedError).retriable).toBe(false);
      expect(am.bodies).toHaveLength(1);
    } finally {
      am.server.close();
    }
  });
});

describe('alertmanagerSettingsFromEnv', () => {
  it.each([
    [
      'basic',
      { ALERTMANAGER_AUTH_USERNAME: 'tidemark', ALERTMANAGER_AUTH_PASSWORD: 'hunter2' },
      `Basic ${Buffer.from('tidemark:hunter2').toString('base64')}`,
    ],
    ['bearer', { ALERTMANAGER_AUTH_BEARER_TOKEN: 's3cr3t-token' }, 'Bearer s3cr3t-token'],
  ])('sends %s auth from the environment and never logs it', async (_scheme, authEnv, header) => {
    const seen: Array<string | null> = [];
    const logged: string[] = [];
    const log = (obj: object, msg: string) => logged.push(JSON.stringify(obj) + msg);
    const fakeFetch = (async (_url: URL, init: RequestInit) => {
      seen.push(new Headers(init.headers).get('authorization'));
      return new Response('denied', { status: 401 });
    }) as unknown as typeof fetch;
    const deliver = createAlertmanagerDeliver(
      alertmanagerSettingsFromEnv({ ALERTMANAGER_URL: 'http://am.invalid:9093', ...authEnv }),
      { logger: { warn: log, error: log }, fetch: fakeFetch, sleep: noSleep, maxAttempts: 2 },
    );
    const error = await deliver([firing()]).catch((e: unknown) => e);
    logged.push(String(error));
    // 401 is the bridge's credentials, not the alert: retried, then the alert waits (never dead-lettered).
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(seen).toEqual([header, header]);
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of ['hunter2', 's3cr3t-token', header])
      expect(logged.join('\n')).not.toContain(secret);
  });

  it.each([
    [
      { ALERTMANAGER_URL: 'http://tidemark:hunter2@am:9093' },
      'ALERTMANAGER_URL: must not carry credentials (user:password@); set ALERTMANAGER_AUTH_USERNAME and ALERTMANAGER_AUTH_PASSWORD, or ALERTMANAGER_AUTH_BEARER_TOKEN',
    ],
    [
      { ALERTMANAGER_URL: 'http://am:9093', ALERTMANAGER_AUTH_USERNAME: 'u' },
      'ALERTMANAGER_AUTH_USERNAME, ALERTMANAGER_AUTH_PASSWORD: basic auth needs both',
    ],
    [
      {
        ALERTMANAGER_URL: 'http://am:9093',
        ALERTMANAGER_AUTH_USERNAME: 'u',
        ALERTMANAGER_AUTH_PASSWORD: 'hunter2',
        ALERTMANAGER_AUTH_BEARER_TOKEN: 't',
      },
      'ALERTMANAGER_AUTH_BEARER_TOKEN: set either it or ALERTMANAGER_AUTH_USERNAME/_PASSWORD, not both',
    ],
  ])('refuses %j', (env, problem) => {
    try {
      alertmanagerSettingsFromEnv(env);
      expect.unreachable('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([problem]);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('needs ALERTMANAGER_URL', () => {
    expect(() => alertmanagerSettingsFromEnv({})).toThrow(ConfigError);
  });

  it('refuses bad variables, naming each', () => {
    const env = {
      ALERTMANAGER_URL: 'ftp://am:9093',
      ALERTMANAGER_GENERATOR_URL: 'not a url',
      ALERTMANAGER_TIMEOUT: '10 parsecs',
    };
    expect(() => alertmanagerSettingsFromEnv(env)).toThrow(ConfigError);
    try {
      alertmanagerSettingsFromEnv(env);
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'ALERTMANAGER_URL="ftp://am:9093": must be an http:// or https:// URL',
        'ALERTMANAGER_GENERATOR_URL="not a url": must be an http:// or https:// URL',
        expect.stringMatching(/^ALERTMANAGER_TIMEOUT="10 parsecs": /),
      ]);
    }
  });
});

// The POST against a real Alertmanager (Debian's prometheus-alertmanager) is in test/routing/alertmanager-bridge.test.ts,
// through the broker and the bridge.
