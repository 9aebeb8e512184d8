// Findings in: dedup (the same finding again changes nothing), stale replays (an older observation is
// ignored), moves between alerts when labels change, expiry, and ticket membership. A finding goes from here
// to its alert (alerts.ts) and to its ticket items (tickets.ts); what is sent comes out of the tick.
import { parseTime } from '@tidemark/core';
import type { Finding } from '@tidemark/core';
import type { Receiver } from '../config.js';
import { findingLabels } from '../labels.js';
import type { FindingEntry, RouterIndexes } from '../state.js';
import { alertFingerprint, attach, detach } from './alerts.js';
import type { Pass } from './context.js';
import { isMuted } from './inhibit.js';
import { memberSet } from './indexes.js';
import { dropItem, itemOf, markTicket, ticketBases } from './tickets.js';

/** Takes one (non-shadow) finding into the partition's state at the pass's time. */
export function ingest(p: Pass, finding: Finding): void {
  const { ctx, state, ix } = p;
  const at = parseTime(finding.observedAt);
  const fKey = `finding:${finding.fingerprint}`;
  const prev = state.kv.get(fKey) as FindingEntry | undefined;
  if (prev && at < prev.observedAt) return; // an older observation replayed: the newer one stands
  const labels = findingLabels(finding);
  const alertFp = alertFingerprint(ctx, labels);
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
  if (prev?.status === 'firing') detach(p, prev.alert, at);
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
    const a = attach(p, alertFp, labels, finding, at);
    const kept = prev?.status === 'firing' ? (prev.tickets ?? []) : [];
    const candidates = ticketBases(p, finding, a, at);
    // A finding already on a ticket stays there; a new item is not added while the alert is muted.
    const muted = candidates.some((b) => !kept.includes(b)) && isMuted(p, labels);
    bases = candidates.filter((b) => kept.includes(b) || !muted);
    if (bases.length > 0) {
      const receiver = ctx.config.receivers.get(a.ticketReceivers[0] as string) as Receiver;
      entry.item = itemOf(finding, receiver.sla, at);
      entry.tickets = bases;
    }
  } else {
    ix.resolvedFindings.set(finding.fingerprint, at);
  }
  for (const b of prev?.tickets ?? []) {
    if (!bases.includes(b)) dropItem(p, b, finding.fingerprint);
  }
  for (const b of bases) {
    const members = memberSet(ix, b);
    const isNew = !members.has(finding.fingerprint);
    members.add(finding.fingerprint);
    const changed = isNew || JSON.stringify(prev?.item) !== JSON.stringify(entry.item);
    if (changed) markTicket(p, b);
  }
  state.kv.set(fKey, entry);
}

function trackExpiry(ix: RouterIndexes, fp: string, expiresAt: number | undefined): void {
  if (expiresAt === undefined) ix.expiring.delete(fp);
  else ix.expiring.set(fp, expiresAt);
}

/** Resolves firing findings whose expiry passed without a refresh, as if their resolve arrived then. */
export function expire(p: Pass): void {
  const { state, ix, now } = p;
  for (const [fp, expiresAt] of [...ix.expiring].sort(
    (x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1),
  )) {
    if (expiresAt > now) continue;
    ix.expiring.delete(fp);
    const entry = state.kv.get(`finding:${fp}`) as FindingEntry | undefined;
    if (!entry || entry.status !== 'firing') continue;
    detach(p, entry.alert, expiresAt);
    for (const b of entry.tickets ?? []) dropItem(p, b, fp);
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
