import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatTime, parseTime } from '@tidemark/core';
import type { Alert } from '@tidemark/core';
import type { AlertNotification } from '@tidemark/routing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertmanagerSinkFromEnv,
  createAlertmanagerSink,
  toPostableAlert,
} from './alertmanager.js';
import type { PostableAlert } from './alertmanager.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const M = 60_000;
const H = 60 * M;
const noSleep = async () => undefined;

function notification(
  over: Partial<Alert> = {},
  times: { dueAt?: number; refreshBy?: number } = {},
): AlertNotification {
  const status = over.status ?? 'firing';
  const alert: Alert = {
    status,
    labels: { check: 'freshness.sync-lag', severity: 'warning', system: 'confluence' },
    annotations: { summary: '3 × freshness.sync-lag on confluence' },
    startsAt: formatTime(T0),
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : formatTime(T0 + 10 * M),
    fingerprint: 'a1',
    receiver: 'platform-alerts',
    groupKey: '{}:{system="confluence"}',
    findings: { count: 3, sample: ['f1', 'f2', 'f3'] },
    ...over,
  };
  const dueAt = times.dueAt ?? T0 + 30_000;
  return {
    alert,
    dueAt,
    ...(status === 'firing' ? { refreshBy: times.refreshBy ?? dueAt + 4 * H + 5 * M } : {}),
  };
}

describe('toPostableAlert', () => {
  it.each([
    [
      'a firing alert lasts until its refresh time plus grace',
      notification({}, { dueAt: T0, refreshBy: T0 + 4 * H }),
      {
        labels: {
          alertname: 'freshness.sync-lag',
          check: 'freshness.sync-lag',
          severity: 'warning',
          system: 'confluence',
        },
        annotations: {
          summary: '3 × freshness.sync-lag on confluence',
          findings: '3',
          tidemark_receiver: 'platform-alerts',
        },
        startsAt: formatTime(T0),
        endsAt: formatTime(T0 + 4 * H + 10 * M),
      },
    ],
    [
      'a resolved alert ends when it resolved; description and runbook carried',
      notification({
        status: 'resolved',
        annotations: { summary: 's', description: 'd', runbook_url: 'https://runbooks.example/x' },
      }),
      {
        labels: {
          alertname: 'freshness.sync-lag',
          check: 'freshness.sync-lag',
          severity: 'warning',
          system: 'confluence',
        },
        annotations: {
          summary: 's',
          description: 'd',
          runbook_url: 'https://runbooks.example/x',
          findings: '3',
          tidemark_receiver: 'platform-alerts',
        },
        startsAt: formatTime(T0),
        endsAt: formatTime(T0 + 10 * M),
      },
    ],
  ])('%s', (_case, n, expected) => {
    expect(toPostableAlert(n, 10 * M)).toEqual(expected);
  });

  it('adds the generator URL when one is configured', () => {
    expect(toPostableAlert(notification(), 0, 'https://tidemark.example/alerts').generatorURL).toBe(
      'https://tidemark.example/alerts',
    );
  });
});

/** A local HTTP server answering POST /api/v2/alerts with the given statuses in turn. */
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

describe('createAlertmanagerSink', () => {
  it('retries 5xx and 429 with backoff and counts the retries', async () => {
    const am = await fakeAlertmanager([503, 429, 200]);
    const sink = createAlertmanagerSink({ url: am.url, sleep: noSleep });
    sink.enqueue([notification()]);
    await sink.idle();
    am.server.close();
    expect(am.bodies).toHaveLength(3);
    expect(sink.drainStats()).toEqual({ sent: 1, retried: 2, failed: 0, dropped: 0 });
    expect(sink.drainStats()).toEqual({ sent: 0, retried: 0, failed: 0, dropped: 0 });
  });

  it('does not retry a 400, counts the batch as failed, logs it and goes on', async () => {
    const am = await fakeAlertmanager([400, 200]);
    const errors: Array<[object, string]> = [];
    const sink = createAlertmanagerSink({
      url: am.url,
      sleep: noSleep,
      logger: { warn: () => undefined, error: (obj, msg) => void errors.push([obj, msg]) },
    });
    sink.enqueue([notification()]);
    await sink.idle();
    sink.enqueue([notification({ fingerprint: 'a2' })]);
    await sink.idle();
    am.server.close();
    expect(am.bodies).toHaveLength(2);
    expect(sink.drainStats()).toEqual({ sent: 1, retried: 0, failed: 1, dropped: 0 });
    expect(errors.map(([obj, msg]) => [(obj as { err: Error }).err.message, msg])).toEqual([
      [
        'Alertmanager rejected the alerts: HTTP 400 {"code":400,"message":"status 400"}',
        'alertmanager: giving up on a batch of alerts',
      ],
    ]);
  });

  it('gives up after maxAttempts when nothing answers, never throwing into the caller', async () => {
    const am = await fakeAlertmanager([]);
    const url = am.url;
    await new Promise((resolve) => am.server.close(resolve)); // a port nobody listens on now
    const sink = createAlertmanagerSink({ url, sleep: noSleep, maxAttempts: 3 });
    expect(() => sink.enqueue([notification(), notification({ fingerprint: 'a2' })])).not.toThrow();
    await sink.idle();
    expect(sink.drainStats()).toEqual({ sent: 0, retried: 2, failed: 2, dropped: 0 });
  });

  it('coalesces queued notifications by fingerprint and bounds the queue', async () => {
    let release!: () => void;
    let gate: Promise<void> | undefined;
    const hold = () => (gate = new Promise<void>((resolve) => (release = resolve)));
    const posted: PostableAlert[][] = [];
    const fetchStub = (async (_url: URL, init: RequestInit) => {
      posted.push(JSON.parse(String(init.body)) as PostableAlert[]);
      const g = gate;
      gate = undefined;
      await g; // a held POST hangs while more is queued behind it
      return new Response('', { status: 200 });
    }) as typeof fetch;
    const sink = createAlertmanagerSink({
      url: 'http://127.0.0.1:1',
      fetch: fetchStub,
      maxPending: 2,
    });
    void hold();
    sink.enqueue([notification({ fingerprint: 'x' }, { refreshBy: T0 + 4 * H })]);
    // Queued behind the hanging POST: a's long and short firing sends, then b, c (c pushes out the oldest).
    sink.enqueue([
      notification({ fingerprint: 'a', receiver: 'platform-alerts' }, { refreshBy: T0 + 4 * H }),
      notification({ fingerprint: 'a', receiver: 'platform-pager' }, { refreshBy: T0 + H }),
      notification({ fingerprint: 'b', status: 'resolved' }),
    ]);
    sink.enqueue([notification({ fingerprint: 'b' }, { refreshBy: T0 + 2 * H })]);
    release();
    await sink.idle();
    expect(posted.map((b) => b.map((a) => [a.annotations['tidemark_receiver'], a.endsAt]))).toEqual(
      [
        [['platform-alerts', formatTime(T0 + 4 * H + 10 * M)]],
        [
          // a: the newer content (pager), the longer life (4h)
          ['platform-pager', formatTime(T0 + 4 * H + 10 * M)],
          // b: the firing send queued after its resolve replaces it
          ['platform-alerts', formatTime(T0 + 2 * H + 10 * M)],
        ],
      ],
    );
    expect(sink.drainStats()).toEqual({ sent: 3, retried: 0, failed: 0, dropped: 0 });

    void hold();
    posted.length = 0;
    sink.enqueue([notification({ fingerprint: 'p' })]);
    // Behind the held POST of p: q, r, s — one more than maxPending, so the oldest (q) is dropped.
    sink.enqueue(['q', 'r', 's'].map((fingerprint) => notification({ fingerprint })));
    release();
    await sink.idle();
    expect(posted.map((b) => b.length)).toEqual([1, 2]);
    expect(sink.drainStats()).toEqual({ sent: 3, retried: 0, failed: 0, dropped: 1 });
  });
});

describe('alertmanagerSinkFromEnv', () => {
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
    // The env factory takes the global fetch when it builds the sink; swap it for this test only.
    const real = globalThis.fetch;
    globalThis.fetch = fakeFetch;
    try {
      const sink = alertmanagerSinkFromEnv(
        { ALERTMANAGER_URL: 'http://am.invalid:9093', ...authEnv },
        { warn: log, error: log },
      );
      sink!.enqueue([notification()]);
      await sink!.idle();
    } finally {
      globalThis.fetch = real;
    }
    expect(seen).toEqual([header]);
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
      alertmanagerSinkFromEnv(env);
      expect.unreachable('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([problem]);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('is off without ALERTMANAGER_URL', () => {
    expect(alertmanagerSinkFromEnv({})).toBeUndefined();
  });

  it('refuses bad variables, naming each', () => {
    const env = {
      ALERTMANAGER_URL: 'ftp://am:9093',
      ALERTMANAGER_GENERATOR_URL: 'not a url',
      ALERTMANAGER_TIMEOUT: '10 parsecs',
    };
    expect(() => alertmanagerSinkFromEnv(env)).toThrow(ConfigError);
    try {
      alertmanagerSinkFromEnv(env);
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'ALERTMANAGER_URL="ftp://am:9093": must be an http:// or https:// URL',
        'ALERTMANAGER_GENERATOR_URL="not a url": must be an http:// or https:// URL',
        expect.stringMatching(/^ALERTMANAGER_TIMEOUT="10 parsecs": /),
      ]);
    }
  });
});

// ------------------------------------------------------------------ the real Alertmanager (Debian package)

const AM_BIN = 'prometheus-alertmanager';
const haveAlertmanager = spawnSync(AM_BIN, ['--version']).status === 0;
if (!haveAlertmanager && process.env['CI'])
  throw new Error(
    `${AM_BIN} is not installed; CI must install the prometheus-alertmanager package`,
  );
if (!haveAlertmanager)
  console.warn(`skipping the Alertmanager sink test: ${AM_BIN} is not installed`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

describe.skipIf(!haveAlertmanager)('the sink against a real Alertmanager', () => {
  let dir: string;
  let child: ChildProcess;
  let url: string;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidemark-am-'));
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n',
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(
      AM_BIN,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=', // no gossip port: a single, loopback-only instance
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`Alertmanager did not become ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const listed = async (): Promise<AmAlert[]> =>
    (await (await fetch(`${url}/api/v2/alerts`)).json()) as AmAlert[];

  it('posts a firing alert Alertmanager lists as active, then its resolve, after which it is gone', async () => {
    const now = Date.now();
    const sink = createAlertmanagerSink({
      url,
      generatorUrl: 'https://tidemark.example/alert-router',
    });
    const firing = notification(
      {
        fingerprint: 'fp-real',
        startsAt: formatTime(now - M),
        labels: {
          check: 'parity.delete-missed',
          severity: 'high',
          system: 'confluence',
          connector: 'confluence-prod',
        },
      },
      { dueAt: now, refreshBy: now + H },
    );
    sink.enqueue([firing]);
    await sink.idle();
    expect(sink.drainStats()).toEqual({ sent: 1, retried: 0, failed: 0, dropped: 0 });
    const [alert, ...rest] = await listed();
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      labels: {
        alertname: 'parity.delete-missed',
        check: 'parity.delete-missed',
        severity: 'high',
        system: 'confluence',
        connector: 'confluence-prod',
      },
      annotations: {
        summary: '3 × freshness.sync-lag on confluence',
        findings: '3',
        tidemark_receiver: 'platform-alerts',
      },
      status: { state: 'active' },
      generatorURL: 'https://tidemark.example/alert-router',
    });
    expect(parseTime(alert!.startsAt)).toBe(now - M);
    expect(parseTime(alert!.endsAt)).toBe(now + H + 10 * M);

    sink.enqueue([
      {
        alert: {
          ...firing.alert,
          status: 'resolved',
          endsAt: formatTime(now),
        },
        dueAt: now,
      },
    ]);
    await sink.idle();
    expect(sink.drainStats()).toMatchObject({ sent: 1, failed: 0 });
    expect(await listed()).toEqual([]);
  });

  it('counts what Alertmanager refuses (a label name it does not accept) as failed', async () => {
    const sink = createAlertmanagerSink({ url, sleep: noSleep });
    sink.enqueue([
      notification({ fingerprint: 'bad', labels: { 'bad-label': 'x', check: 'c.x' } }),
    ]);
    await sink.idle();
    expect(sink.drainStats()).toEqual({ sent: 0, retried: 0, failed: 1, dropped: 0 });
  });
});
