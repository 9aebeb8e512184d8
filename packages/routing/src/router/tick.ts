// The tick: runs every timer due by `now` in a fixed order (expiries, escalations, group flushes, ticket
// actions, silence notices, the cleanup sweep), and nextTick, which says when the next one has work.
import type { AlertEntry, RouterState } from '../state.js';
import type { PartitionScope, RouterContext, TickPass } from './context.js';
import { escalate, flushDueGroups } from './dispatch.js';
import { expire } from './findings.js';
import { indexes } from './indexes.js';
import { nextSilenceNotice, silenceNotices } from './notices.js';
import { escalateTickets, flushDirtyTickets } from './tickets.js';
import type { RouterOutput } from './types.js';

const CLEANUP_EVERY = 60_000;

/** Runs the timers of one partition due by `now` and returns what they emit. */
export function tick(ctx: RouterContext, state: RouterState, now: number): RouterOutput {
  const ix = indexes(ctx, state);
  ctx.lastTick.set(state, now);
  const out: RouterOutput = {
    alerts: [],
    notifications: [],
    webhooks: [],
    tickets: [],
    findings: [],
  };
  const p: TickPass = { ctx, state, ix, now, out };
  if (ix.expiring.size > 0) expire(p);
  // Before the group flushes: a resolved alert's entry lives until its groups have sent the resolve.
  if (ix.escalations.size > 0) escalate(p);
  if (ix.dueTickets.size > 0) escalateTickets(p);
  if (now >= ix.nextGroupDue) flushDueGroups(p);
  flushDirtyTickets(p);
  silenceNotices(p);
  sweep(p);
  return out;
}

// Forgets resolved findings and closed tickets past their retention.
function sweep({ ctx, state, ix, now }: TickPass): void {
  // Cleanup has minute granularity: scanning the resolved findings on every tick would cost more than routing.
  // Its sweeps keep a fixed cadence from the first tick, and each sweeps as of its own point of that cadence, so
  // what it removes does not depend on which ticks ran in between (a host may skip idle ticks: nextTick).
  if (now < ix.nextCleanupAt) return;
  const sweepAt =
    ix.nextCleanupAt === Number.NEGATIVE_INFINITY
      ? now
      : ix.nextCleanupAt + Math.floor((now - ix.nextCleanupAt) / CLEANUP_EVERY) * CLEANUP_EVERY;
  ix.nextCleanupAt = sweepAt + CLEANUP_EVERY;
  for (const [fp, at] of ix.resolvedFindings) {
    if (at + ctx.resolvedRetention <= sweepAt) {
      state.kv.delete(`finding:${fp}`);
      ix.resolvedFindings.delete(fp);
    }
  }
  // A closed ticket is kept until its period is over (plus the retention), so a late item of the same period
  // opens a new generation rather than reusing the first key.
  for (const [base, periodEnd] of ix.closedTickets) {
    if (periodEnd + ctx.resolvedRetention <= sweepAt) {
      state.kv.delete(`ticket:${base}`);
      ix.closedTickets.delete(base);
    }
  }
}

/** The earliest time a tick of this partition has work (see Router.nextTick). */
export function nextTick(p: PartitionScope): number {
  const { ctx, state, ix } = p;
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
  due = Math.min(due, nextSilenceNotice(p));
  // The sweep at the first point of the cadence at or after the earliest retention end.
  let sweep = Number.POSITIVE_INFINITY;
  for (const at of ix.resolvedFindings.values())
    sweep = Math.min(sweep, at + ctx.resolvedRetention);
  for (const end of ix.closedTickets.values()) sweep = Math.min(sweep, end + ctx.resolvedRetention);
  if (sweep !== Number.POSITIVE_INFINITY) {
    const behind = Math.max(0, Math.ceil((sweep - ix.nextCleanupAt) / CLEANUP_EVERY));
    due = Math.min(due, ix.nextCleanupAt + behind * CLEANUP_EVERY);
  }
  return due;
}
