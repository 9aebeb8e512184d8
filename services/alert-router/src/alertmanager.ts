import { ConfigError, parseDuration } from '@tidemark/core';
import { backoffDelay } from '@tidemark/runtime';
import type { BackoffOptions } from '@tidemark/runtime';
import { ROUTING_DEFAULTS } from '@tidemark/routing';
import type { AlertNotification, AlertSink } from '@tidemark/routing';

/** What the sink logs through (a pino logger fits). */
export interface SinkLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How the sink authenticates to Alertmanager (or a proxy in front of it). Never logged. */
export type AlertmanagerAuth =
  { scheme: 'basic'; username: string; password: string } | { scheme: 'bearer'; token: string };

/** Options of createAlertmanagerSink. */
export interface AlertmanagerSinkOptions {
  /** Sent as the Authorization header of every POST. @default none */
  auth?: AlertmanagerAuth;
  /** Alertmanager's base URL, e.g. `http://127.0.0.1:9093`; alerts go to `<url>/api/v2/alerts`. */
  url: string;
  logger?: SinkLogger;
  /**
   * Added to a firing alert's refresh time to form its `endsAt`, so Alertmanager keeps it firing until the
   * router has had time to send it again. @default 10 minutes
   */
  graceMs?: number;
  /** Alerts per POST. @default 64 */
  batchSize?: number;
  /** Alerts waiting to be sent at most; beyond it the oldest are dropped (and counted). @default 10000 */
  maxPending?: number;
  /** Attempts per batch before it is given up (and counted as failed). @default 8 */
  maxAttempts?: number;
  /** Backoff between attempts. @default { initialMs: 500, maxMs: 30000 } */
  backoff?: BackoffOptions;
  /** Timeout of one POST, ms. @default 10000 */
  timeoutMs?: number;
  /** `generatorURL` of every alert (a link back to where it came from). @default none */
  generatorUrl?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** An alert in Alertmanager's API v2 form (`postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/** Counts of the sink by outcome; alerts, except `retried`, which counts failed attempts. */
export interface SinkStats {
  sent: number;
  retried: number;
  failed: number;
  dropped: number;
}

/** The Alertmanager sink: an AlertSink plus what tests and shutdown need. */
export interface AlertmanagerSink extends AlertSink {
  drainStats(): Record<string, number>;
  /** Resolves once nothing is pending or in flight. */
  idle(): Promise<void>;
  /** Stops sending; pending alerts are dropped (Alertmanager lets them lapse at their `endsAt`). */
  close(): void;
}

/** An Alertmanager answer that retrying will not change (4xx other than 408/429). */
export class AlertmanagerRejectedError extends Error {
  override name = 'AlertmanagerRejectedError';
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Alertmanager rejected the alerts: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

/** Converts one notification to Alertmanager's form; a firing alert ends at its refresh time plus grace. */
export function toPostableAlert(
  n: AlertNotification,
  graceMs: number,
  generatorUrl?: string,
): PostableAlert {
  const { alert } = n;
  const refreshBy = n.refreshBy ?? n.dueAt + ROUTING_DEFAULTS.repeatInterval;
  const annotations: Record<string, string> = {
    summary: alert.annotations.summary,
    findings: String(alert.findings.count),
    tidemark_receiver: alert.receiver,
  };
  if (alert.annotations.description) annotations['description'] = alert.annotations.description;
  if (alert.annotations.runbook_url) annotations['runbook_url'] = alert.annotations.runbook_url;
  return {
    // Alertmanager's UIs and default grouping key on `alertname`; the check id is what the alert is about.
    labels: { alertname: alert.labels['check'] ?? 'tidemark', ...alert.labels },
    annotations,
    startsAt: alert.startsAt,
    endsAt:
      alert.status === 'resolved' ? alert.endsAt : new Date(refreshBy + graceMs).toISOString(),
    ...(generatorUrl ? { generatorURL: generatorUrl } : {}),
  };
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts alerts to a real Alertmanager's `/api/v2/alerts`, off the partition's path: `enqueue` only queues.
 * Pending alerts are coalesced by fingerprint (a later notification replaces an earlier one; of two firing
 * ones the later `endsAt` wins), so the queue is bounded by the number of distinct alerts. A batch that
 * fails with a network error, a timeout, 408, 429 or 5xx is retried with backoff up to `maxAttempts`; a 4xx
 * is not retried. Either way it is counted and logged, and the sink goes on.
 */
export function createAlertmanagerSink(options: AlertmanagerSinkOptions): AlertmanagerSink {
  const {
    logger,
    graceMs = 10 * 60_000,
    batchSize = 64,
    maxPending = 10_000,
    maxAttempts = 8,
    backoff = { initialMs: 500, maxMs: 30_000 },
    timeoutMs = 10_000,
    generatorUrl,
    fetch: doFetch = globalThis.fetch,
    sleep = realSleep,
    auth,
  } = options;
  const authorization =
    auth?.scheme === 'basic'
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : auth?.scheme === 'bearer'
        ? `Bearer ${auth.token}`
        : undefined;
  const endpoint = new URL(
    'api/v2/alerts',
    options.url.endsWith('/') ? options.url : `${options.url}/`,
  );
  const pending = new Map<string, { postable: PostableAlert; firing: boolean }>();
  const stats: SinkStats = { sent: 0, retried: 0, failed: 0, dropped: 0 };
  let running: Promise<void> | undefined;
  let closed = false;

  function put(fp: string, postable: PostableAlert, firing: boolean): void {
    const prev = pending.get(fp);
    pending.delete(fp); // re-inserted last: the newest notification goes last
    // Two firing sends of one alert (e.g. two receivers): the newer content, the longer life. ISO strings of
    // one form compare like the times they denote.
    if (prev?.firing && firing && prev.postable.endsAt > postable.endsAt)
      postable = { ...postable, endsAt: prev.postable.endsAt };
    pending.set(fp, { postable, firing });
  }

  function enqueue(notifications: readonly AlertNotification[]): void {
    if (closed) return;
    for (const n of notifications) {
      put(
        n.alert.fingerprint,
        toPostableAlert(n, graceMs, generatorUrl),
        n.alert.status === 'firing',
      );
    }
    let over = pending.size - maxPending;
    if (over > 0) {
      logger?.warn(
        { dropped: over, maxPending },
        'alertmanager: queue full; dropping the oldest alerts',
      );
      for (const fp of pending.keys()) {
        if (over-- <= 0) break;
        pending.delete(fp);
        stats.dropped++;
      }
    }
    kick();
  }

  function kick(): void {
    if (running || closed || pending.size === 0) return;
    running = pump()
      .catch((error: unknown) => logger?.error({ err: error }, 'alertmanager: sender failed'))
      .finally(() => {
        running = undefined;
        kick();
      });
  }

  async function post(batch: PostableAlert[]): Promise<void> {
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw Object.assign(new Error(`POST ${endpoint.href} failed: ${(error as Error).message}`), {
        cause: error,
        retriable: true,
      });
    }
    const body = await response.text().catch(() => '');
    if (response.ok) return;
    const retriable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw Object.assign(new AlertmanagerRejectedError(response.status, body), { retriable });
  }

  async function pump(): Promise<void> {
    while (pending.size > 0 && !closed) {
      const entries = [...pending.entries()].slice(0, batchSize);
      for (const [fp] of entries) pending.delete(fp);
      let batch = entries;
      for (let attempt = 0; ; attempt++) {
        try {
          await post(batch.map(([, p]) => p.postable));
          stats.sent += batch.length;
          break;
        } catch (error) {
          const retriable = (error as { retriable?: boolean }).retriable === true;
          if (!retriable || attempt + 1 >= maxAttempts || closed) {
            stats.failed += batch.length;
            logger?.error(
              { err: error, alerts: batch.length, attempts: attempt + 1, url: endpoint.href },
              'alertmanager: giving up on a batch of alerts',
            );
            break;
          }
          stats.retried++;
          const delayMs = backoffDelay(attempt, backoff);
          logger?.warn(
            { err: error, attempt: attempt + 1, delayMs, url: endpoint.href },
            'alertmanager: post failed; retrying',
          );
          await sleep(delayMs);
          // A newer notification of the same alert queued meanwhile goes instead, in a later batch.
          batch = batch.filter(([fp]) => !pending.has(fp));
          if (batch.length === 0) break;
        }
      }
    }
  }

  return {
    enqueue,
    drainStats() {
      const out = { ...stats };
      stats.sent = stats.retried = stats.failed = stats.dropped = 0;
      return out;
    },
    async idle() {
      while (running) await running;
    },
    close() {
      closed = true;
      pending.clear();
    },
  };
}

/**
 * The sink configured by ALERTMANAGER_URL (and optionally ALERTMANAGER_GENERATOR_URL, ALERTMANAGER_TIMEOUT),
 * or undefined when ALERTMANAGER_URL is not set. Throws ConfigError naming each bad variable.
 */
export function alertmanagerSinkFromEnv(
  env: NodeJS.ProcessEnv,
  logger?: SinkLogger,
): AlertmanagerSink | undefined {
  const url = env['ALERTMANAGER_URL'];
  if (!url) return undefined;
  const problems: string[] = [];
  const httpUrl = (name: string, value: string): void => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      // reported below
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      problems.push(`${name}="${value}": must be an http:// or https:// URL`);
  };
  // Credentials in the URL would be logged with it (and fetch refuses them): they go in ALERTMANAGER_AUTH_*.
  let withCredentials = false;
  try {
    const u = new URL(url);
    withCredentials = u.username !== '' || u.password !== '';
  } catch {
    // reported by httpUrl
  }
  if (withCredentials)
    problems.push(
      'ALERTMANAGER_URL: must not carry credentials (user:password@); set ALERTMANAGER_AUTH_USERNAME and ALERTMANAGER_AUTH_PASSWORD, or ALERTMANAGER_AUTH_BEARER_TOKEN',
    );
  else httpUrl('ALERTMANAGER_URL', url);
  const username = env['ALERTMANAGER_AUTH_USERNAME'] || undefined;
  const password = env['ALERTMANAGER_AUTH_PASSWORD'] || undefined;
  const token = env['ALERTMANAGER_AUTH_BEARER_TOKEN'] || undefined;
  let auth: AlertmanagerAuth | undefined;
  if ((username === undefined) !== (password === undefined))
    problems.push('ALERTMANAGER_AUTH_USERNAME, ALERTMANAGER_AUTH_PASSWORD: basic auth needs both');
  else if (username !== undefined && password !== undefined && token !== undefined)
    problems.push(
      'ALERTMANAGER_AUTH_BEARER_TOKEN: set either it or ALERTMANAGER_AUTH_USERNAME/_PASSWORD, not both',
    );
  else if (username !== undefined && password !== undefined)
    auth = { scheme: 'basic', username, password };
  else if (token !== undefined) auth = { scheme: 'bearer', token };
  const generatorUrl = env['ALERTMANAGER_GENERATOR_URL'] || undefined;
  if (generatorUrl) httpUrl('ALERTMANAGER_GENERATOR_URL', generatorUrl);
  let timeoutMs: number | undefined;
  const timeout = env['ALERTMANAGER_TIMEOUT'];
  if (timeout) {
    try {
      timeoutMs = parseDuration(timeout);
      if (timeoutMs <= 0) problems.push(`ALERTMANAGER_TIMEOUT="${timeout}": must be more than 0`);
    } catch (error) {
      problems.push(`ALERTMANAGER_TIMEOUT="${timeout}": ${(error as Error).message}`);
    }
  }
  if (problems.length > 0)
    throw new ConfigError('invalid Alertmanager sink configuration', problems);
  return createAlertmanagerSink({
    url,
    ...(auth ? { auth } : {}),
    ...(logger ? { logger } : {}),
    ...(generatorUrl ? { generatorUrl } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}
