// @tidemark/contract-checks: the contract checker's logic — every contract rule on every content change.
export { evaluateDocument } from './evaluate.js';
export type { Violation } from './evaluate.js';
export {
  createContractCheckerService,
  CONTRACT_CHECKER,
  CONTRACT_CHECKER_TOPOLOGY,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  MIN_DELETED_RETENTION_MS,
  contractCheckerTopics,
} from './service.js';
export type { ContractCheckerOptions } from './service.js';
export { CONTRACT_CHECKER_METRICS } from './metrics.js';
export type { ContractCheckerEvent, FramedDecoder, SchemaViolation } from './decode.js';
export { ContractCheckerState } from './state.js';
export type {
  DocumentEntry,
  ReferenceEntry,
  OpenFinding,
  NullRateDecision,
  WindowCounts,
} from './state.js';
export {
  DocumentRegistry,
  documentRegistryTopic,
  registryRecord,
  schemaRegistryOutage,
} from './registry.js';
export { JournaledRegistry, REGISTRY_JOURNAL_LIMIT } from './registry-journal.js';
export type { RegistryChanges } from './registry-journal.js';
export {
  nullRateTopic,
  NULL_RATE_PARTIAL_TYPE,
  NULL_RATE_LATENESS_MS,
  NULL_RATE_SETTLE_MS,
  NullRatePartialSchema,
} from './null-rate.js';
export type { NullRatePartial, NullRateVerdict } from './null-rate.js';
