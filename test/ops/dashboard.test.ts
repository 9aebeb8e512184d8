// The Grafana dashboard and the alert rules read only metrics the services export, and every PromQL expression
// in the dashboard parses (promtool, the Debian prometheus package, checks each one as a recording rule).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { exportedSeriesNames, metricNamesIn } from './exported-metrics.js';

const root = new URL('../../', import.meta.url).pathname;
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/tidemark.json'), 'utf8')) as {
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
};
const rules = YAML.parse(readFileSync(join(root, 'deploy/prometheus/rules.yml'), 'utf8')) as {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
};

const panelExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);
const ruleExprs = rules.groups.flatMap((g) =>
  g.rules.map((r) => ({ panel: r.alert, expr: r.expr })),
);

/** Grafana's variables as Prometheus would see them after substitution. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$service', '.*');
}

const dir = mkdtempSync(join(tmpdir(), 'tidemark-dashboard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function promtoolCheck(exprs: string[]): { ok: boolean; output: string } {
  const file = join(dir, `check-${Math.abs(exprs.join().length)}-${exprs.length}.yml`);
  const group = {
    name: 'dashboard',
    rules: exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })),
  };
  writeFileSync(file, YAML.stringify({ groups: [group] }));
  try {
    return {
      ok: true,
      output: execFileSync('promtool', ['check', 'rules', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('deploy/grafana/tidemark.json', () => {
  it('covers sync lag, findings, dead letters, consumer lag, state size, alerts and tickets', () => {
    const all = panelExprs.map((p) => p.expr).join('\n');
    for (const metric of [
      'tidemark_sync_lag_seconds_bucket',
      'tidemark_findings_total',
      'tidemark_dlq_records_total',
      'tidemark_consumer_lag',
      'tidemark_consumer_lag_seconds',
      'tidemark_state_entries',
      'tidemark_router_alerts_total',
      'tidemark_router_tickets_total',
    ])
      expect(all, metric).toMatch(new RegExp(`\\b${metric}\\b`));
    expect(all).toContain('histogram_quantile(0.5, sum by (le, system, connector)');
    expect(all).toContain('histogram_quantile(0.99, sum by (le, system, connector)');
  });

  it('every expression parses (promtool check rules)', () => {
    const result = promtoolCheck(panelExprs.map((p) => substitute(p.expr)));
    expect(result.output).toContain(`SUCCESS: ${panelExprs.length} rules found`);
    expect(result.ok).toBe(true);
  });

  it('the parse check catches a broken expression', () => {
    const result = promtoolCheck(['sum by (service (rate(tidemark_records_in_total[5m]))']);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/parse error/);
  });
});

describe('metric names in the dashboard and the alert rules', () => {
  it('finds the metrics of an expression and nothing else', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, system) (rate(tidemark_sync_lag_seconds_bucket{service=~"$service", x="a_b"}[$__rate_interval]))) / on (service) tidemark_ready == 0',
      ),
    ).toEqual(['tidemark_sync_lag_seconds_bucket', 'tidemark_ready']);
  });

  it.each([...panelExprs, ...ruleExprs])('$panel reads only exported metrics', async ({ expr }) => {
    const exported = await exportedSeriesNames();
    const names = metricNamesIn(expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !exported.has(n))).toEqual([]);
  });

  it('knows the runtime, operations and declared service metrics', async () => {
    const exported = await exportedSeriesNames();
    for (const name of [
      'tidemark_dlq_records_total',
      'tidemark_consumer_lag_seconds',
      'tidemark_sync_lag_seconds_bucket',
      'tidemark_alertmanager_retries_total',
    ])
      expect(exported.has(name), name).toBe(true);
    expect(exported.has('tidemark_sync_lag_seconds')).toBe(false);
  });
});
