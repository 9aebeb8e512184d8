import {
  EMPTY_LABEL_VOCABULARY,
  MetricLabelBounds,
  findingRecord,
  parseTime,
  resolveTopics,
  type Finding,
  type HandlerContext,
  type LabelVocabulary,
  type MetricDefinition,
  type OutputRecord,
  type ServiceDefinition,
  type ServiceTopology,
  type TopicCatalog,
} from '@tidemark/core';
import { advanceTo, applyEvent, type FreshnessInputEvent } from './checks.js';
import { FreshnessLedger, type FreshnessLedgerOptions } from './ledger.js';

/** Name of the freshness service: CloudEvent source `tidemark/freshness-monitor`, changelog `tidemark.freshness-monitor.state`. */
export const FRESHNESS_SERVICE = 'freshness-monitor';

/** The freshness-monitor has no internal topics, only its changelog; and the format of its changelog records. */
export const FRESHNESS_TOPOLOGY: ServiceTopology = {
  service: FRESHNESS_SERVICE,
  internalTopics: () => [],
  stateFormat: 1,
};

/** Name of the sync-lag histogram (seconds from source change to index apply). */
export const SYNC_LAG_METRIC = 'tidemark_sync_lag_seconds';

/** The metrics the freshness service records. */
export const FRESHNESS_METRICS: readonly MetricDefinition[] = [
  {
    name: SYNC_LAG_METRIC,
    help: 'Seconds from a change at the source to the index applying it, by system, connector and content class.',
    kind: 'histogram',
    labelNames: ['system', 'connector', 'content_class'],
    // From "near real time" to "a day behind": sync-lag SLAs sit between a minute and a few hours.
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400],
  },
];

/** Options of createFreshnessService. */
export interface FreshnessServiceOptions extends FreshnessLedgerOptions {
  /** Topic names; only the content and sync topics are read, findings go to `findings`. @default DEFAULT_TOPICS */
  topics?: Partial<TopicCatalog>;
  /** Instance name: the CloudEvent source, changelog and consumer group follow it. @default 'freshness-monitor' */
  name?: string;
  /**
   * The systems, connectors and content classes metric labels may name (the contracts); any other value from
   * an event is recorded as `other`, so events cannot create unbounded series. @default EMPTY_LABEL_VOCABULARY
   */
  labels?: LabelVocabulary;
}

function toRecords(findings: Finding[], ctx: HandlerContext): OutputRecord[] {
  return findings.map((finding) =>
    findingRecord(finding, { service: ctx.service, topics: ctx.topics }),
  );
}

/**
 * The freshness-monitor as a service definition: the Kafka runtime, `tidemark replay` and tests host this
 * same composition. handle() decides on event time; tick() fires deadlines due by the host's `ctx.now`
 * (wall clock live, highest event time in replay — see `FreshnessLedger.highWatermark`).
 */
export function createFreshnessService(
  options: FreshnessServiceOptions,
): ServiceDefinition<FreshnessLedger, FreshnessInputEvent> {
  const {
    topics: topicOverrides,
    name = FRESHNESS_SERVICE,
    labels = EMPTY_LABEL_VOCABULARY,
    ...ledgerOptions
  } = options;
  const topics = resolveTopics(topicOverrides);
  const bounds = new MetricLabelBounds(labels);
  // Fail at construction, not on the first record, if the options are unusable.
  new FreshnessLedger(ledgerOptions);
  return {
    name,
    topology: FRESHNESS_TOPOLOGY,
    inputs: [topics.contentChanges, topics.syncEvents],
    metrics: FRESHNESS_METRICS,
    createState: () => new FreshnessLedger(ledgerOptions),
    handle(state, event, _record, ctx) {
      const fromEvent = (event as { traceparent?: unknown }).traceparent;
      const traceparent =
        ctx.traceparent ?? (typeof fromEvent === 'string' ? fromEvent : undefined);
      const outcome = applyEvent(state, event, parseTime(event.time), traceparent);
      if (outcome.syncLag) {
        const { system, connector, contentClass, seconds } = outcome.syncLag;
        ctx.metrics.record(
          SYNC_LAG_METRIC,
          { ...bounds.source(system, connector, contentClass) },
          Math.max(0, seconds),
        );
      }
      return toRecords(outcome.findings, ctx);
    },
    tick(state, ctx) {
      return toRecords(advanceTo(state, ctx.now), ctx);
    },
    // The tick only fires heap deadlines due by `now` (advanceTo): its earliest entry is when it next has work
    // (superseded entries only make that earlier, never later).
    nextTick(state) {
      state.ensureHeap();
      return state.heap.peekTime();
    },
  };
}
