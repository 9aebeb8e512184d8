// The drift decider's state as JSON for its changelog, and back, refusing what it cannot read (DriftStateError).
import {
  accumulationFromJSON,
  accumulationToJSON,
  type FeatureAccumulationJSON,
  type FeatureKind,
} from '../stat/accumulation.js';
import { DriftStateError } from '../errors.js';
import {
  createDeciderSeries,
  createDeciderState,
  type DeciderSeries,
  type DriftDeciderState,
  type WindowAcc,
} from './decider.js';
import { isSeriesId, seriesKey, type SeriesId } from './partition.js';

type WindowsJSON = Array<[number, FeatureAccumulationJSON]>;

/** JSON form of one decider series. */
export interface DeciderSeriesJSON {
  id: SeriesId;
  kind: FeatureKind;
  /** [window start, input partition, accumulation]. */
  pending: Array<[number, number, FeatureAccumulationJSON]>;
  /** [window start, host time its first partial arrived]. */
  since: Array<[number, number]>;
  contributors: Array<[number, number]>;
  history: WindowsJSON;
  quarantine: WindowsJSON;
  reference: FeatureAccumulationJSON | null;
  volume: Array<[number, number]>;
  lastDecided: number | null;
  firing: boolean;
}

/** Serialises one decider series to plain data. */
export function deciderSeriesToJSON(s: DeciderSeries): DeciderSeriesJSON {
  const windows = (list: readonly WindowAcc[]): WindowsJSON =>
    list.map((w) => [w.start, accumulationToJSON(w.acc)]);
  const pending: DeciderSeriesJSON['pending'] = [];
  for (const start of [...s.pending.keys()].sort((a, b) => a - b)) {
    const parts = s.pending.get(start)!;
    for (const p of [...parts.keys()].sort((a, b) => a - b))
      pending.push([start, p, accumulationToJSON(parts.get(p)!)]);
  }
  return {
    id: s.id,
    kind: s.kind,
    pending,
    since: [...s.since].sort((a, b) => a[0] - b[0]),
    contributors: [...s.contributors].sort((a, b) => a[0] - b[0]),
    history: windows(s.history),
    quarantine: windows(s.quarantine),
    reference: s.reference === null ? null : accumulationToJSON(s.reference),
    volume: [...s.volume].sort((a, b) => a[0] - b[0]),
    lastDecided: s.lastDecided,
    firing: s.firing,
  };
}

/** Restores one decider series from plain data (throws DriftStateError on a bad shape). */
export function deciderSeriesFromJSON(value: unknown): DeciderSeries {
  const s = value as Partial<DeciderSeriesJSON> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    !isSeriesId(s.id) ||
    !Array.isArray(s.pending) ||
    !Array.isArray(s.history) ||
    !Array.isArray(s.quarantine) ||
    !Array.isArray(s.volume) ||
    !Array.isArray(s.contributors)
  ) {
    throw new DriftStateError('not a serialized drift decider series', {});
  }
  const series = createDeciderSeries(s.id, s.kind!);
  for (const [start, p, acc] of s.pending) {
    let parts = series.pending.get(start);
    if (parts === undefined) series.pending.set(start, (parts = new Map()));
    parts.set(p, accumulationFromJSON(acc));
  }
  series.since = new Map(Array.isArray(s.since) ? s.since : []);
  series.contributors = new Map(s.contributors);
  series.history = s.history.map(([start, a]) => ({ start, acc: accumulationFromJSON(a) }));
  series.quarantine = s.quarantine.map(([start, a]) => ({ start, acc: accumulationFromJSON(a) }));
  series.reference = s.reference == null ? null : accumulationFromJSON(s.reference);
  series.volume = new Map(s.volume);
  series.lastDecided = typeof s.lastDecided === 'number' ? s.lastDecided : null;
  series.firing = s.firing === true;
  return series;
}

/** JSON form of the decider state (whole; the service's changelog stores it per series and window instead). */
export interface DriftDeciderStateJSON {
  latePartials: number;
  droppedContributors: number;
  series: DeciderSeriesJSON[];
}

/** Serialises decider state to plain data. */
export function deciderStateToJSON(state: DriftDeciderState): DriftDeciderStateJSON {
  return {
    latePartials: state.latePartials,
    droppedContributors: state.droppedContributors,
    series: [...state.series.keys()].sort().map((k) => deciderSeriesToJSON(state.series.get(k)!)),
  };
}

/** Restores decider state from plain data (throws DriftStateError on a bad shape). */
export function deciderStateFromJSON(value: unknown): DriftDeciderState {
  const v = value as Partial<DriftDeciderStateJSON> | null;
  if (v === null || typeof v !== 'object' || !Array.isArray(v.series))
    throw new DriftStateError('not a serialized drift decider state', {});
  const state = createDeciderState();
  state.latePartials = Number.isInteger(v.latePartials) ? v.latePartials! : 0;
  state.droppedContributors = Number.isInteger(v.droppedContributors) ? v.droppedContributors! : 0;
  for (const s of v.series) {
    const series = deciderSeriesFromJSON(s);
    state.series.set(seriesKey(series.id), series);
  }
  return state;
}
