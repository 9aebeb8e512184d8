// The contract checker as a ServiceDefinition: this file validates the options, builds the checker's context and
// routes each event and tick to the concept that handles it. Follow an event from `handle`: decode.ts (records to
// events, schema violations), documents.ts (revisions and deletions: fire/resolve), references.ts (scheduled and
// due reference checks), null-rate.ts and null-rate-findings.ts (windows, partials, decisions), shadow-diff.ts
// (the shadow candidate's tally); findings.ts holds what their findings share.
import {
  EVENT_TYPES,
  type HandlerContext,
  type InternalTopic,
  type InputRecord,
  type OutputRecord,
  type ServiceDefinition,
  type ServiceTopology,
  type TopicCatalog,
} from '@tidemark/core';
import type { ContractSet } from '@tidemark/contracts';
import type { CheckerContext } from './context.js';
import {
  createContractCheckerDecoder,
  schemaViolation,
  type ContractCheckerEvent,
  type FramedDecoder,
} from './decode.js';
import { purgeDeleted, removeDocument, upsertDocument } from './documents.js';
import { CONTRACT_CHECKER_METRICS, DOCUMENTS_METRIC, REGISTRY_METRIC } from './metrics.js';
import { mergeNullRatePartial, NULL_RATE_PARTIAL_TYPE, nullRateTopic } from './null-rate.js';
import { nullRateTick } from './null-rate-findings.js';
import { checkDueReferences } from './references.js';
import { documentRegistryTopic } from './registry.js';
import { JournaledRegistry } from './registry-journal.js';
import { closeShadowDiffs } from './shadow-diff.js';
import { DEFAULT_SHADOW_DIFF_PERIOD_MS } from './shadow.js';
import { ContractCheckerState } from './state.js';

/** Service name: log field, CloudEvent source, changelog topic. */
export const CONTRACT_CHECKER = 'contract-checker';

/** The contract checker's ServiceDefinition; its handler and tick are synchronous. */
export interface ContractCheckerService extends ServiceDefinition<
  ContractCheckerState,
  ContractCheckerEvent
> {
  handle(
    state: ContractCheckerState,
    event: ContractCheckerEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[];
  tick(state: ContractCheckerState, ctx: HandlerContext): OutputRecord[];
  /** Synchronous for JSON records; a promise for Schema Registry framed ones (the registry is asked). */
  decode(record: InputRecord): ContractCheckerEvent | Promise<ContractCheckerEvent>;
  /** The global document registry this instance reads. */
  registry: JournaledRegistry;
  /**
   * The earliest event time at which `tick` has work for this partition (a reference, null-rate window or decision
   * due, a deleted document to forget; -Infinity when registry changes wait to be checked), Infinity when none:
   * lets an event-time host skip ticks that would do nothing.
   */
  nextTick(state: ContractCheckerState): number;
}

/** Options of the contract-checker composition. */
export interface ContractCheckerOptions {
  contracts: ContractSet;
  topics: TopicCatalog;
  /** Schema Registry deserializer for framed records; without one, framed records go to the DLQ. */
  framed?: FramedDecoder;
  /** The registry table; pass one to share it with a host, else one is created. */
  registry?: JournaledRegistry;
  /**
   * How far ahead of `ctx.now` an event's time may be and still move the partition's watermark and count into a
   * null-rate window (a producer with a broken clock must not close every window for good). @default 3600000
   */
  maxFutureSkewMs?: number;
  /**
   * How long a deleted document is remembered (to order late revisions, and to report a reference to it as
   * deleted) before its state entry and its registry entry are tombstoned. @default the longest reference grace
   * period of any contract, at least 1 hour
   */
  deletedRetentionMs?: number;
  /** Service name; also names its changelog and internal topics. @default 'contract-checker' */
  name?: string;
  /**
   * Length of a shadow-diff period: each partition tallies a system's shadow candidate against its enforced
   * contract and emits one `contract.shadow-diff` finding per period. @default 3600000
   */
  shadowDiffPeriodMs?: number;
}

/**
 * The contract checker as a ServiceDefinition: evaluates every rule of the contract on each content change,
 * fires and resolves findings per document, checks references after their grace period against the global
 * document registry, and decides null rates per window over all partitions.
 */
export function createContractCheckerService(
  options: ContractCheckerOptions,
): ContractCheckerService {
  const { contracts, topics } = options;
  const name = options.name ?? CONTRACT_CHECKER;
  const registryTopic = documentRegistryTopic(name);
  const registry = options.registry ?? new JournaledRegistry();
  const maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const deletedRetentionMs = options.deletedRetentionMs ?? defaultDeletedRetention(contracts);
  const shadowDiffPeriodMs = options.shadowDiffPeriodMs ?? DEFAULT_SHADOW_DIFF_PERIOD_MS;
  if (!Number.isFinite(shadowDiffPeriodMs) || shadowDiffPeriodMs <= 0) {
    throw new RangeError(
      `contract-checker: shadowDiffPeriodMs must be a positive number of ms, got ${String(shadowDiffPeriodMs)}`,
    );
  }
  for (const [field, value] of [
    ['maxFutureSkewMs', maxFutureSkewMs],
    ['deletedRetentionMs', deletedRetentionMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `contract-checker: ${field} must be a non-negative number of ms, got ${String(value)}`,
      );
    }
  }
  const checker: CheckerContext = {
    contracts,
    name,
    registryTopic,
    registry,
    maxFutureSkewMs,
    deletedRetentionMs,
    shadowDiffPeriodMs,
  };

  function handle(
    state: ContractCheckerState,
    event: ContractCheckerEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[] {
    switch (event.type) {
      case 'tidemark.schema-violation':
        return schemaViolation(checker, event, record, ctx);
      case NULL_RATE_PARTIAL_TYPE:
        mergeNullRatePartial(state, event.data);
        return [];
      case EVENT_TYPES.contentUpserted:
        return upsertDocument(checker, state, event, ctx);
      case EVENT_TYPES.contentDeleted:
        return removeDocument(checker, state, event, ctx);
      default:
        return []; // other types on the content topic are not the checker's business
    }
  }

  function tick(state: ContractCheckerState, ctx: HandlerContext): OutputRecord[] {
    const out = checkDueReferences(checker, state, ctx);
    out.push(...purgeDeleted(checker, state, ctx.now));
    out.push(...closeShadowDiffs(checker, state, ctx));
    ctx.metrics.record(
      DOCUMENTS_METRIC,
      { partition: String(ctx.partition) },
      state.documents.size(),
    );
    ctx.metrics.record(REGISTRY_METRIC, {}, registry.size);
    out.push(...nullRateTick(checker, state, ctx));
    return out;
  }

  return {
    name,
    topology: CONTRACT_CHECKER_TOPOLOGY,
    inputs: [topics.contentChanges, nullRateTopic(name)],
    createState: () => new ContractCheckerState(),
    decode: createContractCheckerDecoder(options.framed),
    handle,
    tick,
    nextTick: (state) => state.nextDue(registry.cursor > state.registryCursor),
    metrics: CONTRACT_CHECKER_METRICS,
    tables: [{ topic: registryTopic, table: registry }],
    registry,
  };
}

/** Default of `maxFutureSkewMs`: the runtime's MAX_FUTURE_SKEW default. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 3_600_000;
/** The shortest retention of deleted documents when no contract has a longer reference grace period. */
export const MIN_DELETED_RETENTION_MS = 3_600_000;

/** The longest reference grace period of any contract (system or class), at least MIN_DELETED_RETENTION_MS. */
function defaultDeletedRetention(contracts: ContractSet): number {
  let longest = MIN_DELETED_RETENTION_MS;
  for (const system of contracts.systems) {
    for (const cls of [undefined, ...contracts.contentClasses(system)]) {
      for (const ref of contracts.settingsFor(system, cls)?.references ?? [])
        longest = Math.max(longest, ref.gracePeriodMs);
    }
  }
  return longest;
}

/** Topics a contract checker named `name` uses besides the catalog's. */
export function contractCheckerTopics(name = CONTRACT_CHECKER): InternalTopic[] {
  return [
    {
      name: nullRateTopic(name),
      compacted: false,
      coPartitioned: true,
      purpose: 'contract-checker: null-rate partial counts, re-keyed by system/class/field',
    },
    {
      name: documentRegistryTopic(name),
      compacted: true,
      coPartitioned: false,
      purpose: 'contract-checker: every known document and whether it is deleted (global table)',
    },
  ];
}

/** The contract checker's internal topics per instance name and the format of its changelog records. */
export const CONTRACT_CHECKER_TOPOLOGY: ServiceTopology = {
  service: CONTRACT_CHECKER,
  internalTopics: contractCheckerTopics,
  stateFormat: 1,
};
