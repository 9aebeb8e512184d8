// The `receivers` section of the routing config: each receiver's kind and the fields that kind needs.
import type { Located, YamlReader } from '@tidemark/contracts';
import { duration, ROUTING_DEFAULTS } from './config-defaults.js';

/** What a receiver does with what is routed to it: Tidemark-specific (Alertmanager receivers are integrations). */
export type ReceiverKind = 'alerts' | 'tickets' | 'webhook' | 'jira';

/** Whether a receiver takes tickets (steward work items) rather than alerts: `tickets` and `jira`. */
export function isTicketReceiver(receiver: Pick<Receiver, 'kind'>): boolean {
  return receiver.kind === 'tickets' || receiver.kind === 'jira';
}

/**
 * A named destination: `alerts` go to `dq.alerts.v1`, `tickets` to `dq.tickets.v1` for stewards, `webhook`
 * to `dq.alerts.v1` and, grouped as Alertmanager webhook v4 messages, to a URL (see webhook.ts).
 */
export interface Receiver {
  readonly name: string;
  readonly kind: ReceiverKind;
  /** Ticket queue (tickets receivers); the assignee's team when absent. */
  readonly queue?: string;
  /** Ticket SLA period in ms. */
  readonly period: number;
  /** Due time of an item without its own dueBy, in ms after it was observed. */
  readonly sla: number;
  /** Where a webhook receiver POSTs (http or https). */
  readonly url?: string;
  /** Whether a webhook receiver is also told about resolved alerts. @default true */
  readonly sendResolved: boolean;
  /** Alerts per webhook message at most (the rest are counted in `truncatedAlerts`); 0 = all. @default 0 */
  readonly maxAlerts: number;
  /** Jira project key (jira receivers). */
  readonly project?: string;
  /** Jira issue type of new issues. @default 'Task' */
  readonly issueType?: string;
  /** Jira workflow transition of a resolved ticket. @default 'Done' */
  readonly resolveTransition?: string;
}

const TICKET_FIELDS = ['queue', 'period', 'sla'] as const;
const WEBHOOK_FIELDS = ['url', 'send_resolved', 'max_alerts'] as const;
const JIRA_FIELDS = ['project', 'issue_type', 'resolve_transition'] as const;

/** Reads the receivers by name; problems are reported on the reader. */
export function readReceivers(r: YamlReader, at: Located | undefined): Map<string, Receiver> {
  const out = new Map<string, Receiver>();
  for (const item of r.seq(at ?? { node: null, path: '' })) {
    const f = r.map(item, ['name', 'kind', ...TICKET_FIELDS, ...WEBHOOK_FIELDS, ...JIRA_FIELDS]);
    if (!f) continue;
    const name = r.str(f.get('name'));
    if (name === undefined || name === '') {
      r.problem(item, 'missing name on receiver');
      continue;
    }
    if (out.has(name))
      r.problem(item, `notification config name ${JSON.stringify(name)} is not unique`);
    const kindAt = f.get('kind');
    const kind = r.str(kindAt) ?? 'alerts';
    if (kind !== 'alerts' && kind !== 'tickets' && kind !== 'webhook' && kind !== 'jira') {
      r.problem(
        kindAt as Located,
        `must be "alerts", "tickets", "webhook" or "jira", got ${JSON.stringify(kind)}`,
      );
      continue;
    }
    const queue = r.str(f.get('queue'));
    const period = duration(r, f.get('period')) ?? ROUTING_DEFAULTS.ticketPeriod;
    const sla = duration(r, f.get('sla')) ?? ROUTING_DEFAULTS.ticketSla;
    if (period === 0) r.problem(f.get('period') as Located, 'period cannot be zero');
    for (const k of kind === 'tickets' || kind === 'jira' ? [] : TICKET_FIELDS) {
      const a = f.get(k);
      if (a) r.problem(a, `only tickets and jira receivers take ${k}`);
    }
    for (const k of kind === 'webhook' ? [] : WEBHOOK_FIELDS) {
      const a = f.get(k);
      if (a && !(kind === 'jira' && k === 'url')) r.problem(a, `only webhook receivers take ${k}`);
    }
    for (const k of kind === 'jira' ? [] : JIRA_FIELDS) {
      const a = f.get(k);
      if (a) r.problem(a, `only jira receivers take ${k}`);
    }
    const urlAt = f.get('url');
    const url = r.str(urlAt);
    const project = r.str(f.get('project'));
    if (kind === 'jira' && (project === undefined || project === ''))
      r.problem(item, 'jira receiver needs a project');
    if (kind === 'webhook' || kind === 'jira') {
      if (url === undefined) r.problem(item, `${kind} receiver needs a url`);
      else if (!isHttpUrl(url))
        r.problem(
          urlAt as Located,
          `must be an http:// or https:// URL, got ${JSON.stringify(url)}`,
        );
    }
    const sendResolved = r.bool(f.get('send_resolved')) ?? ROUTING_DEFAULTS.webhookSendResolved;
    const maxAt = f.get('max_alerts');
    const maxText = r.text(maxAt);
    let maxAlerts: number = ROUTING_DEFAULTS.webhookMaxAlerts;
    if (maxText !== undefined && maxAt) {
      if (/^\d+$/.test(maxText)) maxAlerts = Number(maxText);
      else r.problem(maxAt, `must be a whole number >= 0, got ${JSON.stringify(maxText)}`);
    }
    out.set(
      name,
      Object.freeze({
        name,
        kind,
        period,
        sla,
        sendResolved,
        maxAlerts,
        ...(queue ? { queue } : {}),
        ...((kind === 'webhook' || kind === 'jira') && url ? { url } : {}),
        ...(kind === 'jira'
          ? {
              ...(project ? { project } : {}),
              issueType: r.str(f.get('issue_type')) ?? ROUTING_DEFAULTS.jiraIssueType,
              resolveTransition:
                r.str(f.get('resolve_transition')) ?? ROUTING_DEFAULTS.jiraResolveTransition,
            }
          : {}),
      }),
    );
  }
  return out;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
