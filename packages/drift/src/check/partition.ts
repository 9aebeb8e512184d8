// Stage 1 of the drift check, run by the partition that consumes an event: record it into the open tumbling
// event-time window of each feature it feeds, and close windows once event time (or the host's clock) has passed
// their end plus the allowed lateness. A closed window leaves as a partial accumulation, to be merged per system by
// the decider (decider.ts). Pure: state in, state out; `now` is passed by the host.
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
  windowStart: number;
  windowEnd: number;
  accumulation: FeatureAccumulationJSON;
}

interface PartitionSeries {
  id: SeriesId;
  kind: FeatureKind;
  windowMs: number;
  /** Open windows by start. */
  open: Map<number, FeatureAccumulation>;
  /** Windows ending at or before this are closed; later events for them are late. */
  closedBefore: number | null;
}

/** Per-partition drift state. */
export interface DriftPartitionState {
  /** Highest event time seen. */
  watermark: number | null;
  series: Map<string, PartitionSeries>;
  /** Events dropped because their window had already closed. */
  lateDropped: number;
}

/** Creates empty per-partition state. */
export function createPartitionState(): DriftPartitionState {
  return { watermark: null, series: new Map(), lateDropped: 0 };
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
 * Records one event into the open window of every feature it feeds; mutates and returns `state`.
 * `_now` is accepted for the (state, event, now) shape; window placement uses the event's own time.
 */
export function recordEvent(
  state: DriftPartitionState,
  event: DriftEvent,
  _now: number,
  config: ResolvedDriftConfig,
): DriftPartitionState {
  let t: number;
  try {
    t = parseTime(event.time);
  } catch {
    return state; // the envelope check reports bad times; drift has nothing to place
  }
  if (state.watermark === null || t > state.watermark) state.watermark = t;
  const data = event.data;
  const system = readField(data, 'system');
  if (typeof system !== 'string') return state;
  for (const f of config.features) {
    if (!f.eventTypes.includes(event.type)) continue;
    if (f.systems !== undefined && !f.systems.includes(system)) continue;
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
      series = { id, kind: f.kind, windowMs: f.windowMs, open: new Map(), closedBefore: null };
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
    }
    recordInto(acc, f, data, event.id);
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
 * Closes every open window whose end plus the allowed lateness is at or before max(now, watermark) and returns
 * them as partials (ordered by series key, then window start); mutates `state`.
 */
export function closeWindows(
  state: DriftPartitionState,
  now: number,
  config: ResolvedDriftConfig,
): { state: DriftPartitionState; partials: DriftPartial[] } {
  const horizon = state.watermark === null ? now : Math.max(now, state.watermark);
  const partials: DriftPartial[] = [];
  for (const key of [...state.series.keys()].sort()) {
    const series = state.series.get(key)!;
    for (const start of [...series.open.keys()].sort((a, b) => a - b)) {
      const end = start + series.windowMs;
      if (end + config.allowedLatenessMs > horizon) break;
      const acc = series.open.get(start)!;
      series.open.delete(start);
      series.closedBefore = series.closedBefore === null ? end : Math.max(series.closedBefore, end);
      partials.push({
        ...series.id,
        kind: series.kind,
        windowStart: start,
        windowEnd: end,
        accumulation: accumulationToJSON(acc),
      });
    }
  }
  return { state, partials };
}

/** JSON form of the per-partition state (for the state changelog). */
export interface DriftPartitionStateJSON {
  watermark: number | null;
  lateDropped: number;
  series: Array<{
    id: SeriesId;
    kind: FeatureKind;
    windowMs: number;
    closedBefore: number | null;
    open: Array<[number, FeatureAccumulationJSON]>;
  }>;
}

/** Serialises per-partition state to plain data. */
export function partitionStateToJSON(state: DriftPartitionState): DriftPartitionStateJSON {
  return {
    watermark: state.watermark,
    lateDropped: state.lateDropped,
    series: [...state.series.keys()].sort().map((k) => {
      const s = state.series.get(k)!;
      return {
        id: s.id,
        kind: s.kind,
        windowMs: s.windowMs,
        closedBefore: s.closedBefore,
        open: [...s.open]
          .sort((a, b) => a[0] - b[0])
          .map(
            ([start, acc]) => [start, accumulationToJSON(acc)] as [number, FeatureAccumulationJSON],
          ),
      };
    }),
  };
}

/** Restores per-partition state from plain data (throws DriftStateError on a bad shape). */
export function partitionStateFromJSON(value: unknown): DriftPartitionState {
  const v = value as Partial<DriftPartitionStateJSON> | null;
  if (v === null || typeof v !== 'object' || !Array.isArray(v.series))
    throw new DriftStateError('not a serialized drift partition state', {});
  const state = createPartitionState();
  state.watermark = typeof v.watermark === 'number' ? v.watermark : null;
  state.lateDropped = Number.isInteger(v.lateDropped) ? v.lateDropped! : 0;
  for (const s of v.series) {
    const open = new Map<number, FeatureAccumulation>();
    for (const [start, acc] of s.open) open.set(start, accumulationFromJSON(acc));
    state.series.set(seriesKey(s.id), {
      id: s.id,
      kind: s.kind,
      windowMs: s.windowMs,
      closedBefore: s.closedBefore,
      open,
    });
  }
  return state;
}
