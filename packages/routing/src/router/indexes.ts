// The in-memory indexes over a partition's entries: built from the entries on first use (and again after a
// restore), then kept current by every change the concept files make.
import type { RouterIndexes, RouterState } from '../state.js';
import type { PartitionScope, RouterContext } from './context.js';
import { indexSource } from './inhibit.js';

/** The indexes of a state, rebuilt from its entries when it has none (new, or just restored). */
export function indexes(ctx: RouterContext, state: RouterState): RouterIndexes {
  if (state.indexes) return state.indexes;
  const rules = ctx.config.inhibitRules;
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
        if (e.status === 'firing') indexSource(rules, ix, id, e.labels, true);
        if (e.escalation && e.escalation.sent !== (e.status === 'firing')) ix.escalations.add(id);
        break;
      case 'silence':
        ix.silenceNotices.add(id);
        break;
    }
  }
  return ix;
}

/** The scope of one call on a partition (its indexes built). */
export function scopeOf(ctx: RouterContext, state: RouterState): PartitionScope {
  return { ctx, state, ix: indexes(ctx, state) };
}

/** The findings that are items of a ticket (by base key), created empty on first use. */
export function memberSet(ix: RouterIndexes, base: string): Set<string> {
  let s = ix.ticketMembers.get(base);
  if (!s) ix.ticketMembers.set(base, (s = new Set()));
  return s;
}
