// The alert lifecycle: findings with the same label set form one alert, which fires while any of them fires
// and resolves with the last. Starting to fire joins the alert to its groups (dispatch.ts) and plans its
// owner's escalation (sent by dispatch.ts#escalate).
import { fingerprint } from '@tidemark/core';
import type { Finding } from '@tidemark/core';
import { isTicketReceiver } from '../config.js';
import { resolveEscalation } from '../owners.js';
import type { AlertEntry } from '../state.js';
import type { Pass, PartitionScope, RouterContext } from './context.js';
import { joinGroups } from './dispatch.js';
import { indexSource } from './inhibit.js';

// Label sets repeat (many findings, few alerts): memoize their fingerprints rather than hash every finding.
const LABEL_FP_CACHE_LIMIT = 50_000;

/** The fingerprint of an alert's label set (memoized in the context). */
export function alertFingerprint(ctx: RouterContext, labels: Record<string, string>): string {
  const labelFps = ctx.labelFingerprints;
  const text = JSON.stringify(labels);
  let fp = labelFps.get(text);
  if (fp === undefined) {
    if (labelFps.size >= LABEL_FP_CACHE_LIMIT) labelFps.clear();
    fp = fingerprint(labels);
    labelFps.set(text, fp);
  }
  return fp;
}

function alertSummary(finding: Finding): string {
  return finding.restricted
    ? `${finding.check} on ${finding.subject.system} (restricted document: details withheld)`
    : finding.summary;
}

/** Counts a firing finding under its alert, creating the alert or starting a new episode of it. */
export function attach(
  p: Pass,
  fp: string,
  labels: Record<string, string>,
  finding: Finding,
  at: number,
): AlertEntry {
  const { ctx, state } = p;
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
      ...joinGroups(p, fp, labels, at),
    };
  } else if (a.status === 'resolved') {
    // A new firing episode of the same label set; groups that already sent the resolve had let it go.
    const joined = joinGroups(p, fp, labels, at);
    a.status = 'firing';
    a.startsAt = at;
    delete a.endsAt;
    a.total = 0;
    a.sample = [];
    a.groups = joined.groups;
    a.ticketReceivers = joined.ticketReceivers;
  }
  if (a.firing === 0) planEscalation(p, fp, a);
  const wasFiring = a.firing > 0;
  a.firing += 1;
  a.total += 1;
  if (a.sample.length < ctx.alertFindingSample && !a.sample.includes(finding.fingerprint))
    a.sample.push(finding.fingerprint);
  a.summary = alertSummary(finding);
  if (finding.traceparent) a.traceparent = finding.traceparent;
  state.kv.set(key, a);
  if (!wasFiring) indexSource(ctx.config.inhibitRules, p.ix, fp, a.labels, true);
  return a;
}

// Plans the owner's escalation of an alert starting to fire (a new alert or a new episode): due `after`
// its start. A receiver that was told "firing" and not yet "resolved" keeps that (no second firing).
function planEscalation({ ctx, ix }: PartitionScope, fp: string, a: AlertEntry): void {
  if (a.groups.length === 0) return; // tickets only: tickets escalate by their dueBy
  const esc = resolveEscalation(ctx.owners, a.labels.team, a.labels.system, a.labels.contentClass);
  const receiver = esc ? ctx.config.receivers.get(esc.receiver) : undefined;
  if (!esc || !receiver || isTicketReceiver(receiver)) {
    delete a.escalation;
    ix.escalations.delete(fp);
    return;
  }
  a.escalation = {
    receiver: receiver.name,
    at: a.startsAt + (esc.afterMs ?? 0),
    sent: a.escalation?.sent ?? false,
  };
  if (a.escalation.sent) ix.escalations.delete(fp);
  else ix.escalations.add(fp);
}

/** Takes a finding that stopped firing (at `at`) off its alert; the last one resolves the alert. */
export function detach({ ctx, state, ix }: PartitionScope, fp: string, at: number): void {
  const key = `alert:${fp}`;
  const a = state.kv.get(key) as AlertEntry | undefined;
  if (!a || a.status !== 'firing') return;
  a.firing = Math.max(0, a.firing - 1);
  if (a.firing === 0) {
    a.status = 'resolved';
    a.endsAt = Math.max(at, a.startsAt);
    indexSource(ctx.config.inhibitRules, ix, fp, a.labels, false);
    // An escalation receiver that was told "firing" is told "resolved" too; one never sent is dropped.
    if (a.escalation?.sent) ix.escalations.add(fp);
    else if (a.escalation) {
      delete a.escalation;
      ix.escalations.delete(fp);
    }
    if (a.groups.length === 0) {
      state.kv.delete(key);
      return;
    }
  }
  state.kv.set(key, a);
}
