// Muting, as Alertmanager's inhibit/ and silence/ decide it: inhibition by firing source alerts (indexed per
// rule by their `equal` labels), and silences. A route's time intervals mute in dispatch.ts (flushGroup).
import type { InhibitRule } from '../config.js';
import { matchesAll } from '../matcher.js';
import type { Labels } from '../matcher.js';
import type { AlertEntry, RouterIndexes } from '../state.js';
import type { Pass, PartitionScope, RouterContext } from './context.js';
import { SILENCE_EXPIRING_CHECK } from './notices.js';

function equalKey(rule: InhibitRule, labels: Labels): string {
  return JSON.stringify(rule.equal.map((n) => labels[n] ?? ''));
}

/** Adds a firing alert to (or, not firing, removes it from) the sources of every rule whose source it matches. */
export function indexSource(
  rules: readonly InhibitRule[],
  ix: RouterIndexes,
  fp: string,
  labels: Labels,
  firing: boolean,
): void {
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

/** Whether an inhibit rule mutes these labels now (a firing source alert agrees on every `equal` label). */
export function isInhibited({ ctx, state, ix }: PartitionScope, labels: Labels): boolean {
  return ctx.config.inhibitRules.some((rule, i) => {
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

/** Whether a silence mutes these labels at `now`. */
export function isSilenced(ctx: RouterContext, labels: Labels, now: number): boolean {
  // A notice about a silence must not be muted by the silence it warns about.
  if (labels.check === SILENCE_EXPIRING_CHECK) return false;
  return ctx.silences?.isSilenced(labels, now) ?? false;
}

/** Whether a silence or an inhibition mutes these labels at the pass's time. */
export function isMuted(p: Pass, labels: Labels): boolean {
  return isSilenced(p.ctx, labels, p.now) || isInhibited(p, labels);
}
