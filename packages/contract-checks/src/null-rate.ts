import { Type } from '@sinclair/typebox';
import { fingerprint, formatTime, type OutputRecord, type Severity } from '@tidemark/core';
import type { NullRateSettings } from '@tidemark/contracts';
import {
  NULL_RATE_LATENESS_MS,
  NULL_RATE_SETTLE_MS,
  type ContractCheckerState,
  type NullRateDecision,
  type WindowCounts,
} from './state.js';
import { NullRatePartialSchema, type NullRatePartial } from './null-rate-partial.js';

export { NullRatePartialSchema, type NullRatePartial };

// Null rates are decided per (system, content class, field) over all partitions, in two stages:
// each partition counts its share of a tumbling event-time window and, once the window has closed on
// that partition, sends the partial counts to an internal topic keyed by the null-rate key; the
// partition owning that key merges the partials and decides after a settle delay, so partitions that
// run behind still count. (A per-partition verdict would flap: one partition resolving what another fires.)

/** Internal topic carrying per-partition null-rate partial counts, keyed by `<system>/<class>/<field>`. */
export function nullRateTopic(service: string): string {
  return `tidemark.${service}.null-rates`;
}
/** CloudEvents type of a partial count. */
export const NULL_RATE_PARTIAL_TYPE = 'tidemark.null-rate.partial';

/** The CloudEvent schema of a partial, for the envelope parser. */
export const NullRatePartialEventSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String(),
  source: Type.String(),
  type: Type.Literal(NULL_RATE_PARTIAL_TYPE),
  time: Type.String({ format: 'date-time' }),
  data: NullRatePartialSchema,
});

export { NULL_RATE_LATENESS_MS, NULL_RATE_SETTLE_MS };

// A shadow candidate's limits count and decide under keys of their own (a fourth segment), so a candidate limit on
// the same field never merges with the enforced one. Field paths are dotted, never contain '/'.
const CANDIDATE_SEGMENT = 'candidate';
const windowKey = (system: string, cls: string, field: string, candidate = false) =>
  candidate ? `${system}/${cls}/${field}/${CANDIDATE_SEGMENT}` : `${system}/${cls}/${field}`;

// The last window key built per limit: consecutive events of a class mostly fall into the same window, and
// reusing the string saves building it (two numbers formatted) and re-hashing it for the map lookup per event.
const lastWindowKeys = new WeakMap<
  NullRateSettings,
  { system: string; contentClass: string; start: number; key: string }
>();

function windowCountKey(
  limit: NullRateSettings,
  system: string,
  contentClass: string,
  start: number,
  candidate: boolean,
): string {
  const last = lastWindowKeys.get(limit);
  if (
    last !== undefined &&
    last.start === start &&
    last.system === system &&
    last.contentClass === contentClass
  )
    return last.key;
  const key = `${windowKey(system, contentClass, limit.field, candidate)}|${start}|${limit.windowMs}`;
  lastWindowKeys.set(limit, { system, contentClass, start, key });
  return key;
}

/**
 * Counts one event into this partition's windows of every null-rate limit that applies: a system-scope limit's
 * window counts every class of the system (class '' in its key), a class-scope one the event's class only.
 */
export function countNullRates(
  state: ContractCheckerState,
  limits: readonly NullRateSettings[],
  system: string,
  contentClass: string,
  isNull: (limit: NullRateSettings) => boolean,
  time: number,
  candidate = false,
): void {
  for (const limit of limits) {
    const start = Math.floor(time / limit.windowMs) * limit.windowMs;
    if (start + limit.windowMs + NULL_RATE_LATENESS_MS <= state.watermark) continue; // too late: window sent
    const cls = limit.scope === 'system' ? '' : contentClass;
    const key = windowCountKey(limit, system, cls, start, candidate);
    const counts = state.windows.get(key);
    const nulls = isNull(limit) ? 1 : 0;
    if (counts === undefined) state.setWindow(key, [1, nulls]);
    else {
      // Counted in place (no new pair per event); set again so the state marks the window changed.
      counts[0] += 1;
      counts[1] += nulls;
      state.windows.set(key, counts);
    }
  }
}

/** Closes this partition's windows that ended before `now` − lateness and returns their partial records. */
export function closeNullRateWindows(
  state: ContractCheckerState,
  now: number,
  lookup: (
    system: string,
    contentClass: string,
    field: string,
    candidate: boolean,
  ) => NullRateSettings | undefined,
  contractRef: (
    system: string,
    candidate: boolean,
  ) => { file: string; version: string } | undefined,
  service: string,
): OutputRecord[] {
  const topic = nullRateTopic(service);
  const out: OutputRecord[] = [];
  for (const [key, [n, nulls]] of state.closeWindowsDue(now)) {
    const [path, startText, msText] = key.split('|') as [string, string, string];
    const windowStart = Number(startText);
    const windowMs = Number(msText);
    const [system, contentClass, field, marker] = path.split('/') as [
      string,
      string,
      string,
      string | undefined,
    ];
    const candidate = marker === CANDIDATE_SEGMENT;
    const limit = lookup(system, contentClass, field, candidate);
    if (!limit) continue; // the contract no longer has this limit
    const data: NullRatePartial = {
      system,
      contentClass,
      field,
      windowStart,
      windowMs,
      n,
      nulls,
      threshold: limit.threshold,
      minCount: limit.minCount,
      severity: limit.severity,
      shadow: limit.shadow,
      ...(candidate ? { candidate: true } : {}),
      contract: contractRef(system, candidate) ?? { file: '', version: '' },
    };
    out.push({
      topic,
      key: path,
      value: JSON.stringify({
        specversion: '1.0',
        id: fingerprint({ key, n, nulls }),
        source: `tidemark/${service}`,
        type: NULL_RATE_PARTIAL_TYPE,
        time: formatTime(windowStart + windowMs),
        data,
      }),
    });
  }
  return out;
}

/** A null-rate verdict the service turns into a finding. */
export interface NullRateVerdict {
  status: 'firing' | 'resolved';
  partial: NullRatePartial;
  windowStart: number;
  counts: WindowCounts;
}

/** Merges a partial into the decider state for its key. */
export function mergeNullRatePartial(state: ContractCheckerState, partial: NullRatePartial): void {
  const key = windowKey(partial.system, partial.contentClass, partial.field, partial.candidate);
  const decision = state.decisions.get(key) ?? {
    windows: {},
    firing: false,
    decidedUpTo: 0,
    limit: partial,
  };
  if (partial.windowStart < decision.decidedUpTo) return; // decided already; a very late partial is dropped
  const counts = decision.windows[partial.windowStart] ?? [0, 0];
  const windows = {
    ...decision.windows,
    [partial.windowStart]: [counts[0] + partial.n, counts[1] + partial.nulls],
  };
  state.setDecision(key, { ...decision, windows, limit: partial } as NullRateDecision);
}

/** Decides every merged window that has settled by `now`; returns the state changes worth a finding. */
export function decideNullRates(state: ContractCheckerState, now: number): NullRateVerdict[] {
  const verdicts: NullRateVerdict[] = [];
  for (const key of state.decisionsDue(now)) {
    const decision = state.decisions.get(key)!;
    const partial = decision.limit;
    let { firing, decidedUpTo } = decision;
    const windows = { ...decision.windows };
    let changed = false;
    for (const startText of Object.keys(windows).sort((a, b) => Number(a) - Number(b))) {
      const start = Number(startText);
      if (start + partial.windowMs + NULL_RATE_SETTLE_MS > now) break;
      const counts = windows[startText]!;
      delete windows[startText];
      decidedUpTo = start + partial.windowMs;
      changed = true;
      if (counts[0] < partial.minCount) continue; // too few events for a verdict
      const over = counts[1] / counts[0] > partial.threshold;
      if (over !== firing) {
        firing = over;
        verdicts.push({
          status: over ? 'firing' : 'resolved',
          partial,
          windowStart: start,
          counts,
        });
      }
    }
    // Stored even when unchanged: that reschedules the decision at its next window.
    if (changed) state.setDecision(key, { ...decision, windows, firing, decidedUpTo });
    else state.setDecision(key, decision);
  }
  return verdicts;
}

/** Severity of a partial, typed. */
export function partialSeverity(partial: NullRatePartial): Severity {
  return partial.severity as Severity;
}
