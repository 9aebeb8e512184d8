import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One series of a histogram: its labels (without `le`), cumulative bucket counts by `le`, sum and count. */
export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: Record<string, string>;
  sum?: string;
  count?: string;
}

/**
 * The series of histogram `name` in a /metrics text, parsed by parse-prometheus-text-format. That library
 * folds a histogram's samples into one object and drops every label but `le` and the `_sum`/`_count` of
 * labelled series (yunyu/parse-prometheus-text-format#13, fix #8 unmerged). Declared untyped, its
 * `_bucket`, `_sum` and `_count` samples come back one by one with all their labels; they are grouped here.
 */
export function histogramSeries(text: string, name: string): HistogramSeries[] {
  const untyped = text.replace(`# TYPE ${name} histogram\n`, `# TYPE ${name} untyped\n`);
  const series = new Map<string, HistogramSeries>();
  const of = (labels: Record<string, string>): HistogramSeries => {
    const id = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let s = series.get(id);
    if (!s) series.set(id, (s = { labels, buckets: {} }));
    return s;
  };
  for (const family of parsePrometheusTextFormat(untyped)) {
    for (const sample of family.metrics) {
      const { le, ...labels } = sample.labels ?? {};
      const value = sample.value ?? '';
      if (family.name === `${name}_bucket` && le !== undefined) of(labels).buckets[le] = value;
      else if (family.name === `${name}_sum`) of(labels).sum = value;
      else if (family.name === `${name}_count`) of(labels).count = value;
    }
  }
  return [...series.values()];
}
