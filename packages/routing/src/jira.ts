// Tickets into Jira: a consumer of dq.tickets.v1 (the source of truth) mirrors each ticket action of a
// `kind: jira` receiver onto a Jira issue through the REST API v2. It is idempotent: the issue carries the
// ticket key as a label (found by a JQL search before anything is created) and the last applied ticket
// version as an issue property, so a redelivered action changes nothing.
import { EVENT_TYPES, EnvelopeError, TidemarkError } from '@tidemark/core';
import type {
  HandlerContext,
  InputRecord,
  MetricDefinition,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
  Ticket,
} from '@tidemark/core';
import type { Receiver, RoutingConfig } from './config.js';
import { NoState } from './no-state.js';

/** Label prefix of the issue that mirrors a ticket: `tidemark-<ticketKey>`. */
export const JIRA_LABEL_PREFIX = 'tidemark-';
/** Issue property holding the last ticket version applied to the issue. */
export const JIRA_VERSION_PROPERTY = 'tidemark.ticket';

/** An issue as the search returns it. */
export interface JiraIssueRef {
  key: string;
}

/** The Jira REST API v2 calls the sync needs (the HTTP side is services/alert-router/src/jira.ts). */
export interface JiraApi {
  /** `GET /rest/api/2/search?jql=…`: the issues carrying a label. */
  searchByLabel(receiver: Receiver, label: string): Promise<JiraIssueRef[]>;
  /** `POST /rest/api/2/issue`: creates an issue, returns its key. */
  createIssue(receiver: Receiver, fields: JiraIssueFields): Promise<string>;
  /** `POST /rest/api/2/issue/{key}/comment`. */
  addComment(receiver: Receiver, issue: string, body: string): Promise<void>;
  /** `GET` then `POST /rest/api/2/issue/{key}/transitions`: takes the transition of that name, if offered. */
  transition(receiver: Receiver, issue: string, name: string): Promise<boolean>;
  /** `GET /rest/api/2/issue/{key}/properties/{property}`: undefined when absent. */
  getProperty(receiver: Receiver, issue: string, property: string): Promise<unknown>;
  /** `PUT /rest/api/2/issue/{key}/properties/{property}`. */
  setProperty(receiver: Receiver, issue: string, property: string, value: unknown): Promise<void>;
}

/** The `fields` of a Jira issue create. */
export interface JiraIssueFields {
  project: { key: string };
  issuetype: { name: string };
  summary: string;
  description: string;
  labels: string[];
  priority: { name: string };
  duedate?: string;
}

const PRIORITY: Record<Ticket['priority'], string> = {
  P1: 'Highest',
  P2: 'High',
  P3: 'Medium',
  P4: 'Low',
};

/** The label that identifies the issue of a ticket. */
export function jiraLabel(ticketKey: string): string {
  return `${JIRA_LABEL_PREFIX}${ticketKey}`;
}

/** The fields of the issue that mirrors a ticket (summary ≤ 255 characters, as Jira requires). */
export function jiraIssueFields(ticket: Ticket, receiver: Receiver): JiraIssueFields {
  const lines = [
    ticket.body,
    '',
    `Assignee: ${ticket.assignee}${ticket.team ? ` (team ${ticket.team})` : ''}; queue ${ticket.queue}.`,
    `Tidemark ticket ${ticket.ticketKey}, version ${ticket.version}.`,
  ];
  return {
    project: { key: receiver.project ?? '' },
    issuetype: { name: receiver.issueType ?? 'Task' },
    summary: ticket.title.slice(0, 255),
    description: lines.join('\n'),
    labels: ['tidemark', jiraLabel(ticket.ticketKey)],
    priority: { name: PRIORITY[ticket.priority] },
    ...(ticket.dueBy ? { duedate: ticket.dueBy.slice(0, 10) } : {}),
  };
}

/** What one sync did, for metrics and tests. */
export type JiraOutcome = 'created' | 'commented' | 'resolved' | 'duplicate' | 'no-issue';

function appliedVersion(value: unknown): number {
  const v = (value as { version?: unknown } | undefined)?.version;
  return typeof v === 'number' ? v : 0;
}

/**
 * Applies one ticket action to Jira: find the issue by label; none → create it (open or update; a resolve of
 * an issue never created has nothing to close); found → skip when the issue already has this version, else
 * comment (update) or comment and transition (resolve). The applied version is written last, so a crash in
 * between repeats at most the comment.
 */
export async function syncTicket(
  api: JiraApi,
  receiver: Receiver,
  ticket: Ticket,
): Promise<JiraOutcome> {
  const label = jiraLabel(ticket.ticketKey);
  const [found] = await api.searchByLabel(receiver, label);
  let issue = found?.key;
  let outcome: JiraOutcome;
  if (issue === undefined) {
    if (ticket.action === 'resolve') return 'no-issue';
    issue = await api.createIssue(receiver, jiraIssueFields(ticket, receiver));
    outcome = 'created';
  } else {
    const applied = appliedVersion(await api.getProperty(receiver, issue, JIRA_VERSION_PROPERTY));
    if (applied >= ticket.version || ticket.action === 'open') return 'duplicate';
    const escalated = ticket.escalated
      ? `\nEscalated: past due${ticket.escalationReceiver ? ` (escalation: ${ticket.escalationReceiver})` : ''}.`
      : '';
    await api.addComment(
      receiver,
      issue,
      `${ticket.title} (Tidemark version ${ticket.version})\n\n${ticket.body}${escalated}`,
    );
    outcome = 'commented';
    if (ticket.action === 'resolve') {
      await api.transition(receiver, issue, receiver.resolveTransition ?? 'Done');
      outcome = 'resolved';
    }
  }
  await api.setProperty(receiver, issue, JIRA_VERSION_PROPERTY, {
    ticketKey: ticket.ticketKey,
    version: ticket.version,
    action: ticket.action,
  });
  return outcome;
}

/** Options of createJiraSenderService. */
export interface JiraSenderOptions {
  config: RoutingConfig;
  /** The tickets topic (dq.tickets.v1 or its override). */
  ticketsTopic: string;
  api: JiraApi;
  /** Service name (consumer group, changelog, log field). @default 'alert-router-jira' */
  name?: string;
}

/** Metrics of the Jira sender. */
export const JIRA_SENDER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tidemark_jira_syncs_total',
    help: 'Ticket actions applied to Jira, by receiver and outcome (created, commented, resolved, duplicate, no-issue)',
    kind: 'counter',
    labelNames: ['receiver', 'outcome'],
  },
];

/** A ticket record for a jira receiver routing.yaml does not define (config changed since it was written). */
export class UnknownJiraReceiverError extends TidemarkError {
  constructor(readonly receiver: string) {
    super(`ticket for receiver ${JSON.stringify(receiver)}, which routing.yaml does not define`, {
      context: { receiver },
    });
  }
}

/**
 * Reads a `tidemark.ticket` CloudEvent from the tickets topic (core has no event schema for outputs); throws
 * EnvelopeError naming the first broken field.
 */
export function parseTicketRecord(record: InputRecord): Ticket {
  let v: unknown;
  try {
    v = JSON.parse(record.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new EnvelopeError('invalid-json', `ticket record on ${record.topic} is not JSON`, {
      cause: error,
    });
  }
  const bad = (field: string, why: string): never => {
    throw new EnvelopeError('schema', `ticket record on ${record.topic}: ${field} ${why}`);
  };
  const e = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (e['type'] !== EVENT_TYPES.ticket)
    throw new EnvelopeError(
      'unknown-type',
      `record on ${record.topic} is a ${JSON.stringify(e['type'])} event; the Jira sender takes only ${EVENT_TYPES.ticket}`,
    );
  const d = (typeof e['data'] === 'object' && e['data'] !== null ? e['data'] : {}) as Record<
    string,
    unknown
  >;
  for (const f of ['ticketKey', 'title', 'body', 'queue', 'assignee'] as const)
    if (typeof d[f] !== 'string' || (f === 'ticketKey' && d[f] === ''))
      bad(`data.${f}`, 'must be a string');
  if (!['open', 'update', 'resolve'].includes(d['action'] as string))
    bad('data.action', 'must be "open", "update" or "resolve"');
  if (!Number.isInteger(d['version']) || (d['version'] as number) < 1)
    bad('data.version', 'must be a whole number >= 1');
  if (!['P1', 'P2', 'P3', 'P4'].includes(d['priority'] as string))
    bad('data.priority', 'must be P1, P2, P3 or P4');
  if (d['receiver'] !== undefined && typeof d['receiver'] !== 'string')
    bad('data.receiver', 'must be a string');
  return d as unknown as Ticket;
}

/**
 * The Jira sender as a ServiceDefinition over the tickets topic: tickets of `kind: jira` receivers are synced
 * (awaited, so the host commits after Jira took the action), others skipped. dq.tickets.v1 stays the record;
 * Jira mirrors it. A Jira outage throws DependencyUnavailableError from the API (retried, never a DLQ reason).
 */
export function createJiraSenderService(
  options: JiraSenderOptions,
): ServiceDefinition<PartitionState, Ticket> {
  return {
    name: options.name ?? 'alert-router-jira',
    inputs: [options.ticketsTopic],
    createState: () => new NoState(),
    decode: parseTicketRecord,
    async handle(
      _state: PartitionState,
      ticket: Ticket,
      _record: InputRecord,
      ctx: HandlerContext,
    ): Promise<OutputRecord[]> {
      if (ticket.receiver === undefined) return [];
      const receiver = options.config.receivers.get(ticket.receiver);
      if (!receiver) throw new UnknownJiraReceiverError(ticket.receiver);
      if (receiver.kind !== 'jira') return [];
      const outcome = await syncTicket(options.api, receiver, ticket);
      ctx.metrics.record('tidemark_jira_syncs_total', { receiver: receiver.name, outcome }, 1);
      return [];
    },
    metrics: JIRA_SENDER_METRICS,
  };
}
