import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OperationsMetrics } from './ops-metrics.js';

const runtimePackage = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

function setup(probes: { ready?: boolean; restoring?: number; nowMs?: number } = {}) {
  const registry = new Registry();
  const state = { ready: false, restoring: 0, nowMs: 0, ...probes };
  const ops = new OperationsMetrics(registry, {
    ready: () => state.ready,
    restoringPartitions: () => state.restoring,
    nowMs: () => state.nowMs,
  });
  const values = async (name: string) =>
    (await registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
  return { ops, state, values };
}

describe('OperationsMetrics', () => {
  it('reports build info with the runtime and Node.js versions', async () => {
    const { values } = setup();
    expect(await values('tidemark_build_info')).toEqual([
      [{ version: runtimePackage.version, node_version: process.versions.node }, 1],
    ]);
  });

  it.each([
    { ready: true, restoring: 0, expected: [1, 0] },
    { ready: false, restoring: 3, expected: [0, 3] },
  ])('reads readiness and restoring partitions at scrape time: %o', async (c) => {
    const { state, values } = setup();
    state.ready = c.ready;
    state.restoring = c.restoring;
    expect([
      (await values('tidemark_ready'))[0]![1],
      (await values('tidemark_restoring_partitions'))[0]![1],
    ]).toEqual(c.expected);
  });

  it.each([
    { name: 'caught up: no lag in seconds', lagRecords: 0, nowMs: 90_000, expected: 0 },
    {
      name: 'records wait: age of the last processed record',
      lagRecords: 5,
      nowMs: 90_000,
      expected: 30,
    },
    { name: 'a stalled consumer keeps growing', lagRecords: 5, nowMs: 660_000, expected: 600 },
    { name: 'clock behind the record: never negative', lagRecords: 5, nowMs: 1_000, expected: 0 },
  ])('consumer lag seconds — $name', async (c) => {
    const { ops, state, values } = setup();
    ops.recordProgress('kb.sync.events.v1', 2, 60_000, c.lagRecords);
    state.nowMs = c.nowMs;
    const labels = { topic: 'kb.sync.events.v1', partition: '2' };
    expect(await values('tidemark_consumer_lag_seconds')).toEqual([[labels, c.expected]]);
    expect(await values('tidemark_last_processed_record_timestamp_seconds')).toEqual([
      [labels, 60],
    ]);
  });

  it('forgets the series of a revoked partition and keeps the others', async () => {
    const { ops, values } = setup({ nowMs: 10_000 });
    ops.recordProgress('a', 0, 1_000, 1);
    ops.recordProgress('a', 1, 2_000, 1);
    ops.forgetPartition(0, ['a', 'b']);
    expect(await values('tidemark_consumer_lag_seconds')).toEqual([
      [{ topic: 'a', partition: '1' }, 8],
    ]);
    expect(await values('tidemark_last_processed_record_timestamp_seconds')).toEqual([
      [{ topic: 'a', partition: '1' }, 2],
    ]);
  });

  it('times produces and commits in their own histograms and counts rebalances', async () => {
    const { ops, values } = setup();
    ops.produceSeconds.observe(0.004);
    ops.commitSeconds.observe(0.3);
    ops.rebalances.inc();
    const count = async (name: string) =>
      (await values(name)).find(([l]) => (l as Record<string, unknown>)['le'] === 0.005)?.[1];
    expect([
      await count('tidemark_produce_duration_seconds'),
      await count('tidemark_commit_duration_seconds'),
      (await values('tidemark_rebalances_total'))[0]![1],
    ]).toEqual([1, 0, 1]);
  });
});
