// Silence notices: the `routing.silence-expiring` finding raised when an active silence is about to end, and
// resolved when it ends, is extended or is deleted. Silences are global, so one partition speaks.
import { buildFinding, formatTime } from '@tidemark/core';
import type { Finding } from '@tidemark/core';
import { formatMatcher } from '../matcher.js';
import { silenceActive } from '../silence.js';
import type { SilenceEntry } from '../state.js';
import type { PartitionScope, TickPass } from './context.js';

/** Check id of the `info` finding raised when a silence is about to end. */
export const SILENCE_EXPIRING_CHECK = 'routing.silence-expiring';

/** Raises the notices of silences ending within the lead and resolves those no longer due (the tick's findings). */
export function silenceNotices({ ctx, state, ix, now, out }: TickPass): void {
  const { silences, silenceExpiryLead } = ctx;
  if (!silences || state.partition !== ctx.silenceNoticePartition) return;
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

// When silenceNotices next fires or resolves a notice on this partition (the silences table may change between
// ticks; this reads it as it is now).
export function nextSilenceNotice({ ctx, state, ix }: PartitionScope): number {
  const { silences, silenceExpiryLead } = ctx;
  if (!silences || state.partition !== ctx.silenceNoticePartition) return Number.POSITIVE_INFINITY;
  let due = Number.POSITIVE_INFINITY;
  const ticked = ctx.lastTick.get(state) ?? Number.NEGATIVE_INFINITY;
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
