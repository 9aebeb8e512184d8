import {
  EVENT_TYPES,
  findingRecord,
  noopMetrics,
  parseTime,
  resolveTopics,
  stateTopic,
  type ContentEvent,
  type Finding,
  type HandlerContext,
  type InputEvent,
  type InputRecord,
  type InventorySnapshotEvent,
  type OutputRecord,
  type ServiceDefinition,
  type SyncEvent,
  type TopicCatalog,
} from '@tidemark/core';
import {
  advanceParity,
  applyContentEvent,
  applyInventoryChunk,
  applySyncEvent,
  type ParityContext,
} from './checks.js';
import type { IdHasher } from './inventory-diff.js';
import { RecentChangesTable } from './recent.js';
import type { ParitySettingsResolver } from './settings.js';
import { ParityState } from './state.js';

/** Default service name: CloudEvent source `tidemark/parity-verifier`, changelog `tidemark.parity-verifier.state`. */
export const PARITY_SERVICE_NAME = 'parity-verifier';

/** Options of createParityService. */
export interface ParityServiceOptions {
  /** Settings per (system, content class), e.g. from `@tidemark/contracts`. */
  settings: ParitySettingsResolver;
  /** @default resolveTopics() */
  topics?: TopicCatalog;
  /** @default 'parity-verifier' */
  name?: string;
  /**
   * Which time drives deadlines: `host` fires them on ticks at the host's `ctx.now` (wall clock live; event time
   * in replay and the runtime's event-time mode, where ticks trail the slowest input); `event` also fires them
   * from every handled event at the partition's event-time watermark (the newest event time seen), for a host
   * that never ticks — it can fire a deadline that a record of another topic, not read yet, would have
   * settled. @default 'host'
   */
  clock?: 'host' | 'event';
  /**
   * In-flight lookup across partitions for inventory reconciliation, read from the service's own
   * changelog as a global table; `false` uses the local partition's ledger only. @default a new RecentChangesTable
   */
  recentChanges?: RecentChangesTable | false;
  /** @default hashId */
  hasher?: IdHasher;
}

/** The parity-verifier's ServiceDefinition, plus its recent-changes table (when used). */
export type ParityService = ServiceDefinition<ParityState, InputEvent> & {
  recentChanges: RecentChangesTable | undefined;
  /** Fires every deadline due by `now` (e.g. to flush a replay up to its end time); returns the finding records. */
  advance(state: ParityState, now: number): OutputRecord[];
};

/**
 * Builds the parity-verifier: consumes content changes, sync events and inventory snapshots, and emits
 * `parity.*` findings to the findings topic. All three inputs must be co-partitioned (the runtime's rule:
 * same partition count); parity itself only needs a document's content and sync events on one partition,
 * and reads another partition's documents for inventory reconciliation through the recent-changes table.
 */
export function createParityService({
  settings,
  topics = resolveTopics(),
  name = PARITY_SERVICE_NAME,
  clock = 'host',
  recentChanges = new RecentChangesTable(),
  hasher,
}: ParityServiceOptions): ParityService {
  const table = recentChanges === false ? undefined : recentChanges;
  const context = (state: ParityState, ctx: HandlerContext, eventTime?: number): ParityContext => {
    const now =
      clock === 'event' ? Math.max(state.watermark, eventTime ?? state.watermark) : ctx.now;
    return {
      settings,
      now,
      ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      ...(table
        ? { inFlight: (system: string, docId: string) => table.lookup(system, docId) }
        : {}),
    };
  };
  const records = (findings: Finding[]): OutputRecord[] =>
    findings.map((f) => findingRecord(f, { service: name, topics }));

  return {
    name,
    inputs: [topics.contentChanges, topics.syncEvents, topics.inventorySnapshots],
    createState: (partition) => new ParityState(partition, hasher ? { hasher } : {}),
    handle(state: ParityState, event: InputEvent, _record: InputRecord, ctx: HandlerContext) {
      const eventTime = parseTime(event.time);
      const pc = context(state, ctx, eventTime);
      const findings = apply(state, event, pc);
      // Deadlines fire on ticks, which the host runs once every input is read up to their time. Only a host that
      // never ticks (clock 'event') lets the events themselves fire them, at the partition's watermark.
      if (clock === 'event') findings.push(...advanceParity(state, pc));
      return records(findings);
    },
    tick(state: ParityState, ctx: HandlerContext) {
      return records(advanceParity(state, context(state, ctx)));
    },
    ...(table ? { tables: [{ topic: stateTopic(name), table }] } : {}),
    recentChanges: table,
    advance: (state: ParityState, now: number) =>
      records(advanceParity(state, { ...context(state, ctxAt(now, topics, name)), now })),
  };
}

function apply(state: ParityState, event: InputEvent, pc: ParityContext): Finding[] {
  switch (event.type) {
    case EVENT_TYPES.contentUpserted:
    case EVENT_TYPES.contentDeleted:
      return applyContentEvent(state, event as ContentEvent, pc);
    case EVENT_TYPES.indexUpserted:
    case EVENT_TYPES.indexRemoved:
    case EVENT_TYPES.connectorRun:
      return applySyncEvent(state, event as SyncEvent, pc);
    case EVENT_TYPES.inventorySnapshot:
      return applyInventoryChunk(state, event as InventorySnapshotEvent, pc);
    default:
      return [];
  }
}

function ctxAt(now: number, topics: TopicCatalog, service: string): HandlerContext {
  return { now, partition: -1, service, topics, metrics: noopMetrics };
}
