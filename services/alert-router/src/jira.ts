// The HTTP side of jira receivers: Jira REST API v2 calls for @tidemark/routing's syncTicket.
import { ConfigError, TidemarkError } from '@tidemark/core';
import type { JiraApi, JiraIssueFields, JiraIssueRef, Receiver } from '@tidemark/routing';
import { requestWithRetry, safeUrl } from './http-post.js';
import type { PostRetryOptions } from './http-post.js';

/** Options of createJiraClient. */
export interface JiraClientOptions extends PostRetryOptions {
  /** `Authorization` header value (e.g. `Bearer <token>`, or `Basic <base64 user:token>`). @default none */
  authorization?: string;
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

/** The Jira REST API v2 client: retries network errors, timeouts, 408, 429 and 5xx with backoff. */
export function createJiraClient(options: JiraClientOptions = {}): JiraApi {
  const { authorization, ...retry } = options;

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
    const answer = await requestWithRetry(
      {
        url,
        shownUrl: safeUrl(url),
        name: `Jira (${receiver.name}) at ${what}`,
        dependency: `jira:${receiver.name}`,
        logPrefix: 'jira',
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
        ...(absentOk ? { answers: (status: number) => status === 404 } : {}),
        rejected: (status, text) => new JiraRejectedError(receiver.name, status, what, text),
        logFields: { receiver: receiver.name, what },
      },
      { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      retry,
    );
    if (answer.status === 404) return undefined;
    return answer.text === '' ? undefined : (JSON.parse(answer.text) as unknown);
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
        retry.logger?.warn(
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
