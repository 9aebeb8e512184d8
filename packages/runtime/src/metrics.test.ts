import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricDefinitionError, RuntimeMetrics, createMetricsSink } from './metrics.js';

describe('createMetricsSink', () => {
  it('backs declared counters, gauges and histograms and drops (and counts) mistakes', async () => {
    const registry = new Registry();
    const sink = createMetricsSink(registry, [
      { name: 'svc_findings_total', help: 'f', kind: 'counter', labelNames: ['check'] },
      { name: 'svc_ledger_docs', help: 'g', kind: 'gauge', labelNames: [] },
      {
        name: 'svc_lag_seconds',
        help: 'h',
        kind: 'histogram',
        labelNames: ['system'],
        buckets: [1, 10],
      },
    ]);
    sink.record('svc_findings_total', { check: 'stale' }, 2);
    sink.record('svc_findings_total', { check: 'stale' }, 1);
    sink.record('svc_ledger_docs', {}, 40);
    sink.record('svc_ledger_docs', {}, 42);
    sink.record('svc_lag_seconds', { system: 'wiki' }, 5);
    sink.record('svc_nope', {}, 1);
    sink.record('svc_findings_total', { wrong: 'label' }, 1);
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    expect((await value('svc_findings_total')).map((v) => [v.labels, v.value])).toEqual([
      [{ check: 'stale' }, 3],
    ]);
    expect((await value('svc_ledger_docs')).map((v) => v.value)).toEqual([42]);
    expect(
      (await value('svc_lag_seconds')).map((v) => [
        (v as { metricName?: string }).metricName,
        v.labels['le'],
        v.value,
      ]),
    ).toEqual([
      ['svc_lag_seconds_bucket', 1, 0],
      ['svc_lag_seconds_bucket', 10, 1],
      ['svc_lag_seconds_bucket', '+Inf', 1],
      ['svc_lag_seconds_sum', undefined, 5],
      ['svc_lag_seconds_count', undefined, 1],
    ]);
    expect(
      (await value('tidemark_metric_record_errors_total')).map((v) => [v.labels, v.value]),
    ).toEqual([
      [{ name: 'svc_nope', reason: 'undeclared' }, 1],
      [{ name: 'svc_findings_total', reason: 'invalid' }, 1],
    ]);
  });

  it.each([
    [
      [
        { name: 'dup_total', help: 'h', kind: 'counter' as const, labelNames: [] },
        { name: 'dup_total', help: 'h', kind: 'gauge' as const, labelNames: [] },
      ],
      'metric dup_total is declared twice',
    ],
    [
      [{ name: 'bad-name', help: 'h', kind: 'counter' as const, labelNames: [] }],
      'metric bad-name: Invalid metric name',
    ],
  ])('refuses bad declarations (%#)', (definitions, message) => {
    let caught: unknown;
    try {
      createMetricsSink(new Registry(), definitions);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MetricDefinitionError);
    expect((caught as Error).message).toBe(message);
  });
});

describe('RuntimeMetrics', () => {
  it('labels every series with the service and forgets a revoked partition', async () => {
    const m = new RuntimeMetrics('svc');
    m.stateEntries.set({ partition: '1' }, 5);
    m.consumerLag.set({ topic: 't', partition: '1' }, 3);
    m.ticks.inc({ partition: '1' });
    m.recordsIn.inc({ topic: 't' }, 2);
    const text = await m.registry.metrics();
    expect(text).toContain('tidemark_state_entries{partition="1",service="svc"} 5');
    expect(text).toContain('tidemark_records_in_total{topic="t",service="svc"} 2');
    m.forgetPartition(1, ['t']);
    const after = await m.registry.metrics();
    expect(after).not.toContain('partition="1"');
    expect(after).toContain('tidemark_records_in_total{topic="t",service="svc"} 2');
  });
});
