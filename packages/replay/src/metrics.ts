import { canonicalJson, type MetricsSink } from '@tidemark/core';

/** One labelled series of a metric, as MemoryMetrics holds it. */
export interface MemorySeries {
  name: string;
  labels: Record<string, string>;
  /** Counter total, gauge value, or histogram sum. */
  value: number;
  /** Histogram observations in arrival order (histograms only). */
  observations?: number[];
}

/** Quantiles of a histogram's observations. */
export interface HistogramSummary {
  count: number;
  sum: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * A MetricsSink in memory for the in-process replay. Histograms keep every observation (not buckets) so callers can
 * report exact quantiles, e.g. sync-lag p50/p99 in the demo; counters add, gauges keep the last value.
 */
export class MemoryMetrics implements MetricsSink {
  readonly #kinds: ReadonlyMap<string, 'histogram' | 'counter' | 'gauge'>;
  /** Every series by its id: the name and the canonical JSON of its labels (the sort order of `series()`). */
  readonly #series = new Map<string, MemorySeries>();
  /**
   * The same series found without building the id: per name, a path through the labels' sorted keys and values.
   * Handlers record on every record, and serializing the labels to find the series was a tenth of some handlers.
   */
  readonly #index = new Map<string, LabelNode>();

  /** `kinds` maps metric names to their kind (from the services' `metrics` declarations); unknown names count. */
  constructor(kinds: Iterable<[string, 'histogram' | 'counter' | 'gauge']> = []) {
    this.#kinds = new Map(kinds);
  }

  record(name: string, labels: Record<string, string>, value: number): void {
    let node = this.#index.get(name);
    if (node === undefined) this.#index.set(name, (node = {}));
    // Keys sorted and undefined values skipped, as canonicalJson does: equal label sets reach the same node.
    const keys = Object.keys(labels).sort();
    for (const key of keys) {
      const v = labels[key];
      if (v === undefined) continue;
      node.next ??= new Map();
      let byValue = node.next.get(key);
      if (byValue === undefined) node.next.set(key, (byValue = new Map()));
      let child = byValue.get(v);
      if (child === undefined) byValue.set(v, (child = {}));
      node = child;
    }
    let s = node.series;
    const kind = this.#kinds.get(name) ?? 'counter';
    if (s === undefined) {
      s = {
        name,
        labels: { ...labels },
        value: 0,
        ...(kind === 'histogram' ? { observations: [] } : {}),
      };
      node.series = s;
      this.#series.set(`${name}${canonicalJson(labels)}`, s);
    }
    if (kind === 'gauge') s.value = value;
    else s.value += value;
    s.observations?.push(value);
  }

  /** Every series, sorted by name then labels (deterministic). */
  series(): MemorySeries[] {
    return [...this.#series.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, s]) => s);
  }

  /** Sum of a counter over the series whose labels include `match`. */
  total(name: string, match: Record<string, string> = {}): number {
    let sum = 0;
    for (const s of this.#series.values())
      if (s.name === name && matches(s.labels, match)) sum += s.value;
    return sum;
  }

  /** Quantiles (nearest rank) of a histogram over the series whose labels include `match`. */
  histogram(name: string, match: Record<string, string> = {}): HistogramSummary {
    const values: number[] = [];
    let sum = 0;
    for (const s of this.#series.values()) {
      if (s.name !== name || !s.observations || !matches(s.labels, match)) continue;
      for (const v of s.observations) values.push(v);
      sum += s.value;
    }
    values.sort((a, b) => a - b);
    const q = (p: number): number | null =>
      values.length === 0
        ? null
        : values[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!;
    return {
      count: values.length,
      sum,
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      max: values.length === 0 ? null : values[values.length - 1]!,
    };
  }
}

/** A step of MemoryMetrics' label index: the series whose labels end here, and the next label's key → value → node. */
interface LabelNode {
  series?: MemorySeries;
  next?: Map<string, Map<string, LabelNode>>;
}

function matches(labels: Record<string, string>, match: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(match)) if (labels[k] !== v) return false;
  return true;
}
