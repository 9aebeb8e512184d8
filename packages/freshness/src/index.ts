// @tidemark/freshness: review clocks, sync-lag SLAs and connector heartbeats over a compact per-partition ledger.
export { FRESHNESS_CHECKS, FRESHNESS_SEVERITY, enabled, validatePolicy } from './policy.js';
export type { FreshnessPolicy, FreshnessSettings } from './policy.js';
export { settingsFromContracts, NO_CONTRACT_POLICY } from './contracts.js';
export type { FreshnessContractSource } from './contracts.js';
export {
  FreshnessLedger,
  LedgerFormatError,
  LedgerCapacityError,
  LEDGER_DEFAULTS,
  DOC_FLAGS,
  DEADLINE,
} from './ledger.js';
export type { FreshnessLedgerOptions, ConnectorState } from './ledger.js';
export { applyEvent, advanceTo } from './checks.js';
export type { FreshnessInputEvent, FreshnessOutcome, SyncLagObservation } from './checks.js';
export {
  syncLagFinding,
  reviewFinding,
  connectorSilentFinding,
  connectorFailingFinding,
} from './findings.js';
export type { ReviewResolution } from './findings.js';
export { DeadlineHeap } from './deadlines.js';
export { packTraceparent, unpackTraceparent, TRACEPARENT_BYTES } from './traces.js';
export { PendingPool } from './pending.js';
export { StringTable } from './interning.js';
export {
  createFreshnessService,
  FRESHNESS_SERVICE,
  FRESHNESS_TOPOLOGY,
  FRESHNESS_METRICS,
  SYNC_LAG_METRIC,
} from './service.js';
export type { FreshnessServiceOptions } from './service.js';
