import { SEVERITY_RANK, buildFinding, fingerprint, formatTime, parseTime } from '@tidemark/core';
import type { Alert, Finding, Severity, Ticket, TicketItem } from '@tidemark/core';
import { ROUTING_DEFAULTS, isTicketReceiver } from './config.js';
import type { InhibitRule, Receiver, Route, RoutingConfig } from './config.js';
import { findingLabels } from './labels.js';
import { formatMatcher, matchesAll } from './matcher.js';
import type { Labels } from './matcher.js';
import { ownerQueue, resolveEscalation, resolveOwner } from './owners.js';
import type { OwnersLookup } from './owners.js';
import { groupKeyOf, groupLabels, match, walkRoutes } from './route.js';
import { silenceActive } from './silence.js';
import type { SilenceTable } from './silence.js';
import type {
  AlertEntry,
  FindingEntry,
  GroupEntry,
  RouterEntry,
  RouterIndexes,
  RouterState,
  SilenceEntry,
  TicketEntry,
} from './state.js';
import { anyIntervalContains } from './timeinterval.js';

/** Check id of the finding raised when ticket items have nobody to go to. */
export const UNOWNED_CHECK = 'routing.unowned';
/** Check id of the `info` finding raised when a silence is about to end. */
export const SILENCE_EXPIRING_CHECK = 'routing.silence-expiring';
/** Alertmanager's zero time, the `endsAt` of a firing alert. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

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

const CLEANUP_EVERY = 60_000;
// Label sets repeat (many findings, few alerts): memoize their fingerprints rather than hash every finding.
const LABEL_FP_CACHE_LIMIT = 50_000;

const PRIORITY: Record<Severity, Ticket['priority']> = {
  critical: 'P1',
  high: 'P2',
  warning: 'P3',
  info: 'P4',
};

// Phrases for ticket titles ("12 policies past their review clock"); unknown checks get a generic one.
const CHECK_PHRASES: Record<string, string> = {
  'freshness.review-overdue': 'past their review clock',
  'freshness.sync-lag': 'not yet applied to the index within the SLA',
  'contract.required': 'missing required metadata',
  'contract.allowed': 'with values outside the allowed set',
  'contract.rule': 'breaking a contract rule',
  'contract.reference': 'with dangling references',
  'parity.delete-missed': 'deleted at the source but still in the index',
  'parity.acl-mismatch': 'with an index access list that differs from the source',
  'parity.orphan': 'in the index but no longer at the source',
  'parity.missing': 'at the source but missing from the index',
};

function equalKey(rule: InhibitRule, labels: Labels): string {
  return JSON.stringify(rule.equal.map((n) => labels[n] ?? ''));
}

/** Builds a router over a validated config. */
export function createRouter({
  config,
  owners = {},
  silences,
  silenceExpiryLead = ROUTING_DEFAULTS.silenceExpiryLead,
  silenceNoticePartition = 0,
  ticketItemLimit = ROUTING_DEFAULTS.ticketItemLimit,
  alertFindingSample = ROUTING_DEFAULTS.alertFindingSample,
  resolvedRetention = ROUTING_DEFAULTS.resolvedRetention,
  runbookUrl,
  generatorUrl = ROUTING_DEFAULTS.generatorUrl,
}: RouterOptions): Router {
  const labelFps = new Map<string, string>();
  const alertFingerprint = (labels: Record<string, string>): string => {
    const text = JSON.stringify(labels);
    let fp = labelFps.get(text);
    if (fp === undefined) {
      if (labelFps.size >= LABEL_FP_CACHE_LIMIT) labelFps.clear();
      fp = fingerprint(labels);
      labelFps.set(text, fp);
    }
    return fp;
  };
  // When each state was last ticked (memory only): silences over by then can never become due (nextTick).
  const lastTick = new WeakMap<RouterState, number>();
  const routesById = new Map<string, Route>();
  walkRoutes(config.route, (r) => routesById.set(r.id, r));
  const rules = config.inhibitRules;

  // ---------------------------------------------------------------- indexes
  function indexes(state: RouterState): RouterIndexes {
    if (state.indexes) return state.indexes;
    const ix: RouterIndexes = {
      groups: new Set(),
      dirtyTickets: new Set(),
      ticketMembers: new Map(),
      resolvedFindings: new Map(),
      closedTickets: new Map(),
      inhibitSources: rules.map(() => new Map()),
      silenceNotices: new Set(),
      escalations: new Set(),
      expiring: new Map(),
      dueTickets: new Map(),
      nextGroupDue: Number.POSITIVE_INFINITY,
      nextCleanupAt: Number.NEGATIVE_INFINITY,
    };
    state.indexes = ix;
    for (const [key, e] of state.kv.entries()) {
      const id = key.slice(key.indexOf(':') + 1);
      switch (e.kind) {
        case 'group':
          ix.groups.add(key);
          ix.nextGroupDue = Math.min(ix.nextGroupDue, e.nextFlushAt);
          break;
        case 'ticket':
          if (e.dirty) ix.dirtyTickets.add(id);
          else if (!e.opened) ix.closedTickets.set(id, e.periodEnd);
          if (e.opened && !e.escalated && e.dueBy !== undefined) ix.dueTickets.set(id, e.dueBy);
          break;
        case 'finding':
          if (e.status === 'resolved') ix.resolvedFindings.set(id, e.observedAt);
          else if (e.expiresAt !== undefined) ix.expiring.set(id, e.expiresAt);
          for (const t of e.tickets ?? []) memberSet(ix, t).add(id);
          break;
        case 'alert':
          if (e.status === 'firing') indexSource(ix, id, e.labels, true);
          if (e.escalation && e.escalation.sent !== (e.status === 'firing')) ix.escalations.add(id);
          break;
        case 'silence':
          ix.silenceNotices.add(id);
          break;
      }
    }
    return ix;
  }

  function memberSet(ix: RouterIndexes, base: string): Set<string> {
    let s = ix.ticketMembers.get(base);
    if (!s) ix.ticketMembers.set(base, (s = new Set()));
    return s;
  }

  function indexSource(ix: RouterIndexes, fp: string, labels: Labels, firing: boolean): void {
    rules.forEach((rule, i) => {
      if (!matchesAll(rule.sourceMatchers, labels)) return;
      const byKey = ix.inhibitSources[i] as Map<string, Set<string>>;
      const k = equalKey(rule, labels);
      let set = byKey.get(k);
      if (firing) {
        if (!set) byKey.set(k, (set = new Set()));
        set.add(fp);
      } else if (set) {
        set.delete(fp);
        if (set.size === 0) byKey.delete(k);
      }
    });
  }

  function isInhibited(state: RouterState, labels: Labels): boolean {
    const ix = indexes(state);
    return rules.some((rule, i) => {
      if (!matchesAll(rule.targetMatchers, labels)) return false;
      const sources = ix.inhibitSources[i]?.get(equalKey(rule, labels));
      if (!sources || sources.size === 0) return false;
      // Like Alertmanager: when the alert is also a source, only sources that are not targets inhibit it,
      // so two alerts matching both sides never mute each other.
      if (!matchesAll(rule.sourceMatchers, labels)) return true;
      for (const src of sources) {
        const a = state.kv.get(`alert:${src}`) as AlertEntry | undefined;
        if (a && !matchesAll(rule.targetMatchers, a.labels)) return true;
      }
      return false;
    });
  }

  function isSilenced(labels: Labels, now: number): boolean {
    // A notice about a silence must not be muted by the silence it warns about.
    if (labels.check === SILENCE_EXPIRING_CHECK) return false;
    return silences?.isSilenced(labels, now) ?? false;
  }

  // ---------------------------------------------------------------- alerts
  // Puts an alert into the group of every route it matches (creating groups as needed) and lists the
  // tickets receivers it goes to; run when an alert starts firing, including a new episode of a known one.
  function joinGroups(
    state: RouterState,
    fp: string,
    labels: Record<string, string>,
    at: number,
    now: number,
  ): { groups: string[]; ticketReceivers: string[] } {
    const ix = indexes(state);
    const groups: string[] = [];
    const ticketReceivers: string[] = [];
    for (const route of match(config.route, labels)) {
      const receiver = config.receivers.get(route.receiver) as Receiver;
      if (isTicketReceiver(receiver)) {
        if (!ticketReceivers.includes(receiver.name)) ticketReceivers.push(receiver.name);
        continue;
      }
      const gl = groupLabels(route, labels);
      const gKey = `group:${fingerprint([route.id, gl])}`;
      if (groups.includes(gKey)) continue;
      let g = state.kv.get(gKey) as GroupEntry | undefined;
      if (!g) {
        g = {
          kind: 'group',
          routeId: route.id,
          receiver: route.receiver,
          groupKey: groupKeyOf(route, gl),
          labels: gl,
          nextFlushAt: now + route.groupWait,
          flushed: false,
          members: [],
          notified: {},
        };
        ix.groups.add(gKey);
      }
      // Alertmanager flushes a group that has not flushed yet at once when an alert in it is older than
      // group_wait (e.g. after a restart or a backlog).
      if (!g.flushed && at + route.groupWait < now) g.nextFlushAt = Math.min(g.nextFlushAt, now);
      ix.nextGroupDue = Math.min(ix.nextGroupDue, g.nextFlushAt);
      if (!g.members.includes(fp)) g.members.push(fp);
      state.kv.set(gKey, g);
      groups.push(gKey);
    }
    return { groups, ticketReceivers };
  }

  function alertSummary(finding: Finding): string {
    return finding.restricted
      ? `${finding.check} on ${finding.subject.system} (restricted document: details withheld)`
      : finding.summary;
  }

  function attach(
    state: RouterState,
    fp: string,
    labels: Record<string, string>,
    finding: Finding,
    at: number,
    now: number,
  ): AlertEntry {
    const key = `alert:${fp}`;
    let a = state.kv.get(key) as AlertEntry | undefined;
    if (!a) {
      a = {
        kind: 'alert',
        labels,
        status: 'firing',
        startsAt: at,
        firing: 0,
        total: 0,
        sample: [],
        summary: '',
        ...joinGroups(state, fp, labels, at, now),
      };
    } else if (a.status === 'resolved') {
      // A new firing episode of the same label set; groups that already sent the resolve had let it go.
      const joined = joinGroups(state, fp, labels, at, now);
      a.status = 'firing';
      a.startsAt = at;
      delete a.endsAt;
      a.total = 0;
      a.sample = [];
      a.groups = joined.groups;
      a.ticketReceivers = joined.ticketReceivers;
    }
    if (a.firing === 0) planEscalation(state, fp, a);
    const wasFiring = a.firing > 0;
    a.firing += 1;
    a.total += 1;
    if (a.sample.length < alertFindingSample && !a.sample.includes(finding.fingerprint))
      a.sample.push(finding.fingerprint);
    a.summary = alertSummary(finding);
    if (finding.traceparent) a.traceparent = finding.traceparent;
    state.kv.set(key, a);
    if (!wasFiring) indexSource(indexes(state), fp, a.labels, true);
    return a;
  }

  // Plans the owner's escalation of an alert starting to fire (a new alert or a new episode): due `after`
  // its start. A receiver that was told "firing" and not yet "resolved" keeps that (no second firing).
  function planEscalation(state: RouterState, fp: string, a: AlertEntry): void {
    if (a.groups.length === 0) return; // tickets only: tickets escalate by their dueBy
    const esc = resolveEscalation(owners, a.labels.team, a.labels.system, a.labels.contentClass);
    const receiver = esc ? config.receivers.get(esc.receiver) : undefined;
    if (!esc || !receiver || isTicketReceiver(receiver)) {
      delete a.escalation;
      indexes(state).escalations.delete(fp);
      return;
    }
    a.escalation = {
      receiver: receiver.name,
      at: a.startsAt + (esc.afterMs ?? 0),
      sent: a.escalation?.sent ?? false,
    };
    if (a.escalation.sent) indexes(state).escalations.delete(fp);
    else indexes(state).escalations.add(fp);
  }

  function detach(state: RouterState, fp: string, at: number): void {
    const key = `alert:${fp}`;
    const a = state.kv.get(key) as AlertEntry | undefined;
    if (!a || a.status !== 'firing') return;
    a.firing = Math.max(0, a.firing - 1);
    if (a.firing === 0) {
      a.status = 'resolved';
      a.endsAt = Math.max(at, a.startsAt);
      indexSource(indexes(state), fp, a.labels, false);
      // An escalation receiver that was told "firing" is told "resolved" too; one never sent is dropped.
      if (a.escalation?.sent) indexes(state).escalations.add(fp);
      else if (a.escalation) {
        delete a.escalation;
        indexes(state).escalations.delete(fp);
      }
      if (a.groups.length === 0) {
        state.kv.delete(key);
        return;
      }
    }
    state.kv.set(key, a);
  }

  function trackExpiry(ix: RouterIndexes, fp: string, expiresAt: number | undefined): void {
    if (expiresAt === undefined) ix.expiring.delete(fp);
    else ix.expiring.set(fp, expiresAt);
  }

  // Resolves firing findings whose expiry passed without a refresh, as if their resolve arrived then.
  function expire(state: RouterState, now: number): void {
    const ix = indexes(state);
    for (const [fp, expiresAt] of [...ix.expiring].sort(
      (x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1),
    )) {
      if (expiresAt > now) continue;
      ix.expiring.delete(fp);
      const entry = state.kv.get(`finding:${fp}`) as FindingEntry | undefined;
      if (!entry || entry.status !== 'firing') continue;
      detach(state, entry.alert, expiresAt);
      for (const b of entry.tickets ?? []) {
        ix.ticketMembers.get(b)?.delete(fp);
        markTicket(state, b);
      }
      const resolved: FindingEntry = {
        kind: 'finding',
        status: 'resolved',
        alert: entry.alert,
        observedAt: Math.max(entry.observedAt, expiresAt),
      };
      state.kv.set(`finding:${fp}`, resolved);
      ix.resolvedFindings.set(fp, resolved.observedAt);
    }
  }

  // ---------------------------------------------------------------- tickets
  function ticketBases(state: RouterState, finding: Finding, a: AlertEntry, at: number): string[] {
    const out: string[] = [];
    for (const name of a.ticketReceivers) {
      const receiver = config.receivers.get(name);
      if (!receiver) continue;
      const owner = resolveOwner(finding, owners);
      const family = finding.check.split('.')[0] ?? finding.check;
      const system = finding.subject.system;
      const periodStart = Math.floor(at / receiver.period) * receiver.period;
      const base = fingerprint({ assignee: owner.assignee, family, system, period: periodStart });
      if (out.includes(base)) continue;
      out.push(base);
      if (!state.kv.has(`ticket:${base}`)) {
        const t: TicketEntry = {
          kind: 'ticket',
          receiver: name,
          queue:
            owner.via === 'unowned'
              ? ROUTING_DEFAULTS.unownedQueue
              : (receiver.queue ?? ownerQueue(owner, owners)),
          assignee: owner.assignee,
          ...(owner.team ? { team: owner.team } : {}),
          via: owner.via,
          family,
          system,
          periodStart,
          periodEnd: periodStart + receiver.period,
          generation: 0,
          version: 0,
          opened: false,
          dirty: false,
        };
        state.kv.set(`ticket:${base}`, t);
      }
    }
    return out;
  }

  function markTicket(state: RouterState, base: string): void {
    const key = `ticket:${base}`;
    const t = state.kv.get(key) as TicketEntry | undefined;
    if (!t) return;
    if (!t.dirty) {
      t.dirty = true;
      state.kv.set(key, t);
    }
    indexes(state).dirtyTickets.add(base);
    indexes(state).closedTickets.delete(base);
  }

  function itemOf(
    finding: Finding,
    receiverSla: number,
    at: number,
  ): NonNullable<FindingEntry['item']> {
    const dueBy = finding.dueBy ? parseTime(finding.dueBy) : at + receiverSla;
    return {
      system: finding.subject.system,
      ...(finding.subject.docId ? { docId: finding.subject.docId } : {}),
      check: finding.check,
      // Restricted documents: ids and the check only, never the summary (it may quote the document).
      reason: finding.restricted ? `${finding.check} (restricted document)` : finding.summary,
      severity: finding.severity,
      dueBy,
    };
  }

  // ---------------------------------------------------------------- ingest
  function ingest(state: RouterState, finding: Finding, now: number): void {
    if (finding.shadow) return;
    const ix = indexes(state);
    const at = parseTime(finding.observedAt);
    const fKey = `finding:${finding.fingerprint}`;
    const prev = state.kv.get(fKey) as FindingEntry | undefined;
    if (prev && at < prev.observedAt) return; // an older observation replayed: the newer one stands
    const labels = findingLabels(finding);
    const alertFp = alertFingerprint(labels);
    const expiresAt =
      finding.status === 'firing' && finding.expiresAt ? parseTime(finding.expiresAt) : undefined;
    if (prev && prev.status === finding.status && prev.alert === alertFp) {
      if (at > prev.observedAt || expiresAt !== prev.expiresAt) {
        prev.observedAt = Math.max(at, prev.observedAt);
        // A refresh: the expiry moves with the newest observation.
        if (expiresAt === undefined) delete prev.expiresAt;
        else prev.expiresAt = expiresAt;
        state.kv.set(fKey, prev);
        if (prev.status === 'resolved') ix.resolvedFindings.set(finding.fingerprint, at);
        else trackExpiry(ix, finding.fingerprint, expiresAt);
      }
      return; // the same finding again: one alert, one ticket item
    }
    if (prev?.status === 'firing') detach(state, prev.alert, at);
    const entry: FindingEntry = {
      kind: 'finding',
      status: finding.status,
      alert: alertFp,
      observedAt: at,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
    trackExpiry(ix, finding.fingerprint, expiresAt);
    let bases: string[] = [];
    if (finding.status === 'firing') {
      ix.resolvedFindings.delete(finding.fingerprint);
      const a = attach(state, alertFp, labels, finding, at, now);
      const kept = prev?.status === 'firing' ? (prev.tickets ?? []) : [];
      const candidates = ticketBases(state, finding, a, at);
      // A finding already on a ticket stays there; a new item is not added while the alert is muted.
      const muted =
        candidates.some((b) => !kept.includes(b)) &&
        (isSilenced(labels, now) || isInhibited(state, labels));
      bases = candidates.filter((b) => kept.includes(b) || !muted);
      if (bases.length > 0) {
        const receiver = config.receivers.get(a.ticketReceivers[0] as string) as Receiver;
        entry.item = itemOf(finding, receiver.sla, at);
        entry.tickets = bases;
      }
    } else {
      ix.resolvedFindings.set(finding.fingerprint, at);
    }
    for (const b of prev?.tickets ?? []) {
      if (!bases.includes(b)) {
        ix.ticketMembers.get(b)?.delete(finding.fingerprint);
        markTicket(state, b);
      }
    }
    for (const b of bases) {
      const members = memberSet(ix, b);
      const isNew = !members.has(finding.fingerprint);
      members.add(finding.fingerprint);
      const changed = isNew || JSON.stringify(prev?.item) !== JSON.stringify(entry.item);
      if (changed) markTicket(state, b);
    }
    state.kv.set(fKey, entry);
  }

  // ---------------------------------------------------------------- tick
  function toAlert(
    a: AlertEntry,
    fp: string,
    g: Pick<GroupEntry, 'receiver' | 'groupKey'>,
    status: 'firing' | 'resolved',
  ): Alert {
    const count = a.status === 'firing' ? a.firing : a.total;
    const runbook = runbookUrl?.(a.labels);
    const description =
      count > 1
        ? `${count} findings of ${a.labels.check ?? 'a check'} on ${a.labels.system ?? 'a system'}; latest: ${a.summary}`
        : undefined;
    return {
      status,
      labels: { ...a.labels },
      annotations: {
        summary:
          count > 1
            ? `${count} × ${a.labels.check ?? 'finding'} on ${a.labels.system ?? ''}`
            : a.summary,
        ...(description ? { description } : {}),
        ...(runbook ? { runbook_url: runbook } : {}),
      },
      startsAt: formatTime(a.startsAt),
      endsAt: status === 'resolved' ? formatTime(a.endsAt ?? a.startsAt) : ZERO_TIME,
      fingerprint: fp,
      receiver: g.receiver,
      groupKey: g.groupKey,
      findings: { count, sample: [...a.sample] },
      generatorURL: fillTemplate(generatorUrl, fp, a.labels),
      ...(a.traceparent ? { traceparent: a.traceparent } : {}),
    };
  }

  // Sends due escalations (once per firing episode, unless muted) and the resolve of those sent.
  function escalate(state: RouterState, now: number, out: RouterOutput): void {
    const ix = indexes(state);
    for (const fp of [...ix.escalations].sort()) {
      const a = state.kv.get(`alert:${fp}`) as AlertEntry | undefined;
      const esc = a?.escalation;
      if (!a || !esc) {
        ix.escalations.delete(fp);
        continue;
      }
      const receiver = config.receivers.get(esc.receiver);
      const target = {
        receiver: esc.receiver,
        groupKey: `{}/escalation:{alertname=${JSON.stringify(a.labels.alertname ?? '')}, fingerprint=${JSON.stringify(fp)}}`,
      };
      let alert: Alert | undefined;
      let dueAt = esc.at;
      if (a.status === 'firing') {
        if (esc.sent) {
          ix.escalations.delete(fp);
          continue;
        }
        if (now < esc.at || isSilenced(a.labels, now) || isInhibited(state, a.labels)) continue;
        alert = toAlert(a, fp, target, 'firing');
        const minutes = Math.round((esc.at - a.startsAt) / 60_000);
        alert.annotations.description = `Still firing ${minutes}m after it started at ${formatTime(a.startsAt)}: escalated to ${esc.receiver}. ${alert.annotations.description ?? alert.annotations.summary}`;
        esc.sent = true;
      } else {
        if (esc.sent) {
          alert = toAlert(a, fp, target, 'resolved');
          dueAt = a.endsAt ?? now;
        }
        delete a.escalation;
      }
      ix.escalations.delete(fp);
      state.kv.set(`alert:${fp}`, a);
      if (!alert) continue;
      dueAt = Math.min(dueAt, now);
      out.alerts.push(alert);
      out.notifications.push({ alert, dueAt });
      if (receiver?.kind === 'webhook' && (alert.status === 'firing' || receiver.sendResolved)) {
        out.webhooks.push({ ...target, groupLabels: {}, dueAt, alerts: [alert] });
      }
    }
  }

  // Marks open tickets past their dueBy as escalated (their next action, emitted now, says so).
  function escalateTickets(state: RouterState, now: number): void {
    const ix = indexes(state);
    for (const [base, dueBy] of [...ix.dueTickets].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      if (dueBy > now) continue;
      ix.dueTickets.delete(base);
      const t = state.kv.get(`ticket:${base}`) as TicketEntry | undefined;
      if (!t || !t.opened || t.escalated) continue;
      t.escalated = true;
      const esc = resolveEscalation(owners, t.team, t.system);
      if (esc) t.escalationReceiver = esc.receiver;
      state.kv.set(`ticket:${base}`, t);
      markTicket(state, base);
    }
  }

  function flushGroup(
    state: RouterState,
    gKey: string,
    g: GroupEntry,
    now: number,
    out: RouterOutput,
  ): void {
    const route = routesById.get(g.routeId) ?? config.route;
    const routeMuted =
      anyIntervalContains(route.muteTimeIntervals, config.timeIntervals, now) ||
      (route.activeTimeIntervals.length > 0 &&
        !anyIntervalContains(route.activeTimeIntervals, config.timeIntervals, now));
    const keep: string[] = [];
    const dueAt = Math.min(g.nextFlushAt, now);
    const receiver = config.receivers.get(g.receiver);
    const webhook: Alert[] = [];
    const send = (alert: Alert, refreshBy?: number): void => {
      out.alerts.push(alert);
      out.notifications.push({ alert, dueAt, ...(refreshBy === undefined ? {} : { refreshBy }) });
      if (receiver?.kind === 'webhook' && (alert.status === 'firing' || receiver.sendResolved))
        webhook.push(alert);
    };
    for (const fp of g.members) {
      const a = state.kv.get(`alert:${fp}`) as AlertEntry | undefined;
      if (!a) continue;
      const lastSent = g.notified[fp];
      if (a.status === 'resolved') {
        // The resolve is never lost: a receiver that was told "firing" is told "resolved", muted or not.
        if (lastSent !== undefined) {
          send(toAlert(a, fp, g, 'resolved'));
          delete g.notified[fp];
        }
        releaseAlert(state, fp, a, gKey);
        continue;
      }
      keep.push(fp);
      const muted = routeMuted || isSilenced(a.labels, now) || isInhibited(state, a.labels);
      if (muted) continue;
      if (lastSent === undefined || now >= lastSent + route.repeatInterval) {
        send(toAlert(a, fp, g, 'firing'), now + route.repeatInterval + route.groupInterval);
        g.notified[fp] = now;
      }
    }
    if (webhook.length > 0) {
      out.webhooks.push({
        receiver: g.receiver,
        groupKey: g.groupKey,
        groupLabels: { ...g.labels },
        dueAt,
        alerts: webhook,
      });
    }
    g.members = keep;
    const kept = new Set(keep);
    for (const fp of Object.keys(g.notified)) if (!kept.has(fp)) delete g.notified[fp];
    g.flushed = true;
    g.nextFlushAt = now + route.groupInterval;
    if (keep.length === 0) {
      state.kv.delete(gKey);
      indexes(state).groups.delete(gKey);
    } else {
      state.kv.set(gKey, g);
    }
  }

  function releaseAlert(state: RouterState, fp: string, a: AlertEntry, gKey: string): void {
    a.groups = a.groups.filter((k) => k !== gKey);
    if (a.groups.length === 0) state.kv.delete(`alert:${fp}`);
    else state.kv.set(`alert:${fp}`, a);
  }

  function ticketOf(
    state: RouterState,
    base: string,
    t: TicketEntry,
    action: Ticket['action'],
    members: Set<string>,
  ): Ticket {
    const items: TicketItem[] = [];
    const alerts = new Set<string>();
    let severity: Severity = 'info';
    let dueBy = Number.POSITIVE_INFINITY;
    const checks = new Map<string, number>();
    for (const fp of [...members].sort()) {
      const f = state.kv.get(`finding:${fp}`) as FindingEntry | undefined;
      if (!f?.item) continue;
      if (SEVERITY_RANK[f.item.severity] > SEVERITY_RANK[severity]) severity = f.item.severity;
      dueBy = Math.min(dueBy, f.item.dueBy);
      checks.set(f.item.check, (checks.get(f.item.check) ?? 0) + 1);
      if (items.length < ticketItemLimit) {
        items.push({
          system: f.item.system,
          ...(f.item.docId ? { docId: f.item.docId } : {}),
          check: f.item.check,
          reason: f.item.reason,
          fingerprint: fp,
        });
        alerts.add(f.alert);
      }
    }
    const count = members.size;
    const ticketKey = t.generation === 0 ? base : fingerprint({ base, generation: t.generation });
    const topCheck = [...checks.entries()].sort(
      (x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1),
    )[0]?.[0];
    const phrase = (topCheck && CHECK_PHRASES[topCheck]) ?? `with ${t.family} findings`;
    const title =
      action === 'resolve'
        ? `Resolved: ${t.family} findings in ${t.system}`
        : `${count} document${count === 1 ? '' : 's'} in ${t.system} ${phrase}`;
    const lines = items.map((i) => `- ${i.docId ?? i.fingerprint}: ${i.reason}`);
    if (count > items.length) lines.push(`… and ${count - items.length} more`);
    const body =
      action === 'resolve'
        ? `All ${t.family} findings in ${t.system} for this period are resolved.`
        : `${count} document${count === 1 ? '' : 's'} in ${t.system} need attention (${t.family}).\n${lines.join('\n')}`;
    return {
      ticketKey,
      action,
      version: t.version,
      receiver: t.receiver,
      queue: t.queue,
      assignee: t.assignee,
      ...(t.team ? { team: t.team } : {}),
      priority: PRIORITY[severity],
      ...(Number.isFinite(dueBy) ? { dueBy: formatTime(dueBy) } : {}),
      title,
      body,
      items,
      itemCount: count,
      alerts: [...alerts],
      ...(t.escalated ? { escalated: true } : {}),
      ...(t.escalated && t.escalationReceiver ? { escalationReceiver: t.escalationReceiver } : {}),
    };
  }

  function unownedFinding(
    t: TicketEntry,
    ticketKey: string,
    count: number,
    status: 'firing' | 'resolved',
    now: number,
  ): Finding {
    return buildFinding({
      check: UNOWNED_CHECK,
      status,
      severity: 'warning',
      subject: { system: t.system, checkFamily: t.family, period: formatTime(t.periodStart) },
      owner: {},
      summary: `${count} ${t.family} item${count === 1 ? '' : 's'} in ${t.system} have no owner (no document owner, content-class steward, system team or platform owner)`,
      evidence: { ticketKey, count },
      observedAt: formatTime(now),
    });
  }

  function flushTicket(state: RouterState, base: string, now: number, out: RouterOutput): void {
    const key = `ticket:${base}`;
    const t = state.kv.get(key) as TicketEntry | undefined;
    if (!t) return;
    const members = indexes(state).ticketMembers.get(base) ?? new Set<string>();
    t.dirty = false;
    let action: Ticket['action'] | undefined;
    if (members.size > 0) action = t.opened ? 'update' : 'open';
    else if (t.opened) action = 'resolve';
    if (action) {
      t.version += 1;
      const ticket = ticketOf(state, base, t, action, members);
      out.tickets.push(ticket);
      if (t.via === 'unowned' && t.family !== 'routing' && action !== 'update') {
        out.findings.push(
          unownedFinding(
            t,
            ticket.ticketKey,
            members.size,
            action === 'open' ? 'firing' : 'resolved',
            now,
          ),
        );
      }
      t.opened = action !== 'resolve';
      if (action === 'resolve') {
        t.generation += 1; // a later item in this period opens a new ticket
        delete t.escalated;
        delete t.escalationReceiver;
        delete t.dueBy;
      } else if (ticket.dueBy !== undefined) {
        t.dueBy = parseTime(ticket.dueBy);
      }
      const ix = indexes(state);
      if (t.opened && !t.escalated && t.dueBy !== undefined) ix.dueTickets.set(base, t.dueBy);
      else ix.dueTickets.delete(base);
    }
    if (members.size === 0) {
      indexes(state).ticketMembers.delete(base);
      indexes(state).closedTickets.set(base, t.periodEnd);
    }
    state.kv.set(key, t);
  }

  function silenceNotices(state: RouterState, now: number, out: RouterOutput): void {
    if (!silences || state.partition !== silenceNoticePartition) return;
    const ix = indexes(state);
    const systemOf = (id: string): string =>
      silences.get(id)?.matchers.find((m) => m.name === 'system' && m.type === '=')?.value ?? '*';
    // The resolve reuses the system the notice fired with, so it has the same fingerprint even when the
    // silence was deleted or edited meanwhile.
    const notice = (
      id: string,
      status: 'firing' | 'resolved',
      endsAt: number,
      system: string,
    ): Finding => {
      const s = silences.get(id);
      return buildFinding({
        check: SILENCE_EXPIRING_CHECK,
        status,
        severity: 'info',
        subject: { system, silence: id },
        owner: {},
        summary: s
          ? `Silence ${id} by ${s.createdBy} (${s.comment}) ends at ${formatTime(endsAt)}`
          : `Silence ${id} is gone`,
        evidence: s
          ? {
              silenceId: id,
              endsAt: formatTime(endsAt),
              createdBy: s.createdBy,
              matchers: s.matchers.map(formatMatcher),
            }
          : { silenceId: id },
        observedAt: formatTime(now),
      });
    };
    for (const s of silences.all()) {
      if (!silenceActive(s, now) || s.endsAt - now > silenceExpiryLead) continue;
      const key = `silence:${s.id}`;
      const e = state.kv.get(key) as SilenceEntry | undefined;
      if (e && e.endsAt === s.endsAt) continue;
      const system = e?.system ?? systemOf(s.id);
      state.kv.set(key, { kind: 'silence', endsAt: s.endsAt, system });
      ix.silenceNotices.add(s.id);
      out.findings.push(notice(s.id, 'firing', s.endsAt, system));
    }
    for (const id of [...ix.silenceNotices]) {
      const s = silences.get(id);
      const e = state.kv.get(`silence:${id}`) as SilenceEntry | undefined;
      if (s && silenceActive(s, now) && s.endsAt - now <= silenceExpiryLead) continue;
      out.findings.push(notice(id, 'resolved', e?.endsAt ?? now, e?.system ?? systemOf(id)));
      state.kv.delete(`silence:${id}`);
      ix.silenceNotices.delete(id);
    }
  }

  function tick(state: RouterState, now: number): RouterOutput {
    const ix = indexes(state);
    lastTick.set(state, now);
    const out: RouterOutput = {
      alerts: [],
      notifications: [],
      webhooks: [],
      tickets: [],
      findings: [],
    };
    if (ix.expiring.size > 0) expire(state, now);
    // Before the group flushes: a resolved alert's entry lives until its groups have sent the resolve.
    if (ix.escalations.size > 0) escalate(state, now, out);
    if (ix.dueTickets.size > 0) escalateTickets(state, now);
    if (now >= ix.nextGroupDue) {
      let next = Number.POSITIVE_INFINITY;
      for (const gKey of [...ix.groups].sort()) {
        const g = state.kv.get(gKey) as GroupEntry | undefined;
        if (!g) {
          ix.groups.delete(gKey);
          continue;
        }
        if (g.nextFlushAt <= now) flushGroup(state, gKey, g, now, out);
        if (ix.groups.has(gKey)) next = Math.min(next, g.nextFlushAt);
      }
      ix.nextGroupDue = next;
    }
    for (const base of [...ix.dirtyTickets].sort()) flushTicket(state, base, now, out);
    ix.dirtyTickets.clear();
    silenceNotices(state, now, out);
    // Cleanup has minute granularity: scanning the resolved findings on every tick would cost more than routing.
    // Its sweeps keep a fixed cadence from the first tick, and each sweeps as of its own point of that cadence, so
    // what it removes does not depend on which ticks ran in between (a host may skip idle ticks: nextTick).
    if (now < ix.nextCleanupAt) return out;
    const sweepAt =
      ix.nextCleanupAt === Number.NEGATIVE_INFINITY
        ? now
        : ix.nextCleanupAt + Math.floor((now - ix.nextCleanupAt) / CLEANUP_EVERY) * CLEANUP_EVERY;
    ix.nextCleanupAt = sweepAt + CLEANUP_EVERY;
    for (const [fp, at] of ix.resolvedFindings) {
      if (at + resolvedRetention <= sweepAt) {
        state.kv.delete(`finding:${fp}`);
        ix.resolvedFindings.delete(fp);
      }
    }
    // A closed ticket is kept until its period is over (plus the retention), so a late item of the same period
    // opens a new generation rather than reusing the first key.
    for (const [base, periodEnd] of ix.closedTickets) {
      if (periodEnd + resolvedRetention <= sweepAt) {
        state.kv.delete(`ticket:${base}`);
        ix.closedTickets.delete(base);
      }
    }
    return out;
  }

  function nextTick(state: RouterState): number {
    const ix = indexes(state);
    // The first tick after a start or restore fixes the cleanup cadence; dirty tickets flush on the next tick.
    if (ix.nextCleanupAt === Number.NEGATIVE_INFINITY || ix.dirtyTickets.size > 0) {
      return Number.NEGATIVE_INFINITY;
    }
    let due = ix.nextGroupDue;
    for (const at of ix.expiring.values()) due = Math.min(due, at);
    for (const at of ix.dueTickets.values()) due = Math.min(due, at);
    for (const fp of ix.escalations) {
      const a = state.kv.get(`alert:${fp}`) as AlertEntry | undefined;
      const esc = a?.escalation;
      // A firing escalation waits for its time (and is retried while muted); anything else is settled at once.
      if (!a || !esc || a.status !== 'firing' || esc.sent) return Number.NEGATIVE_INFINITY;
      due = Math.min(due, esc.at);
    }
    due = Math.min(due, nextSilenceNotice(state));
    // The sweep at the first point of the cadence at or after the earliest retention end.
    let sweep = Number.POSITIVE_INFINITY;
    for (const at of ix.resolvedFindings.values()) sweep = Math.min(sweep, at + resolvedRetention);
    for (const end of ix.closedTickets.values()) sweep = Math.min(sweep, end + resolvedRetention);
    if (sweep !== Number.POSITIVE_INFINITY) {
      const behind = Math.max(0, Math.ceil((sweep - ix.nextCleanupAt) / CLEANUP_EVERY));
      due = Math.min(due, ix.nextCleanupAt + behind * CLEANUP_EVERY);
    }
    return due;
  }

  // When silenceNotices next fires or resolves a notice on this partition (the silences table may change between
  // ticks; this reads it as it is now).
  function nextSilenceNotice(state: RouterState): number {
    if (!silences || state.partition !== silenceNoticePartition) return Number.POSITIVE_INFINITY;
    const ix = indexes(state);
    let due = Number.POSITIVE_INFINITY;
    const ticked = lastTick.get(state) ?? Number.NEGATIVE_INFINITY;
    for (const s of silences.all()) {
      if (s.endsAt <= ticked) continue; // over: it can no longer become due
      const e = state.kv.get(`silence:${s.id}`) as SilenceEntry | undefined;
      if (e && e.endsAt === s.endsAt) continue;
      const from = Math.max(s.startsAt, s.endsAt - silenceExpiryLead);
      if (from < s.endsAt) due = Math.min(due, from);
    }
    for (const id of ix.silenceNotices) {
      const s = silences.get(id);
      const e = state.kv.get(`silence:${id}`) as SilenceEntry | undefined;
      if (!s || !e || e.endsAt !== s.endsAt) return Number.NEGATIVE_INFINITY;
      due = Math.min(due, s.endsAt);
    }
    return due;
  }

  return { config, ingest, tick, nextTick, isInhibited };
}

/** Fills `{fingerprint}` and `{<label>}` placeholders of a generatorURL template, URL-encoded. */
export function fillTemplate(
  template: string,
  fingerprint: string,
  labels: Readonly<Record<string, string>>,
): string {
  return template.replace(/\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g, (_, name: string) =>
    encodeURIComponent(name === 'fingerprint' ? fingerprint : (labels[name] ?? '')),
  );
}

/** Entries of a router state by kind, for tests and inspection. */
export function entriesOf<K extends RouterEntry['kind']>(
  state: RouterState,
  kind: K,
): Array<[string, Extract<RouterEntry, { kind: K }>]> {
  const out: Array<[string, Extract<RouterEntry, { kind: K }>]> = [];
  for (const [key, e] of state.kv.entries()) {
    if (e.kind === kind)
      out.push([key.slice(key.indexOf(':') + 1), e as Extract<RouterEntry, { kind: K }>]);
  }
  return out;
}
