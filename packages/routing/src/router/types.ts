// The router's public types: what createRouter takes, what a tick emits, and the Router it returns.
import type { Alert, Finding, Ticket } from '@tidemark/core';
import type { RoutingConfig } from '../config.js';
import type { Labels } from '../matcher.js';
import type { OwnersLookup } from '../owners.js';
import type { SilenceTable } from '../silence.js';
import type { RouterState } from '../state.js';

/** Options of createRouter; every number defaults to ROUTING_DEFAULTS. */
export interface RouterOptions {
  config: RoutingConfig;
  /** Owner fallbacks for tickets. @default no lookups (only what findings carry) */
  owners?: OwnersLookup;
  /** Silences (from contracts/silences.yaml and dq.silences.v1). @default none */
  silences?: SilenceTable;
  /** How long before a silence ends its notice fires. @default ROUTING_DEFAULTS.silenceExpiryLead */
  silenceExpiryLead?: number;
  /** The partition whose state raises silence notices (silences are global; one partition speaks). @default 0 */
  silenceNoticePartition?: number;
  /** @default ROUTING_DEFAULTS.ticketItemLimit */
  ticketItemLimit?: number;
  /** @default ROUTING_DEFAULTS.alertFindingSample */
  alertFindingSample?: number;
  /** @default ROUTING_DEFAULTS.resolvedRetention */
  resolvedRetention?: number;
  /** Runbook link of an alert, from its labels. @default none */
  runbookUrl?: (labels: Labels) => string | undefined;
  /**
   * Template of every alert's `generatorURL`: `{fingerprint}` and `{<label>}` are filled in, URL-encoded
   * (a missing label reads as empty). @default ROUTING_DEFAULTS.generatorUrl
   */
  generatorUrl?: string;
}

/**
 * One flush of a group routed to a `webhook` receiver: the alerts it sent (after `send_resolved`), with what
 * an Alertmanager webhook v4 message needs besides them (see webhook.ts).
 */
export interface WebhookNotification {
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  /** When the flush fell due, epoch ms; part of the persisted state, so a re-run tick has the same id. */
  dueAt: number;
  alerts: Alert[];
}

/** One alert notification with the times a host needs to publish it. */
export interface AlertNotification {
  alert: Alert;
  /**
   * When the group's flush fell due, epoch ms (at most the tick's `now`). It is part of the persisted state
   * before the tick, so a tick re-run after a crash stamps the same time and the record gets the same id.
   */
  dueAt: number;
  /**
   * For a firing alert: the latest time the router sends it again while it keeps firing unmuted (its last
   * send + repeat_interval + group_interval). A sink that expires alerts (Alertmanager's `endsAt`) keeps them
   * alive until then.
   */
  refreshBy?: number;
}

/** What a tick emits: alert notifications, ticket actions, and findings of the router's own. */
export interface RouterOutput {
  /** For `dq.alerts.v1`, in send order. */
  alerts: Alert[];
  /** The same alerts (same order) with their due and refresh times. */
  notifications: AlertNotification[];
  /** Group flushes of `webhook` receivers, one message each (also in `alerts`). */
  webhooks: WebhookNotification[];
  /** For `dq.tickets.v1`. */
  tickets: Ticket[];
  /** `routing.unowned` and `routing.silence-expiring`, for `dq.findings.v1` (they come back as input). */
  findings: Finding[];
}

/** Turns findings into alerts and tickets; pure: state in, state changed, `now` given. */
export interface Router {
  readonly config: RoutingConfig;
  /** Takes one finding (dedup, alert lifecycle, grouping, ticket items); what to send comes out of tick. */
  ingest(state: RouterState, finding: Finding, now: number): void;
  /** Runs the timers due by `now`: group flushes, ticket actions, silence notices, cleanup. */
  tick(state: RouterState, now: number): RouterOutput;
  /**
   * The earliest time at which `tick` may emit or change anything (-Infinity: at the next tick; Infinity: nothing
   * pending), so a host may skip the ticks before it. May be early, never late.
   */
  nextTick(state: RouterState): number;
  /** Whether an inhibit rule mutes these labels now (a firing source alert agrees on every `equal` label). */
  isInhibited(state: RouterState, labels: Labels): boolean;
}
