import { TidemarkError } from '@tidemark/core';
import type { MetricDefinition, MetricsSink } from '@tidemark/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Handler latency buckets in seconds: a pure handler takes microseconds, a slow one milliseconds. */
export const HANDLER_SECONDS_BUCKETS: readonly number[] = [
  0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
];

/** The runtime's own Prometheus metrics plus the service's declared ones, in one registry. */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter<'topic'>;
  readonly recordsOut: Counter<'topic'>;
  readonly recordsSkipped: Counter<'topic'>;
  readonly deadLetters: Counter<'topic'>;
  readonly handlerSeconds: Histogram<'topic'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly stateEntries: Gauge<'partition'>;
  readonly ticks: Counter<'partition'>;
  readonly deliveryRetries: Counter;
  readonly restoredRecords: Counter;
  /** Backs `ctx.metrics` with the metrics the service declared. */
  readonly sink: MetricsSink;

  constructor(service: string, definitions: readonly MetricDefinition[] = []) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.recordsIn = new Counter({
      name: 'tidemark_records_in_total',
      help: 'Input records consumed, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'tidemark_records_out_total',
      help: 'Records produced and acknowledged, by topic (outputs, dead letters, changelog).',
      labelNames: ['topic'],
      registers,
    });
    this.recordsSkipped = new Counter({
      name: 'tidemark_records_skipped_total',
      help: 'Redelivered input records already reflected in restored state, skipped.',
      labelNames: ['topic'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'tidemark_dlq_records_total',
      help: 'Input records sent to the dead-letter topic, by input topic.',
      labelNames: ['topic'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: 'tidemark_handler_duration_seconds',
      help: 'Time to decode and handle one record, by input topic.',
      labelNames: ['topic'],
      buckets: [...HANDLER_SECONDS_BUCKETS],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'tidemark_consumer_lag',
      help: 'Records between the committed offset and the high watermark, per owned partition.',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.stateEntries = new Gauge({
      name: 'tidemark_state_entries',
      help: 'Entries held in partition state, per owned partition.',
      labelNames: ['partition'],
      registers,
    });
    this.ticks = new Counter({
      name: 'tidemark_ticks_total',
      help: 'Ticks run, per partition.',
      labelNames: ['partition'],
      registers,
    });
    this.deliveryRetries = new Counter({
      name: 'tidemark_delivery_retries_total',
      help: 'Produce attempts that failed with a transient broker error and were retried.',
      registers,
    });
    this.restoredRecords = new Counter({
      name: 'tidemark_state_restored_records_total',
      help: 'Changelog records applied while restoring partition state.',
      registers,
    });
    this.sink = createMetricsSink(this.registry, definitions);
  }

  /** Forgets the per-partition series of a partition this instance no longer owns. */
  forgetPartition(partition: number, topics: readonly string[]): void {
    const p = String(partition);
    this.stateEntries.remove({ partition: p });
    this.ticks.remove({ partition: p });
    for (const topic of topics) this.consumerLag.remove({ topic, partition: p });
  }
}

/** Thrown at start when a service declares a metric twice or with an invalid name. */
export class MetricDefinitionError extends TidemarkError {}

/**
 * A MetricsSink over prom-client metrics created from the service's declarations. An observation of an
 * undeclared name or with wrong labels is dropped and counted in `errors` — a metric mistake must not send
 * a good record to the dead-letter topic.
 */
export function createMetricsSink(
  registry: Registry,
  definitions: readonly MetricDefinition[],
): MetricsSink & { errors: Counter<'name' | 'reason'> } {
  const registers = [registry];
  const metrics = new Map<string, (labels: Record<string, string>, value: number) => void>();
  for (const def of definitions) {
    if (metrics.has(def.name)) {
      throw new MetricDefinitionError(`metric ${def.name} is declared twice`, {
        context: { name: def.name },
      });
    }
    const common = { name: def.name, help: def.help, labelNames: [...def.labelNames], registers };
    try {
      if (def.kind === 'histogram') {
        const h = new Histogram({
          ...common,
          ...(def.buckets ? { buckets: [...def.buckets] } : {}),
        });
        metrics.set(def.name, (labels, value) => h.observe(labels, value));
      } else if (def.kind === 'counter') {
        const c = new Counter(common);
        metrics.set(def.name, (labels, value) => c.inc(labels, value));
      } else {
        const g = new Gauge(common);
        metrics.set(def.name, (labels, value) => g.set(labels, value));
      }
    } catch (error) {
      throw new MetricDefinitionError(`metric ${def.name}: ${(error as Error).message}`, {
        cause: error,
        context: { name: def.name },
      });
    }
  }
  const errors = new Counter({
    name: 'tidemark_metric_record_errors_total',
    help: 'Dropped service metric observations: undeclared name or invalid labels/value.',
    labelNames: ['name', 'reason'],
    registers,
  });
  return {
    errors,
    record(name, labels, value) {
      const observe = metrics.get(name);
      if (!observe) {
        errors.inc({ name, reason: 'undeclared' });
        return;
      }
      try {
        observe(labels, value);
      } catch {
        errors.inc({ name, reason: 'invalid' });
      }
    },
  };
}
