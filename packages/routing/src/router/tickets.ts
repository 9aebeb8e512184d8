// Steward tickets: a firing finding routed to a tickets receiver is an item of one ticket per (assignee,
// check family, system, SLA period). Changes mark the ticket dirty; the tick emits one action per dirty
// ticket (open, update, resolve), escalates tickets past their dueBy, and raises `routing.unowned`.
import { SEVERITY_RANK, buildFinding, fingerprint, formatTime, parseTime } from '@tidemark/core';
import type { Finding, Severity, Ticket, TicketItem } from '@tidemark/core';
import { ROUTING_DEFAULTS } from '../config.js';
import { ownerQueue, resolveEscalation, resolveOwner } from '../owners.js';
import type { AlertEntry, FindingEntry, TicketEntry } from '../state.js';
import type { Pass, PartitionScope, TickPass } from './context.js';

/** Check id of the finding raised when ticket items have nobody to go to. */
export const UNOWNED_CHECK = 'routing.unowned';

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

/**
 * The base keys of the tickets a finding of this alert is an item of (one per tickets receiver of the
 * alert), creating ticket entries that do not exist yet.
 */
export function ticketBases(
  { ctx, state }: PartitionScope,
  finding: Finding,
  a: AlertEntry,
  at: number,
): string[] {
  const { config, owners } = ctx;
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

/** Marks a ticket dirty: the next tick emits its action. */
export function markTicket({ state, ix }: PartitionScope, base: string): void {
  const key = `ticket:${base}`;
  const t = state.kv.get(key) as TicketEntry | undefined;
  if (!t) return;
  if (!t.dirty) {
    t.dirty = true;
    state.kv.set(key, t);
  }
  ix.dirtyTickets.add(base);
  ix.closedTickets.delete(base);
}

/** Removes a finding from a ticket's items (it resolved, expired or moved) and marks the ticket dirty. */
export function dropItem(p: PartitionScope, base: string, fp: string): void {
  p.ix.ticketMembers.get(base)?.delete(fp);
  markTicket(p, base);
}

/** The ticket item of a finding (ids and the check only for a restricted document). */
export function itemOf(
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

/** Marks open tickets past their dueBy as escalated (their next action, emitted now, says so). */
export function escalateTickets(p: Pass): void {
  const { ctx, state, ix, now } = p;
  for (const [base, dueBy] of [...ix.dueTickets].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    if (dueBy > now) continue;
    ix.dueTickets.delete(base);
    const t = state.kv.get(`ticket:${base}`) as TicketEntry | undefined;
    if (!t || !t.opened || t.escalated) continue;
    t.escalated = true;
    const esc = resolveEscalation(ctx.owners, t.team, t.system);
    if (esc) t.escalationReceiver = esc.receiver;
    state.kv.set(`ticket:${base}`, t);
    markTicket(p, base);
  }
}

/** Emits the action of every dirty ticket (in key order). */
export function flushDirtyTickets(p: TickPass): void {
  for (const base of [...p.ix.dirtyTickets].sort()) flushTicket(p, base);
  p.ix.dirtyTickets.clear();
}

function flushTicket(p: TickPass, base: string): void {
  const { state, ix, now, out } = p;
  const key = `ticket:${base}`;
  const t = state.kv.get(key) as TicketEntry | undefined;
  if (!t) return;
  const members = ix.ticketMembers.get(base) ?? new Set<string>();
  t.dirty = false;
  let action: Ticket['action'] | undefined;
  if (members.size > 0) action = t.opened ? 'update' : 'open';
  else if (t.opened) action = 'resolve';
  if (action) {
    t.version += 1;
    const ticket = ticketOf(p, base, t, action, members);
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
    if (t.opened && !t.escalated && t.dueBy !== undefined) ix.dueTickets.set(base, t.dueBy);
    else ix.dueTickets.delete(base);
  }
  if (members.size === 0) {
    ix.ticketMembers.delete(base);
    ix.closedTickets.set(base, t.periodEnd);
  }
  state.kv.set(key, t);
}

function ticketOf(
  { ctx, state }: PartitionScope,
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
    if (items.length < ctx.ticketItemLimit) {
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
