// Dispatch, as Alertmanager's dispatch/ does it: an alert joins one aggregation group per matching route, and
// each group flushes on its timers (group_wait, group_interval, repeat_interval) to its receiver. Also the
// alert records every notification is built from (toAlert), and the one-off notifications of escalations.
import { fingerprint, formatTime } from '@tidemark/core';
import type { Alert } from '@tidemark/core';
import { isTicketReceiver } from '../config.js';
import type { Receiver } from '../config.js';
import { groupKeyOf, groupLabels, match } from '../route.js';
import type { AlertEntry, GroupEntry } from '../state.js';
import { anyIntervalContains } from '../timeinterval.js';
import type { Pass, PartitionScope, RouterContext, TickPass } from './context.js';
import { isMuted } from './inhibit.js';
import type { RouterOutput } from './types.js';

/** Alertmanager's zero time, the `endsAt` of a firing alert. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Puts an alert into the group of every route it matches (creating groups as needed) and lists the tickets
 * receivers it goes to; run when an alert starts firing, including a new episode of a known one.
 */
export function joinGroups(
  { ctx, state, ix, now }: Pass,
  fp: string,
  labels: Record<string, string>,
  at: number,
): { groups: string[]; ticketReceivers: string[] } {
  const { config } = ctx;
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

/** Flushes every group whose timer is due (in key order) and notes the earliest timer left. */
export function flushDueGroups(p: TickPass): void {
  const { state, ix, now } = p;
  let next = Number.POSITIVE_INFINITY;
  for (const gKey of [...ix.groups].sort()) {
    const g = state.kv.get(gKey) as GroupEntry | undefined;
    if (!g) {
      ix.groups.delete(gKey);
      continue;
    }
    if (g.nextFlushAt <= now) flushGroup(p, gKey, g);
    if (ix.groups.has(gKey)) next = Math.min(next, g.nextFlushAt);
  }
  ix.nextGroupDue = next;
}

function flushGroup(p: TickPass, gKey: string, g: GroupEntry): void {
  const { ctx, state, ix, now, out } = p;
  const { config } = ctx;
  const route = ctx.routesById.get(g.routeId) ?? config.route;
  const routeMuted =
    anyIntervalContains(route.muteTimeIntervals, config.timeIntervals, now) ||
    (route.activeTimeIntervals.length > 0 &&
      !anyIntervalContains(route.activeTimeIntervals, config.timeIntervals, now));
  const keep: string[] = [];
  const dueAt = Math.min(g.nextFlushAt, now);
  const receiver = config.receivers.get(g.receiver);
  const webhook: Alert[] = [];
  const send = (alert: Alert, refreshBy?: number): void => {
    if (emit(out, receiver, alert, dueAt, refreshBy)) webhook.push(alert);
  };
  for (const fp of g.members) {
    const a = state.kv.get(`alert:${fp}`) as AlertEntry | undefined;
    if (!a) continue;
    const lastSent = g.notified[fp];
    if (a.status === 'resolved') {
      // The resolve is never lost: a receiver that was told "firing" is told "resolved", muted or not.
      if (lastSent !== undefined) {
        send(toAlert(ctx, a, fp, g, 'resolved'));
        delete g.notified[fp];
      }
      releaseAlert(p, fp, a, gKey);
      continue;
    }
    keep.push(fp);
    const muted = routeMuted || isMuted(p, a.labels);
    if (muted) continue;
    if (lastSent === undefined || now >= lastSent + route.repeatInterval) {
      send(toAlert(ctx, a, fp, g, 'firing'), now + route.repeatInterval + route.groupInterval);
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
    ix.groups.delete(gKey);
  } else {
    state.kv.set(gKey, g);
  }
}

// A resolved alert leaves a group once the group has sent its resolve; the entry goes with its last group.
function releaseAlert({ state }: PartitionScope, fp: string, a: AlertEntry, gKey: string): void {
  a.groups = a.groups.filter((k) => k !== gKey);
  if (a.groups.length === 0) state.kv.delete(`alert:${fp}`);
  else state.kv.set(`alert:${fp}`, a);
}

/**
 * Puts one alert notification on the tick's output; answers whether the receiver's webhook message carries
 * it (a webhook receiver, and firing or `send_resolved`).
 */
function emit(
  out: RouterOutput,
  receiver: Receiver | undefined,
  alert: Alert,
  dueAt: number,
  refreshBy?: number,
): boolean {
  out.alerts.push(alert);
  out.notifications.push({ alert, dueAt, ...(refreshBy === undefined ? {} : { refreshBy }) });
  return receiver?.kind === 'webhook' && (alert.status === 'firing' || receiver.sendResolved);
}

/** Sends due escalations (once per firing episode, unless muted) and the resolve of those sent. */
export function escalate(p: TickPass): void {
  const { ctx, state, ix, now, out } = p;
  for (const fp of [...ix.escalations].sort()) {
    const a = state.kv.get(`alert:${fp}`) as AlertEntry | undefined;
    const esc = a?.escalation;
    if (!a || !esc) {
      ix.escalations.delete(fp);
      continue;
    }
    const receiver = ctx.config.receivers.get(esc.receiver);
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
      if (now < esc.at || isMuted(p, a.labels)) continue;
      alert = toAlert(ctx, a, fp, target, 'firing');
      const minutes = Math.round((esc.at - a.startsAt) / 60_000);
      alert.annotations.description = `Still firing ${minutes}m after it started at ${formatTime(a.startsAt)}: escalated to ${esc.receiver}. ${alert.annotations.description ?? alert.annotations.summary}`;
      esc.sent = true;
    } else {
      if (esc.sent) {
        alert = toAlert(ctx, a, fp, target, 'resolved');
        dueAt = a.endsAt ?? now;
      }
      delete a.escalation;
    }
    ix.escalations.delete(fp);
    state.kv.set(`alert:${fp}`, a);
    if (!alert) continue;
    dueAt = Math.min(dueAt, now);
    if (emit(out, receiver, alert, dueAt)) {
      out.webhooks.push({ ...target, groupLabels: {}, dueAt, alerts: [alert] });
    }
  }
}

/** The `dq.alerts.v1` record of an alert entry, as sent to one receiver and group. */
export function toAlert(
  ctx: RouterContext,
  a: AlertEntry,
  fp: string,
  g: Pick<GroupEntry, 'receiver' | 'groupKey'>,
  status: 'firing' | 'resolved',
): Alert {
  const count = a.status === 'firing' ? a.firing : a.total;
  const runbook = ctx.runbookUrl?.(a.labels);
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
    generatorURL: fillTemplate(ctx.generatorUrl, fp, a.labels),
    ...(a.traceparent ? { traceparent: a.traceparent } : {}),
  };
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
