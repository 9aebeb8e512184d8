import {
  ConfigError,
  EVENT_TYPES,
  createEnvelopeParser,
  findingRecord,
  formatDuration,
  formatTime,
  noopMetrics,
  parseDuration,
  parseTime,
  resolveTopics,
  stateTopic,
  type ContentEvent,
  type Finding,
  type HandlerContext,
  type InputEvent,
  type InputRecord,
  type InternalTopic,
  type InventorySnapshotEvent,
  type OutputRecord,
  type ServiceDefinition,
  type ServiceTopology,
  type SyncEvent,
  type TopicCatalog,
} from '@tidemark/core';
import { advanceParity } from './advance.js';
import type { ParityContext } from './context.js';
import { applyContentEvent, applySyncEvent } from './ledger.js';
import { FutureEventError } from './errors.js';
import type { IdHasher } from './inventory-diff.js';
import {
  MASS_PARTIAL_TYPE,
  MassPartialEventSchema,
  applyMassPartial,
  collectMassPartials,
  massPartialEvent,
  massPartialsDue,
  massRemovalTopic,
  type MassPartialEvent,
} from './mass-removal.js';
import { RecentChangesTable } from './recent.js';
import type { ParitySettingsResolver } from './settings.js';
import { applyInventoryChunk } from './snapshots.js';
import { ParityState } from './state.js';

/** Default MAX_FUTURE_SKEW: how far ahead of its partition's watermark an event may be dated. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 3_600_000;

/**
 * The parity-verifier's own environment, besides the runtime's: `MAX_FUTURE_SKEW` (a duration such as `1h`). Throws
 * ConfigError naming the variable when it is not a duration.
 */
export function parityOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Pick<ParityServiceOptions, 'maxFutureSkewMs'> {
  const skew = env['MAX_FUTURE_SKEW'];
  if (!skew) return {};
  try {
    return { maxFutureSkewMs: parseDuration(skew) };
  } catch (error) {
    throw new ConfigError('invalid parity-verifier environment', [
      `MAX_FUTURE_SKEW ${(error as Error).message}`,
    ]);
  }
}

/** Default service name: CloudEvent source `tidemark/parity-verifier`, changelog `tidemark.parity-verifier.state`. */
export const PARITY_SERVICE_NAME = 'parity-verifier';

/** Topics a parity-verifier named `name` uses besides the catalog's, for `tidemark topics create` and `doctor`. */
export function parityVerifierTopics(name = PARITY_SERVICE_NAME): InternalTopic[] {
  return [
    {
      // Read as a global table (recent changes across partitions): it must exist before the service starts.
      name: stateTopic(name),
      compacted: true,
      coPartitioned: true,
      purpose: 'parity-verifier: state changelog, also read as the recent-changes table',
    },
    {
      name: massRemovalTopic(name),
      compacted: false,
      coPartitioned: true,
      purpose: 'parity-verifier: mass-removal partial counts per partition, re-keyed by system',
    },
  ];
}

/** The parity-verifier's internal topics per instance name and the format of its changelog records. */
export const PARITY_TOPOLOGY: ServiceTopology = {
  service: PARITY_SERVICE_NAME,
  internalTopics: parityVerifierTopics,
  stateFormat: 1,
};

/** What the parity-verifier consumes: the input events and its own mass-removal partials. */
export type ParityEvent = InputEvent | MassPartialEvent;

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
  /**
   * An input event dated more than this ahead of both the partition's watermark (the newest event time accepted so
   * far) and the host's `now` is dead-lettered (FutureEventError) and never moves a watermark, a ledger time or the
   * recent-changes table: one record dated 2099 would otherwise push every other document out of the table's
   * horizon. @default 1h
   */
  maxFutureSkewMs?: number;
}

/** The parity-verifier's ServiceDefinition, plus its recent-changes table (when used). */
export type ParityService = ServiceDefinition<ParityState, ParityEvent> & {
  recentChanges: RecentChangesTable | undefined;
  /**
   * Fires every deadline due by `now` (e.g. to flush a replay up to its end time); returns the finding records and
   * the mass-removal partials owed.
   */
  advance(state: ParityState, now: number): OutputRecord[];
};

/**
 * Builds the parity-verifier: consumes content changes, sync events, inventory snapshots and its own mass-removal
 * partials, and emits `parity.*` findings to the findings topic. All inputs must be co-partitioned (the runtime's
 * rule: same partition count); parity itself only needs a document's content and sync events on one partition,
 * reads another partition's documents for inventory reconciliation through the recent-changes table, and decides
 * mass removal per system from the partials every partition sends to `tidemark.<name>.mass-removal`.
 */
export function createParityService({
  settings,
  topics = resolveTopics(),
  name = PARITY_SERVICE_NAME,
  clock = 'host',
  recentChanges = new RecentChangesTable(),
  hasher,
  maxFutureSkewMs = DEFAULT_MAX_FUTURE_SKEW_MS,
}: ParityServiceOptions): ParityService {
  if (!(Number.isFinite(maxFutureSkewMs) && maxFutureSkewMs >= 0)) {
    throw new RangeError(
      `maxFutureSkewMs must be a non-negative number of ms, got ${maxFutureSkewMs}`,
    );
  }
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
  const partialsTopic = massRemovalTopic(name);
  // Deadlines due, then what this partition's removal counts now say to each system's decider.
  const advance = (state: ParityState, pc: ParityContext): OutputRecord[] => [
    ...records(advanceParity(state, pc)),
    ...collectMassPartials(state, pc).map((partial) => ({
      topic: partialsTopic,
      key: partial.system,
      value: JSON.stringify(massPartialEvent(partial, name)),
    })),
  ];
  const parser = createEnvelopeParser<ParityEvent>({
    extraTypes: { [MASS_PARTIAL_TYPE]: MassPartialEventSchema },
  });

  return {
    name,
    topology: PARITY_TOPOLOGY,
    inputs: [topics.contentChanges, topics.syncEvents, topics.inventorySnapshots, partialsTopic],
    createState: (partition) => new ParityState(partition, hasher ? { hasher } : {}),
    decode: (record: InputRecord) => parser.parse(record),
    handle(state: ParityState, event: ParityEvent, _record: InputRecord, ctx: HandlerContext) {
      if (event.type === MASS_PARTIAL_TYPE) {
        // A decision on counts already gathered, not on time passing: it never moves this partition's watermark.
        return records(applyMassPartial(state, event, context(state, ctx)));
      }
      const eventTime = parseTime(event.time);
      // Ahead of both the partition's watermark and the host's clock: an idle partition's next event is often hours
      // past its watermark but never past the wall clock. (Hosts on event time pass a `now` that already includes
      // the record, so there it is their clock clamp that keeps such a record out.)
      // On clock 'event' the host's `now` means nothing: the watermark alone (none yet: nothing to weigh against).
      const reference = clock === 'event' ? state.watermark : Math.max(state.watermark, ctx.now);
      if (reference > 0 && eventTime > reference + maxFutureSkewMs) {
        throw new FutureEventError(
          `${event.type} event ${event.id} is dated ${event.time}, ${formatDuration(eventTime - reference)} ahead of the partition's watermark and clock (${formatTime(reference)}): more than MAX_FUTURE_SKEW (${formatDuration(maxFutureSkewMs)}); a producer clock is wrong`,
          { eventTime: event.time, watermark: formatTime(reference), maxFutureSkewMs },
        );
      }
      const pc = context(state, ctx, eventTime);
      const out = records(apply(state, event, pc));
      // Deadlines fire on ticks, which the host runs once every input is read up to their time. Only a host that
      // never ticks (clock 'event') lets the events themselves fire them, at the partition's watermark.
      if (clock === 'event') out.push(...advance(state, pc));
      return out;
    },
    tick(state: ParityState, ctx: HandlerContext) {
      return advance(state, context(state, ctx));
    },
    // A tick fires deadlines and sends the partials whose counts moved (advance): nothing before the earlier of both.
    nextTick: (state: ParityState) =>
      Math.min(
        state.nextDeadline(),
        massPartialsDue(state, (system) => settings(system)),
      ),
    ...(table ? { tables: [{ topic: stateTopic(name), table }] } : {}),
    recentChanges: table,
    advance: (state: ParityState, now: number) =>
      advance(state, { ...context(state, ctxAt(now, topics, name)), now }),
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
