// The HTTP side of webhook receivers: POST one Alertmanager webhook v4 message, retrying what may pass.
import { ConfigError, DependencyUnavailableError, TidemarkError } from '@tidemark/core';
import { backoffDelay } from '@tidemark/runtime';
import type { BackoffOptions } from '@tidemark/runtime';
import { WEBHOOK_ID_HEADER } from '@tidemark/routing';
import type { Receiver, WebhookDeliver, WebhookMessage } from '@tidemark/routing';
import type { SinkLogger } from './alertmanager.js';

/** Options of createWebhookDeliver. */
export interface WebhookDeliverOptions {
  logger?: SinkLogger;
  /**
   * Attempts per message before the receiver counts as unavailable. Kept small so one record never holds the
   * partition past the consumer's session timeout; the host retries the record after that. @default 5
   */
  maxAttempts?: number;
  /** Backoff between attempts. @default { initialMs: 500, maxMs: 4000 } */
  backoff?: BackoffOptions;
  /** Timeout of one POST, ms. @default 5000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** A webhook receiver answered 4xx (other than 408/429): the same message will never be accepted. */
export class WebhookRejectedError extends TidemarkError {
  constructor(
    readonly receiver: string,
    readonly status: number,
    body: string,
  ) {
    super(
      `webhook receiver ${receiver} rejected the message: HTTP ${status} ${body.slice(0, 300)}`,
      {
        retriable: false,
        context: { receiver, status },
      },
    );
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// The URL without its query string: a bridge URL may carry a token there, and logs must not.
function safeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/**
 * POSTs a webhook message as Alertmanager does (JSON body, `content-type: application/json`), plus the
 * message's deterministic id in the `tidemark-notification-id` header so a receiver can drop a redelivery.
 * Network errors, timeouts, 408, 429 and 5xx are retried with backoff up to `maxAttempts`, then reported as
 * DependencyUnavailableError (the record stays uncommitted); any other non-2xx is WebhookRejectedError.
 */
export function createWebhookDeliver(options: WebhookDeliverOptions = {}): WebhookDeliver {
  const {
    logger,
    maxAttempts = 5,
    backoff = { initialMs: 500, maxMs: 4000 },
    timeoutMs = 5000,
    fetch: doFetch = globalThis.fetch,
    sleep = realSleep,
  } = options;
  return async (receiver: Receiver, message: WebhookMessage, id: string): Promise<void> => {
    const url = receiver.url;
    if (!url) throw new TidemarkError(`receiver ${receiver.name} has no url`);
    const where = safeUrl(url);
    const body = JSON.stringify(message);
    let last: unknown;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) {
        const delayMs = backoffDelay(attempt - 1, backoff);
        logger?.warn(
          { err: last, receiver: receiver.name, url: where, attempt, delayMs },
          'webhook: post failed; retrying',
        );
        await sleep(delayMs);
      }
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [WEBHOOK_ID_HEADER]: id },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        last = error;
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.ok) return;
      const retriable =
        response.status >= 500 || response.status === 408 || response.status === 429;
      if (!retriable) throw new WebhookRejectedError(receiver.name, response.status, text);
      last = new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
    }
    throw new DependencyUnavailableError(
      `webhook:${receiver.name}`,
      `webhook receiver ${receiver.name} (${where}) unavailable after ${maxAttempts} attempts: ${(last as Error)?.message ?? String(last)}`,
      { cause: last, context: { receiver: receiver.name } },
    );
  };
}

/** Which consumer this process runs: the router, or the sender of its webhook messages. */
export type AlertRouterMode = 'router' | 'webhook' | 'jira';

/** The alert-router's own variables besides the runtime's and the Alertmanager sink's. */
export interface RouterModeSettings {
  mode: AlertRouterMode;
  /** `externalURL` of webhook messages. */
  externalUrl?: string;
  /** Template of alerts' `generatorURL`. */
  generatorUrl?: string;
}

/**
 * Reads ALERT_ROUTER_MODE (`router`, default, `webhook` or `jira`), TIDEMARK_EXTERNAL_URL and ALERT_GENERATOR_URL;
 * throws ConfigError naming each bad variable.
 */
export function routerModeFromEnv(env: NodeJS.ProcessEnv): RouterModeSettings {
  const problems: string[] = [];
  const mode = env['ALERT_ROUTER_MODE'] || 'router';
  if (mode !== 'router' && mode !== 'webhook' && mode !== 'jira')
    problems.push(`ALERT_ROUTER_MODE="${mode}": must be "router", "webhook" or "jira"`);
  const externalUrl = env['TIDEMARK_EXTERNAL_URL'] || undefined;
  if (externalUrl !== undefined && !URL.canParse(externalUrl))
    problems.push(`TIDEMARK_EXTERNAL_URL="${externalUrl}": must be a URL`);
  const generatorUrl = env['ALERT_GENERATOR_URL'] || undefined;
  // A template: check it once its placeholders are filled.
  if (generatorUrl !== undefined && !URL.canParse(generatorUrl.replace(/\{[^}]*\}/g, 'x')))
    problems.push(
      `ALERT_GENERATOR_URL="${generatorUrl}": must be a URL (with {label} placeholders)`,
    );
  if (problems.length > 0) throw new ConfigError('invalid alert-router configuration', problems);
  return {
    mode: mode as AlertRouterMode,
    ...(externalUrl ? { externalUrl } : {}),
    ...(generatorUrl ? { generatorUrl } : {}),
  };
}
