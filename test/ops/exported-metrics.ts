// The metric names Tidemark's services export, read from the code that registers them (never a hand-kept list):
// the runtime's and the operations metrics every service has, plus each service's declared metrics.
import {
  ALERTMANAGER_BRIDGE_METRICS,
  ALERT_ROUTER_METRICS,
  WEBHOOK_SENDER_METRICS,
} from '@tidemark/routing';
import { DRIFT_METRICS } from '@tidemark/drift';
import { FRESHNESS_METRICS } from '@tidemark/freshness';
import { OperationsMetrics, RuntimeMetrics } from '@tidemark/runtime';

/** Series names a scrape can show: a histogram's _bucket, _sum and _count, every other metric's own name. */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const metrics = new RuntimeMetrics('catalog', [
    ...FRESHNESS_METRICS,
    ...DRIFT_METRICS,
    ...ALERT_ROUTER_METRICS,
    ...ALERTMANAGER_BRIDGE_METRICS,
    ...WEBHOOK_SENDER_METRICS,
  ]);
  new OperationsMetrics(metrics.registry, {
    ready: () => true,
    restoringPartitions: () => 0,
    nowMs: () => 0,
  });
  const names = new Set<string>(['up']);
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    if (String(m.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}

// PromQL functions, aggregations and keywords that look like names; everything else before `{`, `[`, `)` or
// an operator is a metric.
const NOT_METRICS = new Set(
  'sum max min avg count rate increase irate histogram_quantile by without on ignoring unless and or bool offset time humanize group_left group_right label_values'.split(
    ' ',
  ),
);

/** Metric names an expression reads (Grafana variables and label matchers, strings and durations removed). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const names = stripped.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g) ?? [];
  return [...new Set(names.filter((n) => !NOT_METRICS.has(n) && !/^\d/.test(n)))];
}
