// The HTTP side of jira receivers: Jira REST API v2 calls for @tidemark/routing's syncTicket.
import { ConfigError, DependencyUnavailableError, TidemarkError } from '@tidemark/core';
import { backoffDelay } from '@tidemark/runtime';
import type { BackoffOptions } from '@tidemark/runtime';
import type { JiraApi, JiraIssueFields, JiraIssueRef, Receiver } from '@tidemark/routing';
import type { SinkLogger } from './alertmanager.js';

/** Options of createJiraClient. */
export interface JiraClientOptions {
  /** `Authorization` header value (e.g. `Bearer <token>`, or `Basic <base64 user:token>`). @default none */
  authorization?: string;
  logger?: SinkLogger;
  /** Attempts per call before Jira counts as unavailable. @default 5 */
  maxAttempts?: number;
  /** @default { initialMs: 500, maxMs: 4000 } */
  backoff?: BackoffOptions;
  /** Timeout of one call, ms. @default 5000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** Jira refused a call for good (4xx other than 404 where absence is an answer, 408 and 429). */
export class JiraRejectedError extends TidemarkError {
  constructor(
    readonly receiver: string,
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`Jira (${receiver}) rejected ${what}: HTTP ${status} ${body.slice(0, 300)}`, {
      retriable: false,
      context: { receiver, status },
    });
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The Jira REST API v2 client: retries network errors, timeouts, 408, 429 and 5xx with backoff. */
export function createJiraClient(options: JiraClientOptions = {}): JiraApi {
  const {
    authorization,
    logger,
    maxAttempts = 5,
    backoff = { initialMs: 500, maxMs: 4000 },
    timeoutMs = 5000,
    fetch: doFetch = globalThis.fetch,
    sleep = realSleep,
  } = options;

  async function call(
    receiver: Receiver,
    method: string,
    path: string,
    body?: unknown,
    absentOk = false,
  ): Promise<unknown> {
    const base = receiver.url ?? '';
    const url = new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`);
    const what = `${method} ${url.pathname}`;
    let last: unknown;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) {
        const delayMs = backoffDelay(attempt - 1, backoff);
        logger?.warn(
          { err: last, receiver: receiver.name, what, attempt, delayMs },
          'jira: retrying',
        );
        await sleep(delayMs);
      }
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(authorization ? { authorization } : {}),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        last = error;
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.ok) return text === '' ? undefined : (JSON.parse(text) as unknown);
      if (response.status === 404 && absentOk) return undefined;
      const retriable =
        response.status >= 500 || response.status === 408 || response.status === 429;
      if (!retriable) throw new JiraRejectedError(receiver.name, response.status, what, text);
      last = new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
    }
    throw new DependencyUnavailableError(
      `jira:${receiver.name}`,
      `Jira (${receiver.name}) unavailable after ${maxAttempts} attempts at ${what}: ${(last as Error)?.message ?? String(last)}`,
      { cause: last, context: { receiver: receiver.name } },
    );
  }

  return {
    async searchByLabel(receiver, label): Promise<JiraIssueRef[]> {
      const jql = `project = "${receiver.project ?? ''}" AND labels = "${label}"`;
      const q = new URLSearchParams({ jql, fields: 'key', maxResults: '1' });
      const res = (await call(receiver, 'GET', `rest/api/2/search?${q.toString()}`)) as
        { issues?: Array<{ key?: unknown }> } | undefined;
      return (res?.issues ?? [])
        .filter((i): i is { key: string } => typeof i.key === 'string')
        .map((i) => ({ key: i.key }));
    },
    async createIssue(receiver, fields: JiraIssueFields): Promise<string> {
      const res = (await call(receiver, 'POST', 'rest/api/2/issue', { fields })) as
        { key?: unknown } | undefined;
      if (typeof res?.key !== 'string')
        throw new JiraRejectedError(receiver.name, 201, 'POST /rest/api/2/issue', 'no issue key');
      return res.key;
    },
    async addComment(receiver, issue, body): Promise<void> {
      await call(receiver, 'POST', `rest/api/2/issue/${encodeURIComponent(issue)}/comment`, {
        body,
      });
    },
    async transition(receiver, issue, name): Promise<boolean> {
      const path = `rest/api/2/issue/${encodeURIComponent(issue)}/transitions`;
      const res = (await call(receiver, 'GET', path)) as
        { transitions?: Array<{ id?: unknown; name?: unknown }> } | undefined;
      const t = res?.transitions?.find((x) => x.name === name);
      if (typeof t?.id !== 'string') {
        logger?.warn(
          { receiver: receiver.name, issue, transition: name },
          'jira: no such transition',
        );
        return false;
      }
      await call(receiver, 'POST', path, { transition: { id: t.id } });
      return true;
    },
    async getProperty(receiver, issue, property): Promise<unknown> {
      const res = (await call(
        receiver,
        'GET',
        `rest/api/2/issue/${encodeURIComponent(issue)}/properties/${encodeURIComponent(property)}`,
        undefined,
        true,
      )) as { value?: unknown } | undefined;
      return res?.value;
    },
    async setProperty(receiver, issue, property, value): Promise<void> {
      await call(
        receiver,
        'PUT',
        `rest/api/2/issue/${encodeURIComponent(issue)}/properties/${encodeURIComponent(property)}`,
        value,
      );
    },
  };
}

/**
 * The `Authorization` of Jira calls from JIRA_TOKEN (a bearer token) or JIRA_USER + JIRA_TOKEN (basic, as
 * Jira Cloud's API tokens are used); undefined when JIRA_TOKEN is unset. The token is never logged.
 */
export function jiraAuthorizationFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const token = env['JIRA_TOKEN'];
  const user = env['JIRA_USER'];
  if (!token) {
    if (user)
      throw new ConfigError('invalid Jira configuration', [
        'JIRA_USER is set but JIRA_TOKEN is not',
      ]);
    return undefined;
  }
  return user ? `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}` : `Bearer ${token}`;
}
