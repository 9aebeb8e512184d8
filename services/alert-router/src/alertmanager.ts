// The HTTP side of the Alertmanager bridge (ALERT_ROUTER_MODE=alertmanager): its settings from the environment,
// and the POST of alerts to `/api/v2/alerts`. The consumer around it is createAlertmanagerBridgeService.
import { ConfigError, TidemarkError, parseDuration } from '@tidemark/core';
import type { AlertmanagerDeliver } from '@tidemark/routing';
import { postWithRetry, safeUrl } from './http-post.js';
import type { PostRetryOptions } from './http-post.js';

/** How the bridge authenticates to Alertmanager (or a proxy in front of it). Never logged. */
export type AlertmanagerAuth =
  { scheme: 'basic'; username: string; password: string } | { scheme: 'bearer'; token: string };

/** Where and how the bridge posts. */
export interface AlertmanagerSettings {
  /** Alertmanager's base URL, e.g. `http://127.0.0.1:9093`; alerts go to `<url>/api/v2/alerts`. */
  url: string;
  /** Sent as the Authorization header of every POST. @default none */
  auth?: AlertmanagerAuth;
  /** `generatorURL` of every alert, instead of the alert's own. @default the alert's */
  generatorUrl?: string;
  /** Timeout of one POST, ms. @default 5000 */
  timeoutMs?: number;
}

/** Alertmanager refused an alert for good (4xx other than 401/403/408/429): the record is dead-lettered. */
export class AlertmanagerRejectedError extends TidemarkError {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`Alertmanager rejected the alert: HTTP ${status} ${body.slice(0, 300)}`, {
      retriable: false,
      context: { status },
    });
  }
}

// Besides 5xx, 408 and 429: 401 and 403 are the bridge's credentials, not the alert. Alerts wait (readiness
// false, the error logged) until an operator fixes them, instead of every alert being dead-lettered.
const retriable = (status: number) =>
  status >= 500 || status === 408 || status === 429 || status === 401 || status === 403;

/**
 * POSTs alerts to `<url>/api/v2/alerts` (retrying what may pass; see postWithRetry). Credentials go in the
 * Authorization header and never into logs or errors.
 */
export function createAlertmanagerDeliver(
  settings: AlertmanagerSettings,
  options: PostRetryOptions = {},
): AlertmanagerDeliver {
  const { auth } = settings;
  const authorization =
    auth?.scheme === 'basic'
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : auth?.scheme === 'bearer'
        ? `Bearer ${auth.token}`
        : undefined;
  const endpoint = new URL(
    'api/v2/alerts',
    settings.url.endsWith('/') ? settings.url : `${settings.url}/`,
  );
  const target = {
    url: endpoint,
    shownUrl: safeUrl(endpoint),
    name: `Alertmanager (${safeUrl(endpoint)})`,
    dependency: 'alertmanager',
    logPrefix: 'alertmanager',
    ...(authorization ? { headers: { authorization } } : {}),
    retriable,
    rejected: (status: number, body: string) => new AlertmanagerRejectedError(status, body),
  };
  const retry = { ...options, ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}) };
  return (alerts) => postWithRetry(target, JSON.stringify(alerts), retry);
}

/**
 * The bridge's settings from ALERTMANAGER_URL (required), ALERTMANAGER_AUTH_*, ALERTMANAGER_GENERATOR_URL and
 * ALERTMANAGER_TIMEOUT. Throws ConfigError naming each bad variable (never quoting a credential).
 */
export function alertmanagerSettingsFromEnv(env: NodeJS.ProcessEnv): AlertmanagerSettings {
  const url = env['ALERTMANAGER_URL'] ?? '';
  const problems: string[] = [];
  if (!url)
    problems.push(
      "ALERTMANAGER_URL: required with ALERT_ROUTER_MODE=alertmanager (Alertmanager's base URL)",
    );
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
  if (!url) {
    // reported above
  } else if (withCredentials)
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
    throw new ConfigError('invalid Alertmanager bridge configuration', problems);
  return {
    url,
    ...(auth ? { auth } : {}),
    ...(generatorUrl ? { generatorUrl } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  };
}
