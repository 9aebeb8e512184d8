// Routing's defaults and the duration field reader, shared by config.ts and the section readers it calls.
import { parseDuration } from '@tidemark/core';
import type { Located, YamlReader } from '@tidemark/contracts';

/** Every default of routing in one place: Alertmanager's route timers plus Tidemark's own knobs. */
export const ROUTING_DEFAULTS = Object.freeze({
  /** Alertmanager's default group_wait. */
  groupWait: 30_000,
  /** Alertmanager's default group_interval. */
  groupInterval: 5 * 60_000,
  /** Alertmanager's default repeat_interval. */
  repeatInterval: 4 * 3600_000,
  /** The label every group and inhibition must be bounded by, so each lives in one partition. */
  partitionLabel: 'system',
  /** How long before a silence ends its `info` alert fires. */
  silenceExpiryLead: 3600_000,
  /** Length of a ticket's SLA period: one ticket per (assignee, family, system) per period. */
  ticketPeriod: 7 * 24 * 3600_000,
  /** Due time of a ticket item whose finding carries no dueBy. */
  ticketSla: 7 * 24 * 3600_000,
  /** Items a ticket lists; the rest are counted. */
  ticketItemLimit: 50,
  /** Finding fingerprints an alert carries as a sample. */
  alertFindingSample: 10,
  /** How long a resolved finding is remembered, so a replayed older firing cannot reopen it. */
  resolvedRetention: 24 * 3600_000,
  /** Queue of tickets nobody could be found for. */
  unownedQueue: 'unowned',
  /**
   * `generatorURL` of every alert: `{fingerprint}` and `{<label>}` are filled in (URL-encoded). The default
   * names the alert without pointing anywhere; set a dashboard link (e.g. Grafana with `{system}`) instead.
   */
  generatorUrl: 'urn:tidemark:alert:{fingerprint}',
  /** A webhook receiver's `send_resolved` (Alertmanager's default). */
  webhookSendResolved: true,
  /** A webhook receiver's `max_alerts`: 0 sends every alert of the notification. */
  webhookMaxAlerts: 0,
  /** A jira receiver's `issue_type`. */
  jiraIssueType: 'Task',
  /** A jira receiver's `resolve_transition`: the workflow transition a resolved ticket takes. */
  jiraResolveTransition: 'Done',
});

/** A duration field, in ms; a bad one is reported on the reader. */
export function duration(r: YamlReader, at: Located | undefined): number | undefined {
  const s = r.text(at);
  if (s === undefined || !at) return undefined;
  return r.attempt(at, () => parseDuration(s));
}
