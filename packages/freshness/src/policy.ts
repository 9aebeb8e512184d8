import { ConfigError, type FindingOwner, type Severity } from '@tidemark/core';

/** The freshness SLAs and routing facts of one source system (and content class), as the contracts define them. */
export interface FreshnessPolicy {
  /** Longest a source change may wait for the index; 0 or Infinity turns the sync-lag check off. */
  syncLagMs: number;
  /** How long a review attestation (`reviewedAt`) stays valid; 0 or Infinity turns the review clock off. */
  reviewIntervalMs: number;
  /** Longest a connector may go without a succeeded run; 0 or Infinity turns the heartbeat off. */
  heartbeatMs: number;
  /** Failed runs in a row that make a connector failing; 0 or Infinity turns the check off. */
  failingRuns: number;
  /** Team and platform owner to route to; a document's own `owner` becomes the steward. */
  owner: FindingOwner;
  /** The contract file and version these SLAs come from, copied onto every finding. */
  contract?: { file: string; version: string };
  /** Extra routing labels copied onto every finding. */
  labels?: Readonly<Record<string, string>>;
  /** The contract is in shadow mode: findings are recorded with `shadow: true`, never alerted. */
  shadow?: boolean;
}

/**
 * Resolves the policy of a system and content class (document checks) or of a system's connector
 * (connector checks: called as `(system, undefined, connector)`, only the heartbeat fields matter).
 * `settingsFromContracts` builds one from `contracts/`; tests and replay can pass any function.
 */
export type FreshnessSettings = (
  system: string,
  contentClass?: string,
  connector?: string,
) => FreshnessPolicy;

/** Check ids this package emits (spec/outputs.md). */
export const FRESHNESS_CHECKS = {
  syncLag: 'freshness.sync-lag',
  reviewOverdue: 'freshness.review-overdue',
  connectorSilent: 'freshness.connector-silent',
  connectorFailing: 'freshness.connector-failing',
} as const;

/**
 * Severity of each check. A silent connector stops every document of its system at once, so it is critical;
 * a lagging document or a failing connector needs the platform owner soon (high); an overdue review is
 * steward work measured in days (warning).
 */
export const FRESHNESS_SEVERITY: Readonly<Record<keyof typeof FRESHNESS_CHECKS, Severity>> = {
  syncLag: 'high',
  reviewOverdue: 'warning',
  connectorSilent: 'critical',
  connectorFailing: 'high',
};

/** Whether a duration or count from a policy switches its check on (positive and finite). */
export function enabled(value: number): boolean {
  return value > 0 && Number.isFinite(value);
}

const NUMERIC_FIELDS = ['syncLagMs', 'reviewIntervalMs', 'heartbeatMs', 'failingRuns'] as const;

/** Checks a resolved policy once per system/class; throws ConfigError listing every bad field. */
export function validatePolicy(policy: FreshnessPolicy, where: string): FreshnessPolicy {
  const problems: string[] = [];
  if (typeof policy !== 'object' || policy === null) {
    throw new ConfigError('invalid freshness policy', [
      `${where}: settings returned ${String(policy)}`,
    ]);
  }
  for (const field of NUMERIC_FIELDS) {
    const value: unknown = policy[field];
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      problems.push(`${where}: ${field} must be a number ≥ 0 (or Infinity), got ${String(value)}`);
    }
  }
  if (typeof policy.owner !== 'object' || policy.owner === null) {
    problems.push(`${where}: owner must be an object`);
  }
  if (problems.length > 0) throw new ConfigError('invalid freshness policy', problems);
  return policy;
}
