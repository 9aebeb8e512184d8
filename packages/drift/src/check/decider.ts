// Stage 2 of the drift check, run by the instance that owns a system's key on the partials topic: merge the partial
// accumulations of a window from every partition, and once the window is due (its end + allowed lateness + decide
// delay has passed), compare it with its baseline and emit drift.numeric / drift.categorical / drift.volume findings,
// firing while the window departs and resolved at the first later window back within threshold. Pure.
// One file because merging, due-ness and the three verdicts all move the same series record and its baseline
// rules (below); its changelog JSON form is in decider-json.ts.
//
// Rolling baseline: the last N windows that did not drift. A drifted window is held aside; if drift lasts N windows
// in a row, those windows become the baseline (the change is the new normal, and the finding resolves on the next
// window like them). Pinned baseline: windows inside the named reference range are merged into the reference and get
// no verdict; later windows are compared with it. Volume keeps every decided count (median/MAD shrug off outliers).
//
// When a window is due: once its end + allowed lateness + decide delay has passed on the host's clock, decide delay
// has passed since its first partial arrived (partitions still catching up get that long to join), AND every
// partition known to feed the series has closed it (their partials and progress reports say how far each has got).
// The last two make a restart or a replay give the same verdicts as living through the stream: the clock may run far
// ahead of a backlog, event time never does. A series stalled on a partition for decideTimeoutMs (host time, counted
// from when the stall began in this process) is judged without that partition.
import { buildFinding, formatTime, type Finding } from '@tidemark/core';
import {
  accumulationFromJSON,
  compareCategorical,
  compareNumeric,
  mergeAccumulations,
  mergeAll,
  type CategoricalAccumulation,
  type FeatureAccumulation,
  type FeatureKind,
  type NumericAccumulation,
} from '../stat/accumulation.js';
import {
  robustScore,
  selectVolumeBaseline,
  WEEK_MS,
  type VolumeBaseline,
} from '../compare/volume.js';
import type { ResolvedDriftConfig, ResolvedFeatureConfig } from './config.js';
import { seriesKey, type DriftPartial, type SeriesId } from './partition.js';
import { featureFor, MAX_VOLUME_HISTORY } from './config.js';
import { fmt, judgeCategorical, judgeNumeric, psiNoiseFloor } from './verdict.js';

/** Fewest baseline counts a volume verdict needs. */
export const MIN_VOLUME_BASELINE = 3;
/** Most empty volume windows synthesised in one call after a silence (older gaps are skipped). */
export const MAX_SILENT_WINDOWS = 10_000;

/** A decided window kept for the baseline. */
export interface WindowAcc {
  start: number;
  acc: FeatureAccumulation;
}

/** One series as the decider holds it. */
export interface DeciderSeries {
  id: SeriesId;
  kind: FeatureKind;
  /** Undecided windows: start → input partition → that partition's accumulation (a resent partial replaces). */
  pending: Map<number, Map<number, FeatureAccumulation>>;
  /** Host time each undecided window's first partial arrived. */
  since: Map<number, number>;
  /** Partitions that feed the series → the window end each has closed through. */
  contributors: Map<number, number>;
  /** Host time the series began waiting for a partition; memory only, so a restart never times anyone out. */
  stalledSince: number | null;
  history: WindowAcc[];
  quarantine: WindowAcc[];
  reference: FeatureAccumulation | null;
  /** Decided volume counts by window start (for pinned volume: the reference windows). */
  volume: Map<number, number>;
  lastDecided: number | null;
  firing: boolean;
}

/** State of the decider (one instance holds the systems whose keys it owns). */
export interface DriftDeciderState {
  series: Map<string, DeciderSeries>;
  /** Partials for windows already decided; merged nowhere, counted here. */
  latePartials: number;
  /** Times a partition was judged without after decideTimeoutMs. */
  droppedContributors: number;
  /** Keys of series changed since the host last persisted them; the host clears it. */
  dirty: Set<string>;
}

/** Creates empty decider state. */
export function createDeciderState(): DriftDeciderState {
  return { series: new Map(), latePartials: 0, droppedContributors: 0, dirty: new Set() };
}

/** Creates an empty decider series. */
export function createDeciderSeries(id: SeriesId, kind: FeatureKind): DeciderSeries {
  return {
    id,
    kind,
    pending: new Map(),
    since: new Map(),
    contributors: new Map(),
    stalledSince: null,
    history: [],
    quarantine: [],
    reference: null,
    volume: new Map(),
    lastDecided: null,
    firing: false,
  };
}

/**
 * Merges one partial (or none, on a timer tick) into the pending window of its series, then decides every window of
 * every series that is due at `now`; mutates `state` and returns the findings in a deterministic order.
 */
export function mergeAndDecide(
  state: DriftDeciderState,
  partial: DriftPartial | null,
  now: number,
  config: ResolvedDriftConfig,
): { state: DriftDeciderState; findings: Finding[] } {
  if (partial !== null) mergePartial(state, partial, now, config);
  const findings: Finding[] = [];
  for (const key of [...state.series.keys()].sort()) {
    const series = state.series.get(key)!;
    const feature = featureFor(config, series.id.feature, series.id.system);
    // A feature removed from config (or changed kind): keep its state, decide nothing.
    if (feature === undefined || feature.kind !== series.kind) continue;
    const before = series.lastDecided;
    const dropped = state.droppedContributors;
    findings.push(...decideDue(state, series, feature, now, config));
    if (series.lastDecided !== before || state.droppedContributors !== dropped)
      state.dirty.add(key);
  }
  return { state, findings };
}

/**
 * The earliest host time at which `mergeAndDecide(state, null, now)` may decide a window or start a series' stall
 * clock (Infinity: never without a new partial). Windows are decided in order, so each series waits on its first
 * candidate window: its settle time, its decide delay, and a running stall's timeout. Early rather than late (the
 * silent-window clamp is ignored), so a host may skip every tick before it.
 */
export function nextDecision(state: DriftDeciderState, config: ResolvedDriftConfig): number {
  let due = Infinity;
  for (const series of state.series.values()) {
    const f = featureFor(config, series.id.feature, series.id.system);
    if (f === undefined || f.kind !== series.kind) continue;
    let first = Infinity;
    for (const start of series.pending.keys()) first = Math.min(first, start);
    if (f.kind === 'volume' && series.lastDecided !== null)
      first = Math.min(first, series.lastDecided + f.windowMs);
    if (first === Infinity) continue;
    let at = first + f.windowMs + config.allowedLatenessMs + config.decideDelayMs;
    const since = series.since.get(first);
    if (since !== undefined) at = Math.max(at, since + config.decideDelayMs);
    if (series.stalledSince !== null)
      at = Math.max(at, series.stalledSince + config.decideTimeoutMs);
    due = Math.min(due, at);
  }
  return due;
}

function mergePartial(
  state: DriftDeciderState,
  partial: DriftPartial,
  now: number,
  config: ResolvedDriftConfig,
): void {
  const feature = featureFor(config, partial.feature, partial.system);
  if (feature === undefined || feature.kind !== partial.kind) return;
  const id: SeriesId =
    partial.connector === undefined
      ? { feature: partial.feature, system: partial.system }
      : { feature: partial.feature, system: partial.system, connector: partial.connector };
  const key = seriesKey(id);
  let series = state.series.get(key);
  if (series === undefined) {
    series = createDeciderSeries(id, feature.kind);
    state.series.set(key, series);
  }
  state.dirty.add(key);
  if (partial.final) series.contributors.delete(partial.partition);
  else {
    const through = series.contributors.get(partial.partition);
    series.contributors.set(
      partial.partition,
      Math.max(through ?? partial.windowEnd, partial.windowEnd),
    );
  }
  if (partial.accumulation === undefined) return; // a progress report
  if (series.lastDecided !== null && partial.windowStart <= series.lastDecided) {
    state.latePartials++;
    return;
  }
  const acc = accumulationFromJSON(partial.accumulation);
  let parts = series.pending.get(partial.windowStart);
  if (parts === undefined) {
    parts = new Map();
    series.pending.set(partial.windowStart, parts);
    series.since.set(partial.windowStart, now);
  }
  // Keyed by partition: a partial delivered twice (a crash between producing it and persisting the partition's
  // state) replaces itself instead of counting twice.
  parts.set(partial.partition, acc);
}

function decideDue(
  state: DriftDeciderState,
  series: DeciderSeries,
  f: ResolvedFeatureConfig,
  now: number,
  config: ResolvedDriftConfig,
): Finding[] {
  const settle = f.windowMs + config.allowedLatenessMs + config.decideDelayMs;
  const starts = [...series.pending.keys()];
  if (f.kind === 'volume' && series.lastDecided !== null) {
    // Silence is the loudest volume signal: windows with no partial at all count as zero.
    const lastDue = Math.floor((now - settle) / f.windowMs) * f.windowMs;
    let from = series.lastDecided + f.windowMs;
    if ((lastDue - from) / f.windowMs > MAX_SILENT_WINDOWS)
      from = lastDue - MAX_SILENT_WINDOWS * f.windowMs;
    for (let s = from; s <= lastDue; s += f.windowMs) if (!series.pending.has(s)) starts.push(s);
  }
  starts.sort((a, b) => a - b);
  const findings: Finding[] = [];
  for (const start of starts) {
    if (start + settle > now) break; // windows are decided in order: every later one waits too
    const since = series.since.get(start);
    if (since !== undefined && since + config.decideDelayMs > now) break;
    const end = start + f.windowMs;
    const behind = [...series.contributors].filter(([, through]) => through < end);
    if (behind.length > 0) {
      series.stalledSince ??= now;
      if (series.stalledSince + config.decideTimeoutMs > now) break;
      for (const [p] of behind) series.contributors.delete(p);
      state.droppedContributors += behind.length;
    }
    series.stalledSince = null;
    const parts = series.pending.get(start);
    series.pending.delete(start);
    series.since.delete(start);
    // Merged in partition order, so the result does not depend on which partial arrived first.
    const acc =
      parts === undefined
        ? { kind: 'volume' as const, count: 0 }
        : mergeAll([...parts].sort((a, b) => a[0] - b[0]).map(([, a]) => a));
    series.lastDecided = series.lastDecided === null ? start : Math.max(series.lastDecided, start);
    const verdict =
      f.kind === 'volume'
        ? decideVolume(series, f, start, acc.count)
        : decideDistribution(series, f, start, acc);
    if (verdict === null) continue;
    if (verdict.drifted) {
      series.firing = true;
      findings.push(finding(series, f, 'firing', verdict));
    } else if (series.firing) {
      series.firing = false;
      findings.push(finding(series, f, 'resolved', verdict));
    }
  }
  return findings;
}

interface Verdict {
  drifted: boolean;
  windowStart: number;
  windowEnd: number;
  summary: string;
  evidence: Record<string, unknown>;
}

function inReference(
  f: ResolvedFeatureConfig,
  start: number,
): 'before' | 'inside' | 'after' | null {
  if (f.baseline.mode !== 'pinned') return null;
  const { from, to } = f.baseline.reference;
  if (start < from) return 'before';
  if (start + f.windowMs <= to) return 'inside';
  return start >= to ? 'after' : 'before'; // a window straddling `to` is neither reference nor judged
}

function baselineEvidence(
  f: ResolvedFeatureConfig,
  starts: readonly number[],
  count: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { mode: f.baseline.mode, windows: starts.length, count };
  if (f.baseline.mode === 'pinned') {
    out.reference = f.baseline.reference.name;
    out.start = formatTime(f.baseline.reference.from);
    out.end = formatTime(f.baseline.reference.to);
  } else if (starts.length > 0) {
    out.start = formatTime(Math.min(...starts));
    out.end = formatTime(Math.max(...starts) + f.windowMs);
  }
  return out;
}

function decideDistribution(
  series: DeciderSeries,
  f: ResolvedFeatureConfig,
  start: number,
  acc: FeatureAccumulation,
): Verdict | null {
  const ref = inReference(f, start);
  if (ref === 'inside') {
    series.reference = series.reference === null ? acc : mergeAccumulations(series.reference, acc);
    return null;
  }
  if (ref === 'before') return null;
  const rolling = f.baseline.mode === 'rolling' ? f.baseline.windows : 0;
  const baselineWindows = rolling > 0 ? series.history : [];
  const baseline =
    rolling > 0
      ? baselineWindows.length > 0
        ? mergeAll(baselineWindows.map((w) => w.acc))
        : null
      : series.reference;
  const remember = (drifted: boolean): void => {
    if (rolling === 0 || acc.count === 0) return;
    if (drifted) {
      series.quarantine.push({ start, acc });
      if (series.quarantine.length >= rolling) {
        series.history = series.quarantine.slice(-rolling);
        series.quarantine = [];
      }
    } else {
      series.history.push({ start, acc });
      if (series.history.length > rolling)
        series.history.splice(0, series.history.length - rolling);
      series.quarantine = [];
    }
  };
  if (acc.count < f.minSamples) return null; // too few values to judge, or to trust as baseline
  if (baseline === null || baseline.count < f.minSamples) {
    remember(false); // baseline still filling up: the window joins it unjudged
    return null;
  }
  const end = start + f.windowMs;
  const window = { start: formatTime(start), end: formatTime(end), count: acc.count };
  const base = baselineEvidence(
    f,
    baselineWindows.map((w) => w.start),
    baseline.count,
  );
  const where = `${f.name} on ${series.id.system}${series.id.connector ? `/${series.id.connector}` : ''}`;
  // Numeric and categorical verdicts open alike: remembered for the baseline, then the same summary.
  const judged = (v: { drifted: boolean; parts: readonly string[] }) => {
    remember(v.drifted);
    return {
      drifted: v.drifted,
      windowStart: start,
      windowEnd: end,
      summary: `${where} ${v.drifted ? 'departs from' : 'is back within'} its baseline (${v.parts.join('; ')}), window ${window.start}–${window.end}`,
    };
  };
  const t = f.thresholds;
  if (acc.kind === 'numeric') {
    const r = compareNumeric(baseline as NumericAccumulation, acc, { bins: f.bins })!;
    const v = judgeNumeric(r, t);
    const topBins = [...r.psi.bins]
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
      .slice(0, 5)
      .map((b) => ({
        lower: b.lower,
        upper: b.upper,
        baseline: round(b.baseline),
        window: round(b.window),
        contribution: round(b.contribution),
      }));
    return {
      ...judged(v),
      evidence: {
        field: f.field,
        statistic: {
          psi: r.psi.psi,
          psiNoiseFloor: round(psiNoiseFloor(r.psi.binCount, acc.count, baseline.count)),
          pValue: v.pValue,
          ksStatistic: r.ks.statistic,
          ksPValue: r.ks.pValue,
          ksMethod: r.ks.method,
          ksSampleSizes: [r.ks.n1, r.ks.n2],
          moodStatistic: r.mood.statistic,
          moodPValue: r.mood.pValue,
        },
        threshold: { psi: t.psi, ksPValue: v.alpha },
        verdict: { large: v.large, significant: v.significant },
        window: { ...window, invalid: (acc as NumericAccumulation).invalid },
        baseline: base,
        bins: { requested: r.psi.requestedBins, used: r.psi.binCount },
        topBins,
      },
    };
  }
  const r = compareCategorical(
    baseline as CategoricalAccumulation,
    acc as CategoricalAccumulation,
    { topK: f.topK },
  );
  if (r === null) {
    remember(false);
    return null;
  }
  const v = judgeCategorical(r, t);
  return {
    ...judged(v),
    evidence: {
      field: f.field,
      statistic: {
        chiSquare: r.homogeneity.statistic,
        chiSquarePValue: r.homogeneity.pValue,
        df: r.homogeneity.df,
        goodnessOfFit: r.chiSquare.statistic,
        goodnessOfFitPValue: r.chiSquare.pValue,
        jsDistance: r.jsDistance,
      },
      verdict: { large: v.large, significant: v.significant },
      threshold: { chiSquarePValue: v.alpha, jsDistance: t.jsDistance },
      window,
      baseline: base,
      topCategories: r.shifts.slice(0, 5).map((s) => ({
        category: s.category,
        baseline: round(s.baseline),
        window: round(s.window),
        delta: round(s.delta),
      })),
    },
  };
}

function decideVolume(
  series: DeciderSeries,
  f: ResolvedFeatureConfig,
  start: number,
  count: number,
): Verdict | null {
  const ref = inReference(f, start);
  if (ref === 'inside') {
    series.volume.set(start, count);
    return null;
  }
  if (ref === 'before') return null;
  let baseline: VolumeBaseline;
  if (f.baseline.mode === 'pinned') {
    const all = [...series.volume.keys()].sort((a, b) => a - b);
    const sameSlot = all.filter((s) => (((start - s) % WEEK_MS) + WEEK_MS) % WEEK_MS === 0);
    const starts = sameSlot.length >= f.minSeasons ? sameSlot : all;
    baseline = {
      method: starts === sameSlot ? 'seasonal' : 'rolling',
      starts,
      counts: starts.map((s) => series.volume.get(s)!),
      residuals: [],
    };
  } else {
    baseline = selectVolumeBaseline(series.volume, start, {
      windowMs: f.windowMs,
      rollingWindows: f.baseline.windows,
      seasonalWeeks: f.seasonalWeeks,
      minSeasons: f.minSeasons,
    });
    series.volume.set(start, count);
    // Seasonal residuals look seasonalWeeks back from each of the last N windows.
    const keep = f.seasonalWeeks * WEEK_MS + f.baseline.windows * f.windowMs;
    for (const s of series.volume.keys()) if (s <= start - keep) series.volume.delete(s);
    if (series.volume.size > MAX_VOLUME_HISTORY) {
      const drop = [...series.volume.keys()]
        .sort((a, b) => a - b)
        .slice(0, series.volume.size - MAX_VOLUME_HISTORY);
      for (const s of drop) series.volume.delete(s);
    }
  }
  if (baseline.counts.length < MIN_VOLUME_BASELINE) return null;
  const score = robustScore(count, baseline.counts, baseline.residuals);
  if (score.median < f.minSamples) return null;
  const thr = f.thresholds.volumeScore!;
  const drifted =
    f.direction === 'drop'
      ? score.score < -thr
      : f.direction === 'rise'
        ? score.score > thr
        : Math.abs(score.score) > thr;
  const end = start + f.windowMs;
  const where = `event volume of ${series.id.system}${series.id.connector ? `/${series.id.connector}` : ''} (${f.name})`;
  const change =
    score.median > 0 ? ` (${fmt(((count - score.median) / score.median) * 100)} %)` : '';
  return {
    drifted,
    windowStart: start,
    windowEnd: end,
    summary: `${where} ${drifted ? 'departs from' : 'is back within'} its ${baseline.method} baseline: ${count} events vs median ${score.median}${change}, robust score ${fmt(score.score)} (threshold ${thr}), window ${formatTime(start)}–${formatTime(end)}`,
    evidence: {
      statistic: {
        score: score.score,
        count,
        median: score.median,
        mad: score.mad,
        scale: score.scale,
        scaleMethod: score.scaleMethod,
        ...(baseline.residuals.length > 0 ? { residuals: baseline.residuals.length } : {}),
      },
      threshold: { volumeScore: thr, direction: f.direction },
      window: { start: formatTime(start), end: formatTime(end), count },
      baseline: {
        ...baselineEvidence(
          f,
          baseline.starts,
          baseline.counts.reduce((a, b) => a + b, 0),
        ),
        method: baseline.method,
        counts: baseline.counts.slice(-20),
      },
    },
  };
}

function finding(
  series: DeciderSeries,
  f: ResolvedFeatureConfig,
  status: 'firing' | 'resolved',
  v: Verdict,
): Finding {
  const subject: Finding['subject'] = { system: series.id.system, feature: f.name };
  if (f.field !== undefined) subject.field = f.field;
  if (series.id.connector !== undefined) subject.connector = series.id.connector;
  return buildFinding({
    check: `drift.${f.kind}`,
    status,
    severity: status === 'resolved' ? 'info' : f.severity,
    subject,
    owner: f.owner,
    summary: v.summary,
    evidence: v.evidence,
    observedAt: formatTime(v.windowEnd),
    ...(f.contract ? { contract: f.contract } : {}),
    ...(f.shadow ? { shadow: true } : {}),
    ...(Object.keys(f.labels).length > 0 ? { labels: { ...f.labels } } : {}),
  });
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
