// Stage 1 of the drift check, run by the partition that consumes an event: record it into the open tumbling
// event-time window of each feature it feeds, and close windows once event time (or the host's clock) has passed
// their end plus the allowed lateness. A closed window leaves as a partial accumulation, to be merged per system by
// the decider (decider.ts). Pure: state in, state out; `now` is passed by the host.
//
// Progress reports: when a series' windows close without any event of this partition in them, the partition still
// sends one partial without an accumulation ("closed through windowEnd"). The decider uses these to know when every
// partition that feeds a series has closed a window, so it never judges a window while a partition is behind (after
// a restart, or in replay), and a silent system's volume reaches it as zero. A partition forgets a series after
// `retireAfterWindows` empty windows and says so (`final`), so its state stays bounded by the active series.
import { parseTime } from '@tidemark/core';
import {
  accumulationFromJSON,
  accumulationToJSON,
  createAccumulation,
  recordCategorical,
  recordNumeric,
  recordVolume,
  type FeatureAccumulation,
  type FeatureAccumulationJSON,
  type FeatureKind,
} from '../stat/accumulation.js';
import { MISSING_CATEGORY } from '../stat/categories.js';
import { hashUnit } from '../stat/random.js';
import { DriftStateError } from '../errors.js';
import type { ResolvedDriftConfig, ResolvedFeatureConfig } from './config.js';

/** The CloudEvent fields the drift check reads. */
export interface DriftEvent {
  id: string;
  type: string;
  time: string;
  data?: unknown;
}

/** Which series a window belongs to: one feature of one system (and connector, when grouped by connector). */
export interface SeriesId {
  feature: string;
  system: string;
  connector?: string;
}

/** One partition's accumulation of one closed window, sent to the decider that owns the system. */
export interface DriftPartial extends SeriesId {
  kind: FeatureKind;
  /** The input partition that accumulated it (the decider keeps one partial per partition and window). */
  partition: number;
  windowStart: number;
  windowEnd: number;
  /** Absent in a progress report: the partition had no event of the series here and has closed through windowEnd. */
  accumulation?: FeatureAccumulationJSON;
  /** The partition forgets the series after this partial: the decider stops waiting for it. */
  final?: boolean;
}

/** One series as one partition holds it. */
export interface PartitionSeries {
  id: SeriesId;
  kind: FeatureKind;
  windowMs: number;
  /** Open windows by start. */
  open: Map<number, FeatureAccumulation>;
  /** Windows ending at or before this are closed; later events for them are late. */
  closedBefore: number | null;
  /** End of the latest window that had an event (retirement counts empty windows from here). */
  lastDataEnd: number | null;
}

/** Per-partition drift state. */
export interface DriftPartitionState {
  /** The input partition this state belongs to (stamped on its partials). */
  partition: number;
  /** Highest event time seen (clamped to now + allowed lateness, so one clock-skewed event cannot close windows). */
  watermark: number | null;
  series: Map<string, PartitionSeries>;
  /** Events dropped because their window had already closed. */
  lateDropped: number;
  /** Keys of series changed or removed since the host last persisted them; the host clears it. */
  dirty: Set<string>;
  /** Lowest horizon at which closeWindows has anything to do; a cache, -Infinity when unknown. */
  nextDue: number;
}

/** Creates empty per-partition state. */
export function createPartitionState(partition = 0): DriftPartitionState {
  return {
    partition,
    watermark: null,
    series: new Map(),
    lateDropped: 0,
    dirty: new Set(),
    nextDue: -Infinity,
  };
}

/** Stable key of a series (feature, system, connector). */
export function seriesKey(id: SeriesId): string {
  return JSON.stringify([id.feature, id.system, id.connector ?? null]);
}

/** Key of a partial on the internal partials topic: the system, so one decider sees every partition's share. */
export function partialKey(partial: DriftPartial): string {
  return partial.system;
}

/** Reads a dotted path from an object's own properties (never its prototype chain). */
export function readField(data: unknown, path: string): unknown {
  let cur: unknown = data;
  for (const segment of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, segment)) return undefined;
    cur = (cur as Record<string, unknown>)[segment];
  }
  return cur;
}

/**
 * Records one event into the open window of every feature it feeds; mutates and returns `state`. Window placement
 * uses the event's own time; `now` only caps how far one event can move the watermark ahead of the clock.
 */
export function recordEvent(
  state: DriftPartitionState,
  event: DriftEvent,
  now: number,
  config: ResolvedDriftConfig,
): DriftPartitionState {
  let t: number;
  try {
    t = parseTime(event.time);
  } catch {
    return state; // the envelope check reports bad times; drift has nothing to place
  }
  const mark = Math.min(t, now + config.allowedLatenessMs);
  if (state.watermark === null || mark > state.watermark) state.watermark = mark;
  const data = event.data;
  const system = readField(data, 'system');
  if (typeof system !== 'string') return state;
  for (const f of config.features) {
    if (!f.eventTypes.includes(event.type)) continue;
    if (f.systems !== undefined && !f.systems.includes(system)) continue;
    if (f.contentClasses !== undefined) {
      const cls = readField(data, 'contentClass');
      if (typeof cls !== 'string' || !f.contentClasses.includes(cls)) continue;
    }
    let connector: string | undefined;
    if (f.groupBy === 'connector') {
      const c = readField(data, 'connector');
      if (typeof c !== 'string') continue;
      connector = c;
    }
    const id: SeriesId =
      connector === undefined
        ? { feature: f.name, system }
        : { feature: f.name, system, connector };
    const key = seriesKey(id);
    let series = state.series.get(key);
    if (series === undefined) {
      series = {
        id,
        kind: f.kind,
        windowMs: f.windowMs,
        open: new Map(),
        closedBefore: null,
        lastDataEnd: null,
      };
      state.series.set(key, series);
    }
    const start = Math.floor(t / f.windowMs) * f.windowMs;
    if (series.closedBefore !== null && start < series.closedBefore) {
      state.lateDropped++;
      continue;
    }
    let acc = series.open.get(start);
    if (acc === undefined) {
      acc = createAccumulation(f.kind, config);
      series.open.set(start, acc);
      state.nextDue = Math.min(state.nextDue, start + f.windowMs + config.allowedLatenessMs);
    }
    recordInto(acc, f, data, event.id);
    const end = start + f.windowMs;
    if (series.lastDataEnd === null || end > series.lastDataEnd) series.lastDataEnd = end;
    state.dirty.add(key);
  }
  return state;
}

function recordInto(
  acc: FeatureAccumulation,
  f: ResolvedFeatureConfig,
  data: unknown,
  eventId: string,
): void {
  switch (acc.kind) {
    case 'volume':
      recordVolume(acc);
      return;
    case 'numeric': {
      const v = readField(data, f.field!);
      if (v === undefined || v === null) return; // missing values are the null-rate check's business
      if (typeof v === 'number') recordNumeric(acc, v, hashUnit(eventId));
      else acc.invalid++;
      return;
    }
    case 'categorical': {
      const v = readField(data, f.field!);
      const category =
        v === undefined || v === null
          ? MISSING_CATEGORY
          : typeof v === 'string'
            ? v
            : typeof v === 'number' || typeof v === 'boolean'
              ? String(v)
              : '__invalid__';
      recordCategorical(acc, category);
      return;
    }
  }
}

/**
 * Closes every window whose end plus the allowed lateness is at or before max(now, watermark) and returns them as
 * partials (ordered by series key, then window start), plus a progress report per series whose last closed windows
 * were empty here; mutates `state`. The host passes the watermark alone while events flow, and its clock once the
 * partition has gone quiet, so a backlog is windowed by event time however fast it is read.
 */
export function closeWindows(
  state: DriftPartitionState,
  now: number,
  config: ResolvedDriftConfig,
): { state: DriftPartitionState; partials: DriftPartial[] } {
  const horizon = state.watermark === null ? now : Math.max(now, state.watermark);
  const partials: DriftPartial[] = [];
  if (!Number.isFinite(horizon) || horizon < state.nextDue) return { state, partials };
  const lateness = config.allowedLatenessMs;
  let nextDue = Infinity;
  for (const key of [...state.series.keys()].sort()) {
    const series = state.series.get(key)!;
    const w = series.windowMs;
    // The last window start with start + w + lateness <= horizon.
    const lastClosable = Math.floor((horizon - lateness - w) / w) * w;
    const starts = [...series.open.keys()].sort((a, b) => a - b);
    const from = series.closedBefore ?? starts[0];
    if (from !== undefined && from <= lastClosable) {
      const base = { ...series.id, kind: series.kind, partition: state.partition };
      let lastEnd: number | null = null;
      for (const start of starts) {
        if (start > lastClosable) break;
        const acc = series.open.get(start)!;
        series.open.delete(start);
        lastEnd = start + w;
        partials.push({
          ...base,
          windowStart: start,
          windowEnd: lastEnd,
          accumulation: accumulationToJSON(acc),
        });
      }
      const through = lastClosable + w;
      series.closedBefore = Math.max(series.closedBefore ?? through, through);
      const idleWindows =
        series.lastDataEnd === null ? Infinity : (series.closedBefore - series.lastDataEnd) / w;
      const retire = series.open.size === 0 && idleWindows >= config.retireAfterWindows;
      if (lastEnd !== through) {
        partials.push({
          ...base,
          windowStart: lastClosable,
          windowEnd: through,
          ...(retire ? { final: true } : {}),
        });
      }
      state.dirty.add(key);
      if (retire) {
        state.series.delete(key);
        continue;
      }
    }
    const next = series.closedBefore ?? starts[0];
    if (next !== undefined) nextDue = Math.min(nextDue, next + w + lateness);
  }
  state.nextDue = nextDue;
  return { state, partials };
}

/** JSON form of one series of a partition (one changelog entry each). */
export interface PartitionSeriesJSON {
  id: SeriesId;
  kind: FeatureKind;
  windowMs: number;
  closedBefore: number | null;
  lastDataEnd: number | null;
  open: Array<[number, FeatureAccumulationJSON]>;
}

/** Serialises one partition series to plain data. */
export function partitionSeriesToJSON(s: PartitionSeries): PartitionSeriesJSON {
  return {
    id: s.id,
    kind: s.kind,
    windowMs: s.windowMs,
    closedBefore: s.closedBefore,
    lastDataEnd: s.lastDataEnd,
    open: [...s.open]
      .sort((a, b) => a[0] - b[0])
      .map(([start, acc]) => [start, accumulationToJSON(acc)] as [number, FeatureAccumulationJSON]),
  };
}

/** Restores one partition series from plain data (throws DriftStateError on a bad shape). */
export function partitionSeriesFromJSON(value: unknown): PartitionSeries {
  const s = value as Partial<PartitionSeriesJSON> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    !isSeriesId(s.id) ||
    !Number.isInteger(s.windowMs) ||
    !Array.isArray(s.open)
  ) {
    throw new DriftStateError('not a serialized drift partition series', {});
  }
  const open = new Map<number, FeatureAccumulation>();
  for (const [start, acc] of s.open) open.set(start, accumulationFromJSON(acc));
  return {
    id: s.id,
    kind: s.kind!,
    windowMs: s.windowMs!,
    closedBefore: typeof s.closedBefore === 'number' ? s.closedBefore : null,
    lastDataEnd: typeof s.lastDataEnd === 'number' ? s.lastDataEnd : null,
    open,
  };
}

/** Whether a value has the shape of a SeriesId. */
export function isSeriesId(v: unknown): v is SeriesId {
  const id = v as Partial<SeriesId> | null;
  return (
    id !== null &&
    typeof id === 'object' &&
    typeof id.feature === 'string' &&
    typeof id.system === 'string' &&
    (id.connector === undefined || typeof id.connector === 'string')
  );
}

/** JSON form of the per-partition state (whole; the service's changelog stores it per series instead). */
export interface DriftPartitionStateJSON {
  partition: number;
  watermark: number | null;
  lateDropped: number;
  series: PartitionSeriesJSON[];
}

/** Serialises per-partition state to plain data. */
export function partitionStateToJSON(state: DriftPartitionState): DriftPartitionStateJSON {
  return {
    partition: state.partition,
    watermark: state.watermark,
    lateDropped: state.lateDropped,
    series: [...state.series.keys()].sort().map((k) => partitionSeriesToJSON(state.series.get(k)!)),
  };
}

/** Restores per-partition state from plain data (throws DriftStateError on a bad shape). */
export function partitionStateFromJSON(value: unknown): DriftPartitionState {
  const v = value as Partial<DriftPartitionStateJSON> | null;
  if (v === null || typeof v !== 'object' || !Array.isArray(v.series))
    throw new DriftStateError('not a serialized drift partition state', {});
  const state = createPartitionState(Number.isInteger(v.partition) ? v.partition : 0);
  state.watermark = typeof v.watermark === 'number' ? v.watermark : null;
  state.lateDropped = Number.isInteger(v.lateDropped) ? v.lateDropped! : 0;
  for (const s of v.series) {
    const series = partitionSeriesFromJSON(s);
    state.series.set(seriesKey(series.id), series);
  }
  return state;
}

/** Checks and restores a partial read from the partials topic (throws DriftStateError on a bad shape). */
export function partialFromJSON(value: unknown): DriftPartial {
  if (value === null || typeof value !== 'object')
    throw new DriftStateError('not a drift partial', {});
  const p = value as Partial<DriftPartial>;
  const problems: string[] = [];
  if (!isSeriesId(value)) problems.push('feature, system (and connector) must be strings');
  if (p.kind !== 'numeric' && p.kind !== 'categorical' && p.kind !== 'volume')
    problems.push(`unknown kind ${JSON.stringify(p.kind)}`);
  for (const k of ['partition', 'windowStart', 'windowEnd'] as const)
    if (!Number.isSafeInteger(p[k])) problems.push(`${k} must be an integer`);
  if (Number.isSafeInteger(p.windowStart) && !(p.windowEnd! > p.windowStart!))
    problems.push('windowEnd must be after windowStart');
  if (p.final !== undefined && typeof p.final !== 'boolean') problems.push('final must be boolean');
  if (problems.length > 0)
    throw new DriftStateError(`not a drift partial: ${problems.join('; ')}`, {});
  const out: DriftPartial = {
    feature: p.feature!,
    system: p.system!,
    ...(p.connector === undefined ? {} : { connector: p.connector }),
    kind: p.kind!,
    partition: p.partition!,
    windowStart: p.windowStart!,
    windowEnd: p.windowEnd!,
    ...(p.final ? { final: true } : {}),
  };
  if (p.accumulation !== undefined) {
    // The accumulation itself is checked where it is restored (the decider's accumulationFromJSON).
    if ((p.accumulation as { kind?: unknown } | null)?.kind !== p.kind)
      throw new DriftStateError(`not a drift partial: accumulation is not ${p.kind}`, {});
    out.accumulation = p.accumulation;
  }
  return out;
}
