// @tidemark/sim: a deterministic simulator of knowledge-sync pipelines with injected faults and their ground
// truth, and the scorecard that grades Tidemark's findings against that truth. Pure: no I/O, no clock.
export { simulate, DEFAULT_SYSTEMS } from './simulate.js';
export type { SimulateOptions, SimResult, SimMeta } from './simulate.js';
export type { SimRecord, TruthEntry, TruthSubject } from './types.js';
export {
  FAULT_KINDS,
  FAULT_KEYS,
  POISON_FORMS,
  SCHEMA_FORMS,
  REFERENCE_FORMS,
  validateFaultPlan,
  parseFaultPlan,
  resolveOffset,
} from './faults.js';
export type { FaultKind, FaultPlan, FaultSpec } from './faults.js';
export { DEFAULT_PROFILES, profileFor, docIdFor } from './profiles.js';
export type { SystemProfile, ContentClassProfile } from './profiles.js';
export { createRng, hash32, mix32, unitHash, hashString } from './prng.js';
export type { Rng } from './prng.js';
export { DEFAULT_FAULTS_YAML, defaultFaultPlan } from './default-faults.js';
export { score, readFinding, readTruth, truthMatches, MATCH_KEYS } from './score.js';
export { failures, formatScorecard } from './scorecard.js';
export type { ScoreThresholds } from './scorecard.js';
export type {
  ScoredFinding,
  ScoreOptions,
  Scorecard,
  CheckScore,
  TimeToDetect,
  FalseAlarm,
} from './score.js';
export { alignProfiles } from './align.js';
