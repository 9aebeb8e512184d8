// One HTTP request with bounded retries, shared by the webhook sender, the Alertmanager bridge and the Jira
// client: each holds a Kafka record until the receiver accepted it, so all need the same split between "try
// again later" (the record stays uncommitted) and "never" (the record is dead-lettered with the reason).
import { DependencyUnavailableError } from '@tidemark/core';
import { backoffDelay } from '@tidemark/runtime';
import type { BackoffOptions } from '@tidemark/runtime';

/** What a sender logs through (a pino logger fits). */
export interface SinkLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How hard one POST tries before the receiver counts as unavailable. */
export interface PostRetryOptions {
  logger?: SinkLogger;
  /**
   * Attempts per POST before the receiver counts as unavailable. Kept small so one record never holds the
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

/** One request's destination and how its answers are read. */
export interface HttpTarget {
  url: string | URL;
  /** The URL as logs may show it (no query string, no credentials). */
  shownUrl: string;
  /** The receiver in errors, with where it is, e.g. `webhook receiver chat (https://…/hook)`. */
  name: string;
  /** The dependency's id in DependencyUnavailableError (e.g. `webhook:chat`, `alertmanager`). */
  dependency: string;
  /** Prefix of the retry log line, e.g. `webhook`. */
  logPrefix: string;
  /** Request headers besides `content-type: application/json` of a body (never logged). */
  headers?: Record<string, string>;
  /** Non-2xx statuses that are an answer, not a failure (e.g. 404 where absence is the answer). */
  answers?: (status: number) => boolean;
  /** Whether an HTTP status may pass on a later attempt. @default 5xx, 408 and 429 */
  retriable?: (status: number) => boolean;
  /** The error for a status that will never pass (the record is dead-lettered with it). */
  rejected: (status: number, body: string) => Error;
  /** Extra fields of the retry log lines. */
  logFields?: Record<string, unknown>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const defaultRetriable = (status: number) => status >= 500 || status === 408 || status === 429;

/** A request's answer: its status and body text. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * Sends one request (a JSON `body` when given). Network errors, timeouts and retriable statuses are retried with
 * backoff up to `maxAttempts`, then thrown as DependencyUnavailableError; any other status that is neither 2xx
 * nor one of `target.answers` throws `target.rejected(...)`.
 */
export async function requestWithRetry(
  target: HttpTarget,
  request: { method: string; body?: string },
  options: PostRetryOptions = {},
): Promise<HttpAnswer> {
  const {
    logger,
    maxAttempts = 5,
    backoff = { initialMs: 500, maxMs: 4000 },
    timeoutMs = 5000,
    fetch: doFetch = globalThis.fetch,
    sleep = realSleep,
  } = options;
  const retriable = target.retriable ?? defaultRetriable;
  let last: unknown;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) {
      const delayMs = backoffDelay(attempt - 1, backoff);
      logger?.warn(
        { err: last, ...target.logFields, url: target.shownUrl, attempt, delayMs },
        `${target.logPrefix}: request failed; retrying`,
      );
      await sleep(delayMs);
    }
    let response: Response;
    try {
      response = await doFetch(target.url, {
        method: request.method,
        headers: {
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...target.headers,
        },
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      last = error;
      continue;
    }
    const text = await response.text().catch(() => '');
    if (response.ok || target.answers?.(response.status)) return { status: response.status, text };
    if (!retriable(response.status)) throw target.rejected(response.status, text);
    last = new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
  }
  throw new DependencyUnavailableError(
    target.dependency,
    `${target.name} unavailable after ${maxAttempts} attempts: ${(last as Error)?.message ?? String(last)}`,
    { cause: last, ...(target.logFields ? { context: target.logFields } : {}) },
  );
}

/** POSTs `body` as JSON (see requestWithRetry); resolves once the receiver accepted it. */
export async function postWithRetry(
  target: HttpTarget,
  body: string,
  options: PostRetryOptions = {},
): Promise<void> {
  await requestWithRetry(target, { method: 'POST', body }, options);
}

/** A URL as logs may show it: without credentials and query string (a token may ride there). */
export function safeUrl(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
