// The drift-detector's PartitionState: one partition's stage-1 windows and the decider state of the systems whose
// partials land on the same partition number, persisted to the changelog per series and per window rather than as
// one document, so a change writes only what changed and a restore reads each window once.
//
// Changelog keys (values are JSON; <series> is seriesKey(), a JSON array, so the last "]" ends it):
//   meta                          watermark and counters
//   p|<series>                    a partition series (its open windows; rewritten when it takes events)
//   d|<series>                    a decider series' head (contributors, which windows form the baseline, firing…)
//   w|<series>|<start>            a decided window kept for the baseline (written once, deleted when it leaves)
//   q|<series>|<start>|<part>     one partition's partial of an undecided window (written once, deleted when decided)
//   r|<series>                    a pinned reference accumulation
//   v|<series>|<start>            a decided volume count (written once)
import type { PartitionState, StateChange } from '@tidemark/core';
import {
  accumulationFromJSON,
  accumulationToJSON,
  type FeatureAccumulation,
  type FeatureAccumulationJSON,
  type FeatureKind,
} from '../stat/accumulation.js';
import { DriftStateError } from '../errors.js';
import {
  createDeciderSeries,
  createDeciderState,
  type DeciderSeries,
  type DriftDeciderState,
} from '../check/decider.js';
import {
  createPartitionState,
  isSeriesId,
  partitionSeriesFromJSON,
  partitionSeriesToJSON,
  type DriftPartitionState,
  type SeriesId,
} from '../check/partition.js';

interface MetaJSON {
  watermark: number | null;
  lateDropped: number;
  latePartials: number;
  droppedContributors: number;
}

interface DeciderHeadJSON {
  id: SeriesId;
  kind: FeatureKind;
  contributors: Array<[number, number]>;
  since: Array<[number, number]>;
  history: number[];
  quarantine: number[];
  lastDecided: number | null;
  firing: boolean;
}

/** Entries parsed during restore, assembled into the two states on first use (entries come in any order). */
interface Restored {
  meta: MetaJSON | undefined;
  partition: Map<string, unknown>;
  heads: Map<string, DeciderHeadJSON>;
  windows: Map<string, Map<number, FeatureAccumulation>>;
  pending: Map<string, Map<string, [number, number, FeatureAccumulation]>>;
  references: Map<string, FeatureAccumulation>;
  volume: Map<string, Map<number, number>>;
}

const HEAD = Symbol('head');

/** The drift-detector's per-partition state, persisted per series and window. */
export class DriftServiceState implements PartitionState {
  readonly partition: number;
  /**
   * Host time of the last input event handled; drives the idle rule (a quiet partition closes windows by the
   * clock). Memory only: after a restore the idle clock starts again, so a restart never closes a backlog early.
   */
  lastActivity: number | null = null;
  #stage: DriftPartitionState;
  #decider: DriftDeciderState = createDeciderState();
  #restored: Restored | null = null;
  /** Decider series key → changelog key → what was last written there (object identity, or the count). */
  readonly #persisted = new Map<string, Map<string, unknown>>();
  readonly #persistedStage = new Set<string>();
  #meta: string | null = null;

  constructor(partition: number) {
    this.partition = partition;
    this.#stage = createPartitionState(partition);
  }

  /** Stage 1: this partition's open windows. */
  get stage(): DriftPartitionState {
    this.#assemble();
    return this.#stage;
  }

  /** Stage 2: the decider state of the systems whose partials come in on this partition. */
  get decider(): DriftDeciderState {
    this.#assemble();
    return this.#decider;
  }

  restore(key: string, value: Buffer | null): void {
    const r = (this.#restored ??= {
      meta: undefined,
      partition: new Map(),
      heads: new Map(),
      windows: new Map(),
      pending: new Map(),
      references: new Map(),
      volume: new Map(),
    });
    if (key === 'meta') {
      r.meta = value === null ? undefined : (parse(key, value) as MetaJSON);
      return;
    }
    const { kind, series, rest } = splitKey(key);
    const json = value === null ? undefined : parse(key, value);
    const inner = <V>(m: Map<string, Map<number, V>>): Map<number, V> => {
      let got = m.get(series);
      if (got === undefined) m.set(series, (got = new Map()));
      return got;
    };
    switch (kind) {
      case 'p':
        if (json === undefined) r.partition.delete(series);
        else r.partition.set(series, json);
        return;
      case 'd':
        if (json === undefined) r.heads.delete(series);
        else if (!isSeriesId((json as DeciderHeadJSON).id))
          throw new DriftStateError(`changelog entry ${key} is not a decider series head`, { key });
        else r.heads.set(series, json as DeciderHeadJSON);
        return;
      case 'w':
        if (json === undefined) inner(r.windows).delete(Number(rest[0]));
        else inner(r.windows).set(Number(rest[0]), accumulationFromJSON(json));
        return;
      case 'q': {
        let parts = r.pending.get(series);
        if (parts === undefined) r.pending.set(series, (parts = new Map()));
        const at = `${rest[0]}|${rest[1]}`;
        if (json === undefined) parts.delete(at);
        else parts.set(at, [Number(rest[0]), Number(rest[1]), accumulationFromJSON(json)]);
        return;
      }
      case 'r':
        if (json === undefined) r.references.delete(series);
        else r.references.set(series, accumulationFromJSON(json));
        return;
      case 'v':
        if (json === undefined) inner(r.volume).delete(Number(rest[0]));
        else if (typeof json !== 'number')
          throw new DriftStateError(`changelog entry ${key} is not a count`, { key });
        else inner(r.volume).set(Number(rest[0]), json);
        return;
      default:
        throw new DriftStateError(`unknown drift changelog key ${JSON.stringify(key)}`, { key });
    }
  }

  drainChanges(): StateChange[] {
    this.#assemble();
    const changes: StateChange[] = [];
    const put = (key: string, value: unknown) =>
      changes.push({ key, value: Buffer.from(JSON.stringify(value)) });
    const stage = this.#stage;
    const decider = this.#decider;
    const meta = JSON.stringify({
      watermark: stage.watermark,
      lateDropped: stage.lateDropped,
      latePartials: decider.latePartials,
      droppedContributors: decider.droppedContributors,
    } satisfies MetaJSON);
    if (meta !== this.#meta) {
      changes.push({ key: 'meta', value: Buffer.from(meta) });
      this.#meta = meta;
    }
    for (const key of [...stage.dirty].sort()) {
      const series = stage.series.get(key);
      if (series !== undefined) {
        put(`p|${key}`, partitionSeriesToJSON(series));
        this.#persistedStage.add(key);
      } else if (this.#persistedStage.delete(key)) {
        changes.push({ key: `p|${key}`, value: null });
      }
    }
    stage.dirty.clear();
    for (const key of [...decider.dirty].sort()) {
      const series = decider.series.get(key);
      const before = this.#persisted.get(key) ?? new Map<string, unknown>();
      const now = series === undefined ? new Map<string, unknown>() : desiredEntries(key, series);
      for (const [k, ident] of now) {
        if (ident !== HEAD && before.get(k) === ident) continue;
        put(k, valueOf(ident, series!));
      }
      for (const k of before.keys()) if (!now.has(k)) changes.push({ key: k, value: null });
      if (now.size > 0) this.#persisted.set(key, now);
      else this.#persisted.delete(key);
    }
    decider.dirty.clear();
    return changes;
  }

  size(): number {
    this.#assemble();
    let n = (this.#meta === null ? 0 : 1) + this.#persistedStage.size;
    for (const m of this.#persisted.values()) n += m.size;
    return n;
  }

  #assemble(): void {
    const r = this.#restored;
    if (r === null) return;
    this.#restored = null;
    const stage = createPartitionState(this.partition);
    const decider = createDeciderState();
    if (r.meta !== undefined) {
      stage.watermark = typeof r.meta.watermark === 'number' ? r.meta.watermark : null;
      stage.lateDropped = r.meta.lateDropped ?? 0;
      decider.latePartials = r.meta.latePartials ?? 0;
      decider.droppedContributors = r.meta.droppedContributors ?? 0;
      this.#meta = JSON.stringify({
        watermark: stage.watermark,
        lateDropped: stage.lateDropped,
        latePartials: decider.latePartials,
        droppedContributors: decider.droppedContributors,
      } satisfies MetaJSON);
    }
    for (const [key, json] of r.partition) {
      stage.series.set(key, partitionSeriesFromJSON(json));
      this.#persistedStage.add(key);
    }
    const keys = new Set([
      ...r.heads.keys(),
      ...r.windows.keys(),
      ...r.pending.keys(),
      ...r.references.keys(),
      ...r.volume.keys(),
    ]);
    const orphans: string[] = [];
    for (const key of keys) {
      const head = r.heads.get(key);
      const windows = r.windows.get(key) ?? new Map<number, FeatureAccumulation>();
      if (head === undefined) {
        // Window entries whose head is gone (a crash between writes cannot cause this: heads are never deleted);
        // drop them from the changelog rather than keep unreadable state.
        orphans.push(key);
        continue;
      }
      const series: DeciderSeries = createDeciderSeries(head.id, head.kind);
      series.contributors = new Map(head.contributors);
      series.since = new Map(head.since);
      const pick = (starts: readonly number[]) =>
        starts.flatMap((start) => {
          const acc = windows.get(start);
          return acc === undefined ? [] : [{ start, acc }];
        });
      series.history = pick(head.history);
      series.quarantine = pick(head.quarantine);
      series.lastDecided = head.lastDecided;
      series.firing = head.firing;
      series.reference = r.references.get(key) ?? null;
      series.volume = new Map(
        [...(r.volume.get(key) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0]),
      );
      for (const [start, p, acc] of r.pending.get(key)?.values() ?? []) {
        let parts = series.pending.get(start);
        if (parts === undefined) series.pending.set(start, (parts = new Map()));
        parts.set(p, acc);
      }
      decider.series.set(key, series);
      this.#persisted.set(key, desiredEntries(key, series));
      // Baseline windows no longer listed by the head (written, then the head moved on before a crash) are removed.
      const listed = new Set([...head.history, ...head.quarantine]);
      const stale = [...windows.keys()].filter((s) => !listed.has(s));
      if (stale.length > 0) {
        const m = this.#persisted.get(key)!;
        for (const s of stale) m.set(`w|${key}|${s}`, null);
        decider.dirty.add(key);
      }
    }
    for (const key of orphans) {
      const m = new Map<string, unknown>();
      for (const s of r.windows.get(key)?.keys() ?? []) m.set(`w|${key}|${s}`, null);
      for (const at of r.pending.get(key)?.keys() ?? []) m.set(`q|${key}|${at}`, null);
      if (r.references.has(key)) m.set(`r|${key}`, null);
      for (const s of r.volume.get(key)?.keys() ?? []) m.set(`v|${key}|${s}`, null);
      this.#persisted.set(key, m);
      decider.dirty.add(key);
    }
    this.#stage = stage;
    this.#decider = decider;
  }
}

/** Every changelog entry a decider series consists of, with what identifies its current content. */
function desiredEntries(key: string, s: DeciderSeries): Map<string, unknown> {
  const out = new Map<string, unknown>([[`d|${key}`, HEAD]]);
  for (const w of s.history) out.set(`w|${key}|${w.start}`, w.acc);
  for (const w of s.quarantine) out.set(`w|${key}|${w.start}`, w.acc);
  for (const [start, parts] of s.pending)
    for (const [p, acc] of parts) out.set(`q|${key}|${start}|${p}`, acc);
  if (s.reference !== null) out.set(`r|${key}`, s.reference);
  for (const [start, count] of s.volume) out.set(`v|${key}|${start}`, count);
  return out;
}

function valueOf(
  ident: unknown,
  s: DeciderSeries,
): DeciderHeadJSON | FeatureAccumulationJSON | number {
  if (ident === HEAD) {
    return {
      id: s.id,
      kind: s.kind,
      contributors: [...s.contributors].sort((a, b) => a[0] - b[0]),
      since: [...s.since].sort((a, b) => a[0] - b[0]),
      history: s.history.map((w) => w.start),
      quarantine: s.quarantine.map((w) => w.start),
      lastDecided: s.lastDecided,
      firing: s.firing,
    };
  }
  if (typeof ident === 'number') return ident;
  return accumulationToJSON(ident as FeatureAccumulation);
}

function splitKey(key: string): { kind: string; series: string; rest: string[] } {
  const end = key.lastIndexOf(']');
  if (key[1] !== '|' || key[2] !== '[' || end < 0)
    throw new DriftStateError(`unknown drift changelog key ${JSON.stringify(key)}`, { key });
  const tail = key.slice(end + 1);
  return {
    kind: key[0]!,
    series: key.slice(2, end + 1),
    rest: tail === '' ? [] : tail.slice(1).split('|'),
  };
}

function parse(key: string, value: Buffer): unknown {
  try {
    return JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new DriftStateError(`changelog entry ${key} is not JSON`, { key }, { cause: error });
  }
}
