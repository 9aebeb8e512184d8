// The drift check's configuration: plain data, so the contracts package can map a contract's drift features onto it.
// Validated once (resolveDriftConfig) into a fully defaulted form; the check itself trusts it.
import { ConfigError, type FindingOwner, type Severity } from '@tidemark/core';
import type { FeatureKind } from '../stat/accumulation.js';
import { WEEK_MS } from '../compare/volume.js';

/**
 * Thresholds. A numeric or categorical window drifts only when its change is both large (effect size above `psi` /
 * `jsDistance`, when set) and significant (p-value below `ksPValue` / `chiSquarePValue`, DEFAULT_SIGNIFICANCE when
 * unset), so the per-window false-alarm rate stays below the p-value threshold at any sample size (README).
 */
export interface DriftThresholds {
  /** numeric effect size: PSI must exceed it (0.1 "some", 0.2 "major" by convention). */
  psi?: number;
  /**
   * numeric significance: min(1, 2·min(p_KS, p_Mood)) must be below it — the per-window false-alarm rate.
   * @default 0.001 (DEFAULT_SIGNIFICANCE)
   */
  ksPValue?: number;
  /**
   * categorical significance: the chi-square homogeneity p-value must be below it — the per-window false-alarm rate.
   * @default 0.001 (DEFAULT_SIGNIFICANCE)
   */
  chiSquarePValue?: number;
  /** categorical effect size: the Jensen–Shannon distance (base 2, in [0, 1]) must exceed it. */
  jsDistance?: number;
  /** volume: fire when |robust score| > volumeScore (in the configured direction). */
  volumeScore?: number;
}

/** Baseline: the last N decided windows, or a pinned reference range of event time. */
export type DriftBaselineConfig =
  | { mode: 'rolling'; windows: number }
  | { mode: 'pinned'; reference: { name: string; from: number; to: number } };

/** One watched feature. */
export interface DriftFeatureConfig {
  /**
   * The finding's subject.feature. Unique among features that watch the same system: two features may share a
   * name only when both list their `systems` and the lists do not overlap (contracts name features per system).
   */
  name: string;
  kind: FeatureKind;
  /** Dotted path inside the event's `data` (e.g. `sizeBytes`, `attributes.wordCount`, `language`); not for volume. */
  field?: string;
  /** Event types counted. @default ['content.upserted'] */
  eventTypes?: readonly string[];
  /** Systems watched (data.system); all when absent. */
  systems?: readonly string[];
  /** Only events of these content classes (data.contentClass) feed it; every event when absent. */
  contentClasses?: readonly string[];
  /** Per system, or per system and connector (data.connector, sync events). @default 'system' */
  groupBy?: 'system' | 'connector';
  /** Tumbling event-time window size. */
  windowMs: number;
  baseline: DriftBaselineConfig;
  /** Values a window and its baseline each need before a verdict; for volume, the baseline median count needed. */
  minSamples: number;
  thresholds: DriftThresholds;
  /** numeric: PSI quantile bins. @default 10 */
  bins?: number;
  /** categorical: categories kept apart, the rest fold into "other". @default 20 */
  topK?: number;
  /** volume: which departures fire. @default 'both' */
  direction?: 'both' | 'drop' | 'rise';
  /** volume: past weeks searched for the same slot. @default 4 */
  seasonalWeeks?: number;
  /** volume: same-slot weeks needed for the seasonal baseline. @default 3 */
  minSeasons?: number;
  /** @default 'warning' */
  severity?: Severity;
  /** @default {} */
  owner?: FindingOwner;
  contract?: { file: string; version: string };
  /** Findings carry `shadow: true` (the router neither alerts nor tickets on them). @default false */
  shadow?: boolean;
  /** Labels added to the findings, for routing. @default {} */
  labels?: Readonly<Record<string, string>>;
}

/** The drift check's configuration. */
export interface DriftConfig {
  features: readonly DriftFeatureConfig[];
  /** How long after a window's end events for it are still accepted (per partition). @default 60000 */
  allowedLatenessMs?: number;
  /**
   * Extra wait after lateness before the decider judges a window, for partials of partitions it has not heard
   * from yet. Partitions it knows are waited for anyway (see decideTimeoutMs). @default 60000
   */
  decideDelayMs?: number;
  /**
   * How long past end + lateness + decideDelay the decider waits for a known partition that has not closed a
   * window yet before judging without it (and forgetting that partition until it sends again). @default 3600000
   */
  decideTimeoutMs?: number;
  /**
   * A partition forgets a series after this many windows in a row without an event for it, and tells the decider
   * it no longer contributes (bounds per-partition state by the active series). @default 24
   */
  retireAfterWindows?: number;
  /** KLL accuracy parameter. @default 200 */
  sketchK?: number;
  /** Values kept per window for the KS test. @default 1000 */
  sampleSize?: number;
  /** Distinct categories counted by name per window. @default 64 */
  categoryCapacity?: number;
}

/** A feature with every default filled in. */
export type ResolvedFeatureConfig = Required<
  Omit<DriftFeatureConfig, 'field' | 'systems' | 'contentClasses' | 'contract'>
> &
  Pick<DriftFeatureConfig, 'field' | 'systems' | 'contentClasses' | 'contract'>;

/** The configuration with every default filled in. */
export interface ResolvedDriftConfig {
  features: readonly ResolvedFeatureConfig[];
  allowedLatenessMs: number;
  decideDelayMs: number;
  decideTimeoutMs: number;
  retireAfterWindows: number;
  sketchK: number;
  sampleSize: number;
  categoryCapacity: number;
}

/** Defaults of optional settings, in one place. */
export const DRIFT_DEFAULTS = {
  eventTypes: ['content.upserted'] as readonly string[],
  groupBy: 'system',
  bins: 10,
  topK: 20,
  direction: 'both',
  seasonalWeeks: 4,
  minSeasons: 3,
  severity: 'warning',
  shadow: false,
  allowedLatenessMs: 60_000,
  decideDelayMs: 60_000,
  decideTimeoutMs: 3_600_000,
  retireAfterWindows: 24,
  sketchK: 200,
  sampleSize: 1000,
  categoryCapacity: 64,
} as const;

/** Most windows a rolling baseline may span (its windows are all kept in state). */
export const MAX_ROLLING_WINDOWS = 168;
/** Most volume counts kept per series (seasonal history). */
export const MAX_VOLUME_HISTORY = 20_000;

const KINDS = new Set(['numeric', 'categorical', 'volume']);
const SEVERITIES = new Set(['info', 'warning', 'high', 'critical']);
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Validates a drift configuration and fills defaults; throws ConfigError listing every problem. */
export function resolveDriftConfig(config: DriftConfig): ResolvedDriftConfig {
  const problems: string[] = [];
  const positiveInt = (path: string, v: unknown, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
      problems.push(`${path} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  const probability = (path: string, v: unknown): void => {
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v < 1)) {
      problems.push(`${path} must be a number in (0, 1), got ${JSON.stringify(v)}`);
    }
  };
  const positive = (path: string, v: unknown): void => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      problems.push(`${path} must be a positive number, got ${JSON.stringify(v)}`);
    }
  };
  const top = { ...DRIFT_DEFAULTS, ...stripUndefined(config) };
  for (const k of ['allowedLatenessMs', 'decideDelayMs', 'decideTimeoutMs'] as const) {
    if (!Number.isInteger(top[k]) || top[k] < 0)
      problems.push(`${k} must be an integer >= 0, got ${JSON.stringify(top[k])}`);
  }
  positiveInt('sketchK', top.sketchK, 65_535);
  if (top.sketchK < 8) problems.push(`sketchK must be at least 8, got ${top.sketchK}`);
  positiveInt('sampleSize', top.sampleSize, 100_000);
  positiveInt('categoryCapacity', top.categoryCapacity, 10_000);
  positiveInt('retireAfterWindows', top.retireAfterWindows, 100_000);
  if (!Array.isArray(config.features) || config.features.length === 0)
    problems.push('features must be a non-empty list');
  const names = new Map<string, Array<readonly string[] | undefined>>();
  const features: ResolvedFeatureConfig[] = [];
  (config.features ?? []).forEach((raw, i) => {
    const at = `features[${i}]`;
    const f = {
      ...DRIFT_DEFAULTS,
      owner: {},
      labels: {},
      ...stripUndefined(raw),
    } as ResolvedFeatureConfig;
    if (typeof f.name !== 'string' || f.name.length === 0)
      problems.push(`${at}.name must be a non-empty string`);
    else {
      const earlier = names.get(f.name) ?? [];
      const overlaps = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
        !Array.isArray(a) || !Array.isArray(b) || a.some((s) => b.includes(s));
      if (earlier.some((systems) => overlaps(systems, f.systems)))
        problems.push(`${at}.name ${JSON.stringify(f.name)} is used twice`);
      names.set(f.name, [...earlier, f.systems]);
    }
    if (!KINDS.has(f.kind))
      problems.push(
        `${at}.kind must be numeric, categorical or volume, got ${JSON.stringify(f.kind)}`,
      );
    if (f.kind !== 'volume') {
      if (typeof f.field !== 'string' || !FIELD_PATH.test(f.field)) {
        problems.push(
          `${at}.field must be a dotted path like attributes.wordCount, got ${JSON.stringify(f.field)}`,
        );
      } else if (f.field.split('.').some((s) => FORBIDDEN_SEGMENTS.has(s))) {
        problems.push(`${at}.field must not name __proto__, prototype or constructor`);
      }
    }
    if (
      !Array.isArray(f.eventTypes) ||
      f.eventTypes.length === 0 ||
      !f.eventTypes.every((t) => typeof t === 'string')
    ) {
      problems.push(`${at}.eventTypes must be a non-empty list of event types`);
    }
    if (
      f.systems !== undefined &&
      (!Array.isArray(f.systems) || !f.systems.every((s) => typeof s === 'string'))
    ) {
      problems.push(`${at}.systems must be a list of system ids`);
    }
    if (
      f.contentClasses !== undefined &&
      (!Array.isArray(f.contentClasses) || !f.contentClasses.every((s) => typeof s === 'string'))
    ) {
      problems.push(`${at}.contentClasses must be a list of content classes`);
    }
    if (typeof f.shadow !== 'boolean') problems.push(`${at}.shadow must be true or false`);
    if (f.groupBy !== 'system' && f.groupBy !== 'connector')
      problems.push(`${at}.groupBy must be system or connector`);
    positiveInt(`${at}.windowMs`, f.windowMs);
    const b = f.baseline as Partial<DriftBaselineConfig> | undefined;
    if (b?.mode === 'rolling') {
      positiveInt(
        `${at}.baseline.windows`,
        b.windows,
        f.kind === 'volume' ? MAX_VOLUME_HISTORY : MAX_ROLLING_WINDOWS,
      );
    } else if (b?.mode === 'pinned') {
      const r = b.reference as { name?: unknown; from?: unknown; to?: unknown } | undefined;
      if (typeof r?.name !== 'string' || r.name.length === 0)
        problems.push(`${at}.baseline.reference.name must be a non-empty string`);
      if (
        !Number.isInteger(r?.from) ||
        !Number.isInteger(r?.to) ||
        (r!.from as number) >= (r!.to as number)
      ) {
        problems.push(`${at}.baseline.reference needs integer epoch-ms from < to`);
      } else if (
        Number.isInteger(f.windowMs) &&
        (r!.to as number) - (r!.from as number) < f.windowMs
      ) {
        problems.push(`${at}.baseline.reference must span at least one window`);
      }
    } else {
      problems.push(
        `${at}.baseline.mode must be rolling or pinned, got ${JSON.stringify(b?.mode)}`,
      );
    }
    positiveInt(`${at}.minSamples`, f.minSamples);
    const t = (f.thresholds ?? {}) as DriftThresholds;
    positive(`${at}.thresholds.psi`, t.psi);
    probability(`${at}.thresholds.ksPValue`, t.ksPValue);
    probability(`${at}.thresholds.chiSquarePValue`, t.chiSquarePValue);
    probability(`${at}.thresholds.jsDistance`, t.jsDistance);
    positive(`${at}.thresholds.volumeScore`, t.volumeScore);
    if (f.kind === 'numeric' && t.psi === undefined && t.ksPValue === undefined) {
      problems.push(`${at}.thresholds needs psi or ksPValue for a numeric feature`);
    }
    if (f.kind === 'categorical' && t.chiSquarePValue === undefined && t.jsDistance === undefined) {
      problems.push(
        `${at}.thresholds needs chiSquarePValue or jsDistance for a categorical feature`,
      );
    }
    if (f.kind === 'volume' && t.volumeScore === undefined)
      problems.push(`${at}.thresholds needs volumeScore for a volume feature`);
    if (!Number.isInteger(f.bins) || f.bins < 2 || f.bins > 1000)
      problems.push(`${at}.bins must be an integer from 2 to 1000, got ${JSON.stringify(f.bins)}`);
    if (!Number.isInteger(f.topK) || f.topK < 1 || f.topK > top.categoryCapacity) {
      problems.push(
        `${at}.topK must be an integer from 1 to categoryCapacity (${top.categoryCapacity}), got ${JSON.stringify(f.topK)}`,
      );
    }
    if (!['both', 'drop', 'rise'].includes(f.direction))
      problems.push(`${at}.direction must be both, drop or rise`);
    positiveInt(`${at}.seasonalWeeks`, f.seasonalWeeks, 52);
    positiveInt(`${at}.minSeasons`, f.minSeasons, 52);
    if (f.kind === 'volume' && Number.isInteger(f.windowMs) && Number.isInteger(f.seasonalWeeks)) {
      const needed = (f.seasonalWeeks * WEEK_MS) / f.windowMs;
      if (needed > MAX_VOLUME_HISTORY && WEEK_MS % f.windowMs === 0) {
        problems.push(
          `${at}: seasonalWeeks × windows per week (${needed}) exceeds ${MAX_VOLUME_HISTORY}; use larger windows`,
        );
      }
    }
    if (!SEVERITIES.has(f.severity))
      problems.push(`${at}.severity must be info, warning, high or critical`);
    features.push({ ...f, thresholds: { ...t }, labels: { ...f.labels } });
  });
  if (problems.length > 0) throw new ConfigError('invalid drift configuration', problems);
  return {
    features,
    allowedLatenessMs: top.allowedLatenessMs,
    decideDelayMs: top.decideDelayMs,
    decideTimeoutMs: top.decideTimeoutMs,
    retireAfterWindows: top.retireAfterWindows,
    sketchK: top.sketchK,
    sampleSize: top.sampleSize,
    categoryCapacity: top.categoryCapacity,
  };
}

/** The feature named `name` that watches `system` (names are unique per system). */
export function featureFor(
  config: ResolvedDriftConfig,
  name: string,
  system: string,
): ResolvedFeatureConfig | undefined {
  return config.features.find(
    (f) => f.name === name && (f.systems === undefined || f.systems.includes(system)),
  );
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
