// @tidemark/parity: delete, resurrection, ACL and inventory parity between source systems and the index.
export {
  DEFAULT_PARITY_SETTINGS,
  paritySettings,
  paritySettingsProblems,
  staticParitySettings,
} from './settings.js';
export type {
  ParitySettings,
  ParitySettingsOverrides,
  ParitySettingsResolver,
} from './settings.js';
export { contractParitySettings } from './contracts.js';
export type { ContractParityOptions, ParityContractSource } from './contracts.js';
export { PARITY_CHECKS, PARITY_SEVERITY, parityFinding } from './findings.js';
export type { ParityCheck, ParityFindingInput } from './findings.js';
export { IdInventory, diffInventories, hashId, MAX_INVENTORY_REFS } from './inventory-diff.js';
export type { IdHasher, InventoryDiff } from './inventory-diff.js';
export { FIRING, ParityState, isHeld } from './state.js';
export type {
  Deadline,
  DocRecord,
  ParityStateOptions,
  MassDecision,
  MassPart,
  ReconRecord,
  RemovalBucket,
  SideRecord,
  SnapshotRecord,
  SystemRecord,
} from './state.js';
export { applyContentEvent, applySyncEvent } from './ledger.js';
export { deletePending, resurrected } from './delete.js';
export { aclMismatched } from './acl.js';
export { bucketWidth } from './mass-removal.js';
export { applyInventoryChunk } from './snapshots.js';
export { reconcile } from './reconcile.js';
export { advanceParity } from './advance.js';
export type { InFlightLookup, ParityContext } from './context.js';
export { RecentChangesTable } from './recent.js';
export type { RecentChangesOptions } from './recent.js';
export {
  createParityService,
  parityVerifierTopics,
  PARITY_TOPOLOGY,
  parityOptionsFromEnv,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  PARITY_SERVICE_NAME,
} from './service.js';
export type { ParityEvent, ParityService, ParityServiceOptions } from './service.js';
export {
  MASS_PARTIAL_TYPE,
  MassPartialEventSchema,
  applyMassPartial,
  collectMassPartials,
  massPartialEvent,
  massRemovalTopic,
} from './mass-removal.js';
export type { MassPartial, MassPartialEvent } from './mass-removal.js';
export { FutureEventError, InventoryChunkError } from './errors.js';
