// @tidemark/contracts — the contract format (contracts/*.yaml), its loader and linter, and CEL rule compilation.
export {
  loadContracts,
  lintContracts,
  loadContractsOrThrow,
  isContractFile,
  NON_CONTRACT_FILES,
} from './load.js';
export type { ContractFile, LoadResult } from './load.js';
export { formatProblem, formatProblems, sortProblems, ContractLintError } from './problems.js';
export type { LintProblem } from './problems.js';
export { YamlReader, parseSource, parseSingleSource, SourceDocument } from './yaml-source.js';
export type { Located, DocPath } from './yaml-source.js';
export type {
  ContractSet,
  ContractRef,
  ResolvedSettings,
  OwnerSettings,
  EscalationSettings,
  TeamSettings,
  AllowedCheck,
  ReferenceSettings,
  NullRateSettings,
  SlaSettings,
  ParitySettings,
  ConnectorSettings,
  DriftFeatureSettings,
  DriftBaseline,
  DriftThresholds,
} from './resolve.js';
export { compileRule, analyzeExpression, RuleCompileError } from './cel/compile.js';
export type { CompiledRule, RuleSpec, RuleResult } from './cel/compile.js';
export { prepareActivation } from './cel/activation.js';
export type { RuleActivation, PreparedActivation } from './cel/activation.js';
export { toRegistryExpression } from './cel/registry.js';
export { RULE_VARIABLES } from './cel/env.js';
export type { CelProblem, CelKind } from './cel/env.js';
export { planPublish, applyPublish, contractRuleSet, formatPublishPlan } from './publish.js';
export type {
  PublishOptions,
  PublishPlan,
  PublishChange,
  PublishResult,
  CompatibilityStatus,
} from './publish.js';
export { readField, fieldSegments } from './fields.js';
export type { FieldValue } from './fields.js';
export { CONTRACT_DEFAULTS, DRIFT_THRESHOLDS_BY_KIND } from './defaults.js';
export {
  API_VERSION,
  CONTRACT_KINDS,
  SEVERITIES,
  DRIFT_KINDS,
  SourceContractSchema,
  ContentClassSchema,
  OwnersSchema,
  contractJsonSchema,
  renderContractJsonSchema,
} from './schema.js';
export type {
  SourceContractDocument,
  ContentClassDocument,
  OwnersDocument,
  RuleDocument,
  DriftFeatureDocument,
  Severity,
  ContractMode,
} from './schema.js';
