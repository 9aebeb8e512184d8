import { createRequire } from 'node:module';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** Produce and commit latency buckets in seconds: a local broker answers in milliseconds, a sick one in seconds. */
export const KAFKA_SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** What the operations metrics read when scraped, so they are never stale. */
export interface OperationsProbes {
  /** Whether /readyz answers 200 now. */
  ready: () => boolean;
  /** Partitions whose state is being restored from the changelog now. */
  restoringPartitions: () => number;
  /** Wall-clock milliseconds (consumer lag in seconds is measured against it). */
  nowMs: () => number;
}

interface Progress {
  /** Timestamp (ms) of the last record processed and committed. */
  lastTimestampMs: number;
  /** Records between the committed offset and the high watermark at that commit. */
  lagRecords: number;
}

const runtimeVersion = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;

/**
 * The metrics an operator pages on (deploy/prometheus/rules.yml), kept apart from RuntimeMetrics so either can
 * grow without the other: build info, readiness, restore, per-partition progress (last record timestamp, lag in
 * seconds), rebalances, and produce/commit latency.
 */
export class OperationsMetrics {
  readonly rebalances: Counter;
  readonly produceSeconds: Histogram;
  readonly commitSeconds: Histogram;
  readonly lastProcessedTimestamp: Gauge<'topic' | 'partition'>;
  readonly consumerLagSeconds: Gauge<'topic' | 'partition'>;
  readonly #progress = new Map<string, Progress & { topic: string; partition: string }>();

  constructor(registry: Registry, probes: OperationsProbes) {
    const registers = [registry];
    const progress = this.#progress;
    new Gauge({
      name: 'tidemark_build_info',
      help: 'Always 1; the labels say which Tidemark runtime and Node.js version run.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: runtimeVersion, node_version: process.versions.node }, 1);
    new Gauge({
      name: 'tidemark_ready',
      help: '1 while /readyz answers 200 (joined, not rebalancing, state restored, tables caught up), else 0.',
      registers,
      collect() {
        this.set(probes.ready() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tidemark_restoring_partitions',
      help: 'Partitions whose state is being restored from the changelog (not processed meanwhile).',
      registers,
      collect() {
        this.set(probes.restoringPartitions());
      },
    });
    this.lastProcessedTimestamp = new Gauge({
      name: 'tidemark_last_processed_record_timestamp_seconds',
      help: 'Timestamp of the last input record processed and committed, per owned partition.',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.consumerLagSeconds = new Gauge({
      name: 'tidemark_consumer_lag_seconds',
      help: 'While records wait on a partition: seconds since the timestamp of the last record processed (so it grows while the consumer stalls); 0 when caught up.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        const nowMs = probes.nowMs();
        for (const p of progress.values()) {
          const seconds = p.lagRecords > 0 ? Math.max(0, (nowMs - p.lastTimestampMs) / 1000) : 0;
          this.set({ topic: p.topic, partition: p.partition }, seconds);
        }
      },
    });
    this.rebalances = new Counter({
      name: 'tidemark_rebalances_total',
      help: 'Consumer group joins (each rebalance this instance took part in, the first join included).',
      registers,
    });
    this.produceSeconds = new Histogram({
      name: 'tidemark_produce_duration_seconds',
      help: 'Time to produce one batch with acks=all, retries included.',
      buckets: [...KAFKA_SECONDS_BUCKETS],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'tidemark_commit_duration_seconds',
      help: 'Time to commit the input offsets of one batch, retries included.',
      buckets: [...KAFKA_SECONDS_BUCKETS],
      registers,
    });
  }

  /** After a batch is committed: the timestamp of its last record and the records still waiting behind it. */
  recordProgress(
    topic: string,
    partition: number,
    lastTimestampMs: number,
    lagRecords: number,
  ): void {
    const p = String(partition);
    this.#progress.set(`${topic}\u0000${p}`, { topic, partition: p, lastTimestampMs, lagRecords });
    this.lastProcessedTimestamp.set({ topic, partition: p }, lastTimestampMs / 1000);
  }

  /** Forgets the per-partition series of a partition this instance no longer owns. */
  forgetPartition(partition: number, topics: readonly string[]): void {
    const p = String(partition);
    for (const topic of topics) {
      this.#progress.delete(`${topic}\u0000${p}`);
      this.lastProcessedTimestamp.remove({ topic, partition: p });
      this.consumerLagSeconds.remove({ topic, partition: p });
    }
  }
}
