// What every part of the contract checker reads besides the partition's state: the contracts, the service's name,
// the global document registry and the limits. `createContractCheckerService` builds it once and passes it as the
// first argument to documents, references, null rates and shadow diffs (instead of closing over it), so a reader
// and go-to-definition can follow an event from `handle` to the finding it emits.
import {
  findingRecord,
  type Finding,
  type HandlerContext,
  type OutputRecord,
} from '@tidemark/core';
import type { ContractSet } from '@tidemark/contracts';
import type { JournaledRegistry } from './registry-journal.js';

/** The contract checker's settings and shared table, fixed at construction (options already validated). */
export interface CheckerContext {
  readonly contracts: ContractSet;
  /** Service name: the findings' and dead letters' source; names the changelog and internal topics. */
  readonly name: string;
  /** Topic of the global document registry (a document's record on upsert and delete, its tombstone on purge). */
  readonly registryTopic: string;
  /** The global document registry this instance reads. */
  readonly registry: JournaledRegistry;
  /** How far ahead of `now` an event's time may be and still move the watermark and count into a window. */
  readonly maxFutureSkewMs: number;
  /** How long a deleted document is remembered before its entries are tombstoned. */
  readonly deletedRetentionMs: number;
  /** Length of a shadow-diff period. */
  readonly shadowDiffPeriodMs: number;
}

/** The output record of a finding this checker emits. */
export function emit(checker: CheckerContext, finding: Finding, ctx: HandlerContext): OutputRecord {
  return findingRecord(finding, { service: checker.name, topics: ctx.topics });
}
