// Watches the running services: whether their groups have consumed every input, and their sync-lag histogram.
import type { Kafka } from 'kafkajs';
import type { TopicCatalog } from '@tidemark/core';
import { ProduceAborted as DemoAborted } from '../sim-io.js';
import type { OutputCollector } from './collector.js';
import type { DemoLayout } from './layout.js';
import { histogramSeries } from './prometheus.js';
import { sleep } from './processes.js';
import { histogramQuantile, type DemoCounters } from './view.js';

/** Waits until every service group has consumed its inputs to the end and no output arrived for a while. */
export async function settle(
  kafka: Kafka,
  layout: DemoLayout,
  collector: OutputCollector,
  timeoutMs: number,
  checkAlive: () => void,
  signal?: AbortSignal,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (signal?.aborted) throw new DemoAborted('interrupted');
      checkAlive();
      // A transient admin error (the group coordinator moved, a broker hiccup) is a "not yet".
      const caughtUp = await allCaughtUp(admin, layout).catch(() => false);
      if (caughtUp && Date.now() - collector.lastOutputAt > 6000) return;
      if (Date.now() > deadline) return;
      await sleep(1000);
    }
  } finally {
    await admin.disconnect();
  }
}

/** The catalog topics each service consumes (besides its internal ones). */
export function serviceInputs(t: TopicCatalog): Record<string, string[]> {
  return {
    'alert-router': [t.findings],
    'contract-checker': [t.contentChanges],
    'freshness-monitor': [t.contentChanges, t.syncEvents],
    'parity-verifier': [t.contentChanges, t.syncEvents, t.inventorySnapshots],
    'drift-detector': [t.contentChanges, t.syncEvents],
  };
}

async function allCaughtUp(
  admin: ReturnType<Kafka['admin']>,
  layout: DemoLayout,
): Promise<boolean> {
  const inputs = serviceInputs(layout.topics);
  for (const proc of layout.processes) {
    for (const topic of inputs[proc.service] ?? []) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({
        groupId: proc.env['KAFKA_GROUP_ID']!,
        topics: [topic],
      });
      for (const end of ends) {
        const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        if (end.high !== '0' && BigInt(c) < BigInt(end.high)) return false;
      }
    }
  }
  return true;
}

export async function scrapeSyncLag(layout: DemoLayout, counters: DemoCounters): Promise<void> {
  const freshness = layout.processes.find((p) => p.service === 'freshness-monitor');
  if (!freshness) return;
  try {
    const text = await (await fetch(`http://127.0.0.1:${freshness.httpPort}/metrics`)).text();
    // Summed over every system/connector/class series: the demo shows one lag distribution.
    const merged = new Map<number, number>();
    let count = 0;
    for (const series of histogramSeries(text, 'tidemark_sync_lag_seconds')) {
      count += Number(series.count ?? 0);
      for (const [le, c] of Object.entries(series.buckets)) {
        const bound = le === '+Inf' ? Infinity : Number(le);
        merged.set(bound, (merged.get(bound) ?? 0) + Number(c));
      }
    }
    const buckets = [...merged].map(([le, c]) => ({ le, count: c }));
    if (count > 0) {
      counters.syncLag = {
        p50: histogramQuantile(0.5, buckets),
        p99: histogramQuantile(0.99, buckets),
        count,
      };
    }
  } catch {
    // the service may be stopping; keep the last numbers
  }
}
