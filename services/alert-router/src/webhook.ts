// The HTTP side of webhook receivers: POST one Alertmanager webhook v4 message, retrying what may pass.
import { ConfigError, TidemarkError } from '@tidemark/core';
import { WEBHOOK_ID_HEADER } from '@tidemark/routing';
import type { Receiver, WebhookDeliver, WebhookMessage } from '@tidemark/routing';
import { postWithRetry, safeUrl } from './http-post.js';
import type { PostRetryOptions } from './http-post.js';

/** Options of createWebhookDeliver. */
export type WebhookDeliverOptions = PostRetryOptions;

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

/**
 * POSTs a webhook message as Alertmanager does (JSON body, `content-type: application/json`), plus the
 * message's deterministic id in the `tidemark-notification-id` header so a receiver can drop a redelivery.
 * Network errors, timeouts, 408, 429 and 5xx are retried with backoff up to `maxAttempts`, then reported as
 * DependencyUnavailableError (the record stays uncommitted); any other non-2xx is WebhookRejectedError.
 */
export function createWebhookDeliver(options: WebhookDeliverOptions = {}): WebhookDeliver {
  return async (receiver: Receiver, message: WebhookMessage, id: string): Promise<void> => {
    const url = receiver.url;
    if (!url) throw new TidemarkError(`receiver ${receiver.name} has no url`);
    await postWithRetry(
      {
        url,
        shownUrl: safeUrl(url),
        name: `webhook receiver ${receiver.name} (${safeUrl(url)})`,
        dependency: `webhook:${receiver.name}`,
        logPrefix: 'webhook',
        headers: { [WEBHOOK_ID_HEADER]: id },
        rejected: (status, body) => new WebhookRejectedError(receiver.name, status, body),
        logFields: { receiver: receiver.name },
      },
      JSON.stringify(message),
      options,
    );
  };
}

/**
 * Which consumer this process runs: the router, or one of its senders (webhook messages, Jira tickets, alerts to
 * Alertmanager).
 */
export type AlertRouterMode = 'router' | 'webhook' | 'jira' | 'alertmanager';

/** The alert-router's own variables besides the runtime's and the Alertmanager bridge's. */
export interface RouterModeSettings {
  mode: AlertRouterMode;
  /** `externalURL` of webhook messages. */
  externalUrl?: string;
  /** Template of alerts' `generatorURL`. */
  generatorUrl?: string;
}

/**
 * Reads ALERT_ROUTER_MODE (`router`, default, `webhook`, `jira` or `alertmanager`), TIDEMARK_EXTERNAL_URL and ALERT_GENERATOR_URL;
 * throws ConfigError naming each bad variable.
 */
export function routerModeFromEnv(env: NodeJS.ProcessEnv): RouterModeSettings {
  const problems: string[] = [];
  const mode = env['ALERT_ROUTER_MODE'] || 'router';
  if (!['router', 'webhook', 'jira', 'alertmanager'].includes(mode))
    problems.push(
      `ALERT_ROUTER_MODE="${mode}": must be "router", "webhook", "jira" or "alertmanager"`,
    );
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
