// Stage 2 of the drift check, run by the instance that owns a system's key on the partials topic: merge the partial
// accumulations of a window from every partition, and once the window is due (its end + allowed lateness + decide
// delay has passed), compare it with its baseline and emit drift.numeric / drift.categorical / drift.volume findings,
// firing while the window departs and resolved at the first later window back within threshold. Pure.
//
// Rolling baseline: the last N windows that did not drift. A drifted window is held aside; if drift lasts N windows
// in a row, those windows become the baseline (the change is the new normal, and the finding resolves on the next
// window like them). Pinned baseline: windows inside the named reference range are merged into the reference and get
// no verdict; later windows are compared with it. Volume keeps every decided count (median/MAD shrug off outliers).
import { buildFinding, formatTime, type Finding } from '@tidemark/core';
import {
  accumulationFromJSON,
  accumulationToJSON,
  compareCategorical,
  compareNumeric,
  mergeAccumulations,
  mergeAll,
  type CategoricalAccumulation,
  type FeatureAccumulation,
  type FeatureAccumulationJSON,
  type FeatureKind,
  type NumericAccumulation,
} from '../stat/accumulation.js';
import {
  robustScore,
  selectVolumeBaseline,
  WEEK_MS,
  type VolumeBaseline,
} from '../compare/volume.js';
import { DriftStateError } from '../errors.js';
import { chiSquareSf } from '../compare/special.js';
import type { ResolvedDriftConfig, ResolvedFeatureConfig } from './config.js';
import { seriesKey, type DriftPartial, type SeriesId } from './partition.js';
import { MAX_VOLUME_HISTORY } from './config.js';

/** Fewest baseline counts a volume verdict needs. */
export const MIN_VOLUME_BASELINE = 3;
/** Most empty volume windows synthesised in one call after a silence (older gaps are skipped). */
export const MAX_SILENT_WINDOWS = 10_000;

interface WindowAcc {
  start: number;
  acc: FeatureAccumulation;
}

interface DeciderSeries {
  id: SeriesId;
  kind: FeatureKind;
  pending: Map<number, FeatureAccumulation>;
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
}

/** Creates empty decider state. */
export function createDeciderState(): DriftDeciderState {
  return { series: new Map(), latePartials: 0 };
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
  if (partial !== null) mergePartial(state, partial, config);
  const findings: Finding[] = [];
  for (const key of [...state.series.keys()].sort()) {
    const series = state.series.get(key)!;
    const feature = config.features.find((f) => f.name === series.id.feature);
    if (feature === undefined) continue; // feature removed from config: keep state, decide nothing
    findings.push(...decideDue(series, feature, now, config));
  }
  return { state, findings };
}

function mergePartial(
  state: DriftDeciderState,
  partial: DriftPartial,
  config: ResolvedDriftConfig,
): void {
  const feature = config.features.find((f) => f.name === partial.feature);
  if (feature === undefined || feature.kind !== partial.kind) return;
  const id: SeriesId =
    partial.connector === undefined
      ? { feature: partial.feature, system: partial.system }
      : { feature: partial.feature, system: partial.system, connector: partial.connector };
  const key = seriesKey(id);
  let series = state.series.get(key);
  if (series === undefined) {
    series = {
      id,
      kind: feature.kind,
      pending: new Map(),
      history: [],
      quarantine: [],
      reference: null,
      volume: new Map(),
      lastDecided: null,
      firing: false,
    };
    state.series.set(key, series);
  }
  if (series.lastDecided !== null && partial.windowStart <= series.lastDecided) {
    state.latePartials++;
    return;
  }
  const acc = accumulationFromJSON(partial.accumulation);
  const current = series.pending.get(partial.windowStart);
  series.pending.set(
    partial.windowStart,
    current === undefined ? acc : mergeAccumulations(current, acc),
  );
}

function decideDue(
  series: DeciderSeries,
  f: ResolvedFeatureConfig,
  now: number,
  config: ResolvedDriftConfig,
): Finding[] {
  const wait = f.windowMs + config.allowedLatenessMs + config.decideDelayMs;
  const due = [...series.pending.keys()].filter((s) => s + wait <= now).sort((a, b) => a - b);
  if (f.kind === 'volume' && series.lastDecided !== null) {
    // Silence is the loudest volume signal: windows with no partial at all count as zero.
    const lastDue = Math.floor((now - wait) / f.windowMs) * f.windowMs;
    let from = series.lastDecided + f.windowMs;
    if ((lastDue - from) / f.windowMs > MAX_SILENT_WINDOWS)
      from = lastDue - MAX_SILENT_WINDOWS * f.windowMs;
    const have = new Set(due);
    for (let s = from; s <= lastDue; s += f.windowMs) if (!have.has(s)) due.push(s);
    due.sort((a, b) => a - b);
  }
  const findings: Finding[] = [];
  for (const start of due) {
    const acc = series.pending.get(start) ?? { kind: 'volume' as const, count: 0 };
    series.pending.delete(start);
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
  const t = f.thresholds;
  if (acc.kind === 'numeric') {
    const r = compareNumeric(baseline as NumericAccumulation, acc, { bins: f.bins })!;
    const psiHit = t.psi !== undefined && r.psi.psi > t.psi;
    const ksHit = t.ksPValue !== undefined && r.ks.pValue < t.ksPValue;
    const drifted = psiHit || ksHit;
    remember(drifted);
    const parts: string[] = [];
    if (t.psi !== undefined) parts.push(`PSI ${fmt(r.psi.psi)} ${psiHit ? '>' : '≤'} ${t.psi}`);
    if (t.ksPValue !== undefined)
      parts.push(`KS p ${fmt(r.ks.pValue)} ${ksHit ? '<' : '≥'} ${t.ksPValue}`);
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
      drifted,
      windowStart: start,
      windowEnd: end,
      summary: `${where} ${drifted ? 'departs from' : 'is back within'} its baseline (${parts.join('; ')}), window ${window.start}–${window.end}`,
      evidence: {
        field: f.field,
        statistic: {
          psi: r.psi.psi,
          ksStatistic: r.ks.statistic,
          ksPValue: r.ks.pValue,
          ksMethod: r.ks.method,
          ksSampleSizes: [r.ks.n1, r.ks.n2],
        },
        threshold: { psi: t.psi, ksPValue: t.ksPValue },
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
  // The expected shares are themselves estimated from the baseline, which widens the null distribution of X² by
  // (1 + n_window/n_baseline); dividing by that factor keeps the false-alarm rate at the configured p-value (it is
  // the large-sample equivalent of the chi-square test of homogeneity). evidence keeps scipy's uncorrected value too.
  const varianceFactor = 1 + r.windowCount / r.baselineCount;
  const pValue = chiSquareSf(r.chiSquare.statistic / varianceFactor, r.chiSquare.df);
  const chiHit = t.chiSquarePValue !== undefined && pValue < t.chiSquarePValue;
  const jsHit = t.jsDistance !== undefined && r.jsDistance > t.jsDistance;
  const drifted = chiHit || jsHit;
  remember(drifted);
  const parts: string[] = [];
  if (t.chiSquarePValue !== undefined)
    parts.push(`chi-square p ${fmt(pValue)} ${chiHit ? '<' : '≥'} ${t.chiSquarePValue}`);
  if (t.jsDistance !== undefined)
    parts.push(`JS distance ${fmt(r.jsDistance)} ${jsHit ? '>' : '≤'} ${t.jsDistance}`);
  return {
    drifted,
    windowStart: start,
    windowEnd: end,
    summary: `${where} ${drifted ? 'departs from' : 'is back within'} its baseline (${parts.join('; ')}), window ${window.start}–${window.end}`,
    evidence: {
      field: f.field,
      statistic: {
        chiSquare: r.chiSquare.statistic,
        chiSquarePValue: pValue,
        uncorrectedPValue: r.chiSquare.pValue,
        varianceFactor,
        df: r.chiSquare.df,
        jsDistance: r.jsDistance,
      },
      threshold: { chiSquarePValue: t.chiSquarePValue, jsDistance: t.jsDistance },
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
    };
  } else {
    baseline = selectVolumeBaseline(series.volume, start, {
      windowMs: f.windowMs,
      rollingWindows: f.baseline.windows,
      seasonalWeeks: f.seasonalWeeks,
      minSeasons: f.minSeasons,
    });
    series.volume.set(start, count);
    const keep = Math.max(f.seasonalWeeks * WEEK_MS, f.baseline.windows * f.windowMs);
    for (const s of series.volume.keys()) if (s <= start - keep) series.volume.delete(s);
    if (series.volume.size > MAX_VOLUME_HISTORY) {
      const drop = [...series.volume.keys()]
        .sort((a, b) => a - b)
        .slice(0, series.volume.size - MAX_VOLUME_HISTORY);
      for (const s of drop) series.volume.delete(s);
    }
  }
  if (baseline.counts.length < MIN_VOLUME_BASELINE) return null;
  const score = robustScore(count, baseline.counts);
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
  });
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 0.001 && a < 1e6 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}

/** JSON form of the decider state (for the state changelog). */
export interface DriftDeciderStateJSON {
  latePartials: number;
  series: Array<{
    id: SeriesId;
    kind: FeatureKind;
    pending: Array<[number, FeatureAccumulationJSON]>;
    history: Array<[number, FeatureAccumulationJSON]>;
    quarantine: Array<[number, FeatureAccumulationJSON]>;
    reference: FeatureAccumulationJSON | null;
    volume: Array<[number, number]>;
    lastDecided: number | null;
    firing: boolean;
  }>;
}

/** Serialises decider state to plain data. */
export function deciderStateToJSON(state: DriftDeciderState): DriftDeciderStateJSON {
  const windows = (
    list: Iterable<[number, FeatureAccumulation]>,
  ): Array<[number, FeatureAccumulationJSON]> =>
    [...list].map(([s, a]) => [s, accumulationToJSON(a)]);
  return {
    latePartials: state.latePartials,
    series: [...state.series.keys()].sort().map((k) => {
      const s = state.series.get(k)!;
      return {
        id: s.id,
        kind: s.kind,
        pending: windows([...s.pending].sort((a, b) => a[0] - b[0])),
        history: windows(s.history.map((w) => [w.start, w.acc])),
        quarantine: windows(s.quarantine.map((w) => [w.start, w.acc])),
        reference: s.reference === null ? null : accumulationToJSON(s.reference),
        volume: [...s.volume].sort((a, b) => a[0] - b[0]),
        lastDecided: s.lastDecided,
        firing: s.firing,
      };
    }),
  };
}

/** Restores decider state from plain data (throws DriftStateError on a bad shape). */
export function deciderStateFromJSON(value: unknown): DriftDeciderState {
  const v = value as Partial<DriftDeciderStateJSON> | null;
  if (v === null || typeof v !== 'object' || !Array.isArray(v.series))
    throw new DriftStateError('not a serialized drift decider state', {});
  const state = createDeciderState();
  state.latePartials = Number.isInteger(v.latePartials) ? v.latePartials! : 0;
  for (const s of v.series) {
    state.series.set(seriesKey(s.id), {
      id: s.id,
      kind: s.kind,
      pending: new Map(s.pending.map(([k, a]) => [k, accumulationFromJSON(a)])),
      history: s.history.map(([start, a]) => ({ start, acc: accumulationFromJSON(a) })),
      quarantine: s.quarantine.map(([start, a]) => ({ start, acc: accumulationFromJSON(a) })),
      reference: s.reference === null ? null : accumulationFromJSON(s.reference),
      volume: new Map(s.volume),
      lastDecided: s.lastDecided,
      firing: s.firing,
    });
  }
  return state;
}
