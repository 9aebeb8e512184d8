import { Type, type Static } from '@sinclair/typebox';
import { fingerprint, formatDuration, formatTime, parseTime, type Finding } from '@tidemark/core';
import type { ParityContext } from './context.js';
import { PARITY_CHECKS, parityFinding } from './findings.js';
import type { ParitySettings } from './settings.js';
import {
  ParityState,
  type DocRecord,
  type MassDecision,
  type MassPart,
  type RemovalBucket,
  type SystemRecord,
} from './state.js';

// Mass removal is one problem of one system, but a system's documents are spread over every partition. So, like
// drift and null rates, it is decided in two stages: each partition counts its removals per system in event-time
// buckets and, when that count changes, sends a partial to an internal topic keyed by `<system>`; the partition that
// owns the key keeps every partition's latest partial and decides one `parity.mass-removal` per system over their
// sum. (Per partition, one burst was three findings, each with a partial share.)

/** Internal topic carrying per-partition mass-removal partials, keyed by `<system>` (co-partitioned with the inputs). */
export function massRemovalTopic(service: string): string {
  return `tidemark.${service}.mass-removal`;
}

/** CloudEvents type of a mass-removal partial. */
export const MASS_PARTIAL_TYPE = 'tidemark.parity.mass-partial';

const Bucket = Type.Object({
  start: Type.Integer(),
  removed: Type.Integer({ minimum: 0 }),
  expected: Type.Integer({ minimum: 0 }),
  connectors: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 0 }))),
});

/** `data` of a partial: one partition's removals of one system within the window before `at`. */
export const MassPartialSchema = Type.Object({
  system: Type.String({ minLength: 1 }),
  partition: Type.Integer({ minimum: 0 }),
  /** The partition's time (epoch ms) the counts are as of. */
  at: Type.Integer(),
  held: Type.Integer({ minimum: 0 }),
  deferred: Type.Integer({ minimum: 0 }),
  buckets: Type.Array(Bucket),
});
/** One partition's partial count of a system's removals. */
export type MassPartial = Static<typeof MassPartialSchema>;

/** The CloudEvent schema of a partial, for the envelope parser. */
export const MassPartialEventSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String(),
  source: Type.String(),
  type: Type.Literal(MASS_PARTIAL_TYPE),
  time: Type.String({ format: 'date-time' }),
  data: MassPartialSchema,
});
/** A partial as a CloudEvent. */
export type MassPartialEvent = Static<typeof MassPartialEventSchema>;

/** A partition re-sends its held count once it moved by more than this share since the last partial. */
export const HELD_RESEND_SHARE = 0.1;

/**
 * The partials this partition owes: for each system whose removals within the window before `now` (or deferred
 * count) changed since its last partial, or whose held count moved by more than HELD_RESEND_SHARE, the new counts.
 * Every partition that holds documents of a system reports early (its first tick), so the decider weighs the first
 * removals of a burst against the whole system, not against the partitions that happened to report. Buckets that
 * left the window are dropped here, so a burst that ends is reported as its counts fall. Between partials the held
 * count the decider knows is off by at most HELD_RESEND_SHARE (a share off by as much, relatively).
 */
export function collectMassPartials(state: ParityState, ctx: ParityContext): MassPartial[] {
  const out: MassPartial[] = [];
  const systems = new Set([...state.held.keys(), ...state.systems.keys()]);
  for (const system of [...systems].sort()) {
    const held = state.held.get(system) ?? 0;
    const known = state.systems.get(system);
    if (known === undefined && held === 0) continue;
    const sys = known ?? state.system(system);
    const s = ctx.settings(system);
    const width = bucketWidth(s);
    const kept = sys.buckets.filter((b) => b.start + width > ctx.now - s.massRemoval.windowMs);
    if (kept.length !== sys.buckets.length) {
      sys.buckets = kept;
      state.touch(ParityState.systemKey(system));
    }
    const deferred = sys.deferred ?? 0;
    const said = JSON.stringify([kept, deferred]);
    const heldMoved =
      sys.sentHeld === undefined ||
      Math.abs(held - sys.sentHeld) > Math.max(1, HELD_RESEND_SHARE * sys.sentHeld);
    if (said === sys.sent && !heldMoved) continue;
    sys.sent = said;
    sys.sentHeld = held;
    state.touch(ParityState.systemKey(system));
    out.push({
      system,
      partition: state.partition,
      // Handlers count removals as they read them, and a tick's `now` may trail them (event-time hosts tick
      // EVENT_SKEW behind the newest record): dated at the tick alone, the finding would be observed before the
      // removals that prove it.
      at: Math.max(ctx.now, sys.latestRemovalAt ?? ctx.now),
      held,
      deferred,
      buckets: kept.map((b) => ({
        ...b,
        ...(b.connectors ? { connectors: { ...b.connectors } } : {}),
      })),
    });
  }
  return out;
}

/**
 * When collectMassPartials next has something to do on this partition: -Infinity when a partial is owed now (a
 * system's buckets, deferrals or held count moved since its last partial, or a system holds documents and never
 * reported), else when the earliest bucket leaves its window, Infinity when no bucket is held. It reads what
 * collectMassPartials compares, without changing anything, so the host may skip the ticks before it.
 */
export function massPartialsDue(
  state: ParityState,
  settings: (system: string) => ParitySettings,
): number {
  let due = Infinity;
  const seen = (system: string): number => {
    const held = state.held.get(system) ?? 0;
    const sys = state.systems.get(system);
    if (sys === undefined) return held === 0 ? Infinity : -Infinity;
    const s = settings(system);
    const width = bucketWidth(s);
    let first = Infinity;
    for (const b of sys.buckets) first = Math.min(first, b.start + width + s.massRemoval.windowMs);
    if (
      JSON.stringify([sys.buckets, sys.deferred ?? 0]) !== sys.sent ||
      sys.sentHeld === undefined ||
      Math.abs(held - sys.sentHeld) > Math.max(1, HELD_RESEND_SHARE * sys.sentHeld)
    )
      return -Infinity;
    return first;
  };
  for (const system of state.systems.keys()) due = Math.min(due, seen(system));
  for (const system of state.held.keys()) {
    if (!state.systems.has(system)) due = Math.min(due, seen(system));
  }
  return due;
}

/** A partial as the CloudEvent sent to the internal topic; its id is deterministic (a redelivery replaces itself). */
export function massPartialEvent(partial: MassPartial, service: string): MassPartialEvent {
  return {
    specversion: '1.0',
    id: fingerprint({ mass: partial }),
    source: `tidemark/${service}`,
    type: MASS_PARTIAL_TYPE,
    time: formatTime(partial.at),
    data: partial,
  };
}

/**
 * Merges one partition's partial into its system's decision and decides `parity.mass-removal` over every partition:
 * the removals of all partitions within the window before the newest partial's time, against the documents the index
 * holds in all partitions plus those removed. Fires once per system (subject `{system}`; the connector, when one made
 * every removal in the window, is named in the summary and `evidence.connector` — in the subject it would take the
 * finding out of the shipped system-wide inhibition, since per-document parity findings name no connector), resolves
 * once when the sum falls back under the share. A partial older than the
 * one kept for its partition (a redelivery) changes nothing.
 */
export function applyMassPartial(
  state: ParityState,
  event: MassPartialEvent,
  ctx: ParityContext,
): Finding[] {
  const partial = event.data;
  const key = String(partial.partition);
  const decision: MassDecision = state.masses.get(partial.system) ?? {
    system: partial.system,
    parts: {},
  };
  const before = decision.parts[key];
  if (before !== undefined && before.at > partial.at) return [];
  const part: MassPart = {
    at: partial.at,
    held: partial.held,
    buckets: partial.buckets as RemovalBucket[],
    deferred: partial.deferred,
  };
  decision.parts[key] = part;
  state.masses.set(partial.system, decision);
  state.touch(ParityState.massKey(partial.system));
  return decideMass(decision, ctx.settings(partial.system), parseTime(event.time));
}

function decideMass(decision: MassDecision, s: ParitySettings, eventTime: number): Finding[] {
  const { windowMs, share, minDocuments } = s.massRemoval;
  const width = bucketWidth(s);
  const parts = Object.entries(decision.parts).sort(([a], [b]) => Number(a) - Number(b));
  const ref = Math.max(eventTime, ...parts.map(([, p]) => p.at));
  const firing = decision.firing;
  // Between episodes only removals after the last resolve count (see MassDecision.quietAfter). Live, partitions
  // move through event time at different speeds: one far ahead lets the burst's buckets leave the window and the
  // finding resolves, then one behind reports removals from the middle of the same burst. One problem, one finding.
  const after = firing === undefined ? decision.quietAfter : undefined;
  let removed = 0;
  let expected = 0;
  let held = 0;
  const connectors = new Map<string, number>();
  for (const [, part] of parts) {
    held += part.held;
    for (const b of part.buckets) {
      if (b.start + width <= ref - windowMs) continue;
      if (after !== undefined && b.start + width <= after) continue;
      removed += b.removed;
      expected += b.expected;
      for (const [c, n] of Object.entries(b.connectors ?? {}))
        connectors.set(c, (connectors.get(c) ?? 0) + n);
    }
  }
  const known = held + removed;
  const breach = removed >= minDocuments && removed > share * known;
  const system = decision.system;
  const evidence = {
    count: removed,
    known,
    share: known === 0 ? 0 : removed / known,
    threshold: share,
    window: formatDuration(windowMs),
    expected,
    partitions: parts.length,
  };
  if (firing) {
    for (const [p, part] of parts)
      firing.deferred[p] = Math.max(firing.deferred[p] ?? 0, part.deferred);
  }
  if (breach && !firing) {
    const connector = connectors.size === 1 ? [...connectors.keys()][0] : undefined;
    decision.firing = {
      since: ref,
      removed,
      known,
      deferred: {},
      ...(connector ? { connector } : {}),
    };
    for (const [p, part] of parts) decision.firing.deferred[p] = part.deferred;
    return [
      parityFinding({
        check: PARITY_CHECKS.massRemoval,
        status: 'firing',
        subject: { system },
        settings: s,
        now: ref,
        summary: `the index removed ${removed} of ${known} known ${system} documents (${Math.round((100 * removed) / known)}%) within ${formatDuration(windowMs)}${connector ? ` (connector ${connector})` : ''}`,
        evidence: {
          ...evidence,
          ...(connector ? { connector } : {}),
          connectors: Object.fromEntries([...connectors].sort()),
        },
      }),
    ];
  }
  if (!breach && firing) {
    delete decision.firing;
    decision.quietAfter = ref;
    const deferred = Object.values(firing.deferred).reduce((a, b) => a + b, 0);
    return [
      parityFinding({
        check: PARITY_CHECKS.massRemoval,
        status: 'resolved',
        subject: { system },
        settings: s,
        now: ref,
        summary: `${system}: index removals are back under ${Math.round(share * 100)}% of known documents per ${formatDuration(windowMs)}`,
        evidence: {
          ...evidence,
          ...(firing.connector ? { connector: firing.connector } : {}),
          firedAt: formatTime(firing.since),
          firedWith: { count: firing.removed, known: firing.known },
          deferredDeleteMissed: deferred,
        },
      }),
    ];
  }
  return [];
}

// ---- stage one: this partition's removals per system, in event-time buckets ------------------------

/** Width of one mass-removal bucket: a tenth of the window. */
export function bucketWidth(s: ParitySettings): number {
  return Math.max(1, Math.floor(s.massRemoval.windowMs / 10));
}

/** Counts a document's removal from the index into its system's bucket and re-decides the local burst. */
export function recordRemoval(
  state: ParityState,
  rec: DocRecord,
  at: number,
  connector: string,
  ctx: ParityContext,
): void {
  const s = ctx.settings(rec.system);
  const sys = state.system(rec.system);
  const width = bucketWidth(s);
  const start = Math.floor(at / width) * width;
  let bucket = sys.buckets.find((b) => b.start === start);
  if (!bucket) {
    bucket = { start, removed: 0, expected: 0 };
    sys.buckets.push(bucket);
    sys.buckets.sort((a, b) => a.start - b.start);
  }
  bucket.removed++;
  sys.latestRemovalAt = Math.max(sys.latestRemovalAt ?? at, at);
  if (rec.sourceDeleted) bucket.expected++;
  const connectors = (bucket.connectors ??= {});
  connectors[connector] = (connectors[connector] ?? 0) + 1;
  evaluateLocalBurst(state, sys, Math.max(at, ctx.now), s);
}

/**
 * Decides this partition's *local burst* of one system from the removals whose event time lies within the window
 * before `ref`: keys spread evenly over partitions, so a connector wiping the index shows about the same share in
 * every partition, and each partition holds back its own per-document noise while its share is over. No finding:
 * `parity.mass-removal` is decided once per system over every partition's partial (mass-removal.ts).
 */
export function evaluateLocalBurst(
  state: ParityState,
  sys: SystemRecord,
  ref: number,
  s: ParitySettings,
): void {
  const { windowMs, share, minDocuments } = s.massRemoval;
  const width = bucketWidth(s);
  sys.buckets = sys.buckets.filter((b) => b.start + width > ref - windowMs);
  let removed = 0;
  for (const b of sys.buckets) removed += b.removed;
  const known = (state.held.get(sys.system) ?? 0) + removed;
  // The partition's own count must reach minDocuments (as before the system-wide merge): a smaller local share
  // of a system-wide burst fires the finding but does not hold this partition's per-document findings back.
  if (removed >= minDocuments && removed > share * known) {
    sys.lastFiringAt = ref;
    sys.firing ??= { since: ref, removed, known };
    sys.recheckAt = ref + width;
    state.schedule('mass', sys.system, sys.recheckAt);
  } else {
    delete sys.firing;
    delete sys.deferred;
    delete sys.recheckAt;
  }
  state.touch(ParityState.systemKey(sys.system));
}
