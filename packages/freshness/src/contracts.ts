import type { FindingOwner } from '@tidemark/core';
import type { FreshnessPolicy, FreshnessSettings } from './policy.js';

// Declared structurally (the subset of @tidemark/contracts' ContractSet these checks read) so this pure
// package needs no dependency on the contract loader; a ContractSet satisfies it as is.

interface OwnerLike {
  readonly steward?: string | undefined;
  readonly team?: string | undefined;
  readonly platformOwner?: string | undefined;
}

interface ContractRefLike {
  readonly file: string;
  readonly version: string;
}

/** What the freshness checks read from resolved contracts (`ContractSet` of @tidemark/contracts fits). */
export interface FreshnessContractSource {
  settingsFor(
    system: string,
    contentClass?: string,
  ):
    | {
        readonly contract: ContractRefLike;
        readonly shadow: boolean;
        readonly owner: OwnerLike;
        readonly labels: Readonly<Record<string, string>>;
        readonly slas: {
          readonly reviewIntervalMs: number | undefined;
          readonly syncLagMs: number;
        };
      }
    | undefined;
  connectorSettings(
    system: string,
    connector: string,
  ):
    | {
        readonly contract: ContractRefLike;
        readonly shadow: boolean;
        readonly owner: OwnerLike;
        readonly labels: Readonly<Record<string, string>>;
        readonly heartbeatMs: number;
        readonly failingRuns: number;
      }
    | undefined;
}

/** The policy of a system without a contract: nothing to hold it to, so every freshness check is off. */
export const NO_CONTRACT_POLICY: FreshnessPolicy = Object.freeze({
  syncLagMs: 0,
  reviewIntervalMs: 0,
  heartbeatMs: 0,
  failingRuns: 0,
  owner: Object.freeze({}),
});

function owner(from: OwnerLike): FindingOwner {
  const out: FindingOwner = {};
  if (from.steward) out.steward = from.steward;
  if (from.team) out.team = from.team;
  if (from.platformOwner) out.platformOwner = from.platformOwner;
  return out;
}

/** Freshness settings backed by resolved contracts: SLAs per (system, content class), heartbeats per connector. */
export function settingsFromContracts(contracts: FreshnessContractSource): FreshnessSettings {
  return (system, contentClass, connector) => {
    if (connector !== undefined) {
      const c = contracts.connectorSettings(system, connector);
      if (!c) return NO_CONTRACT_POLICY;
      return {
        syncLagMs: 0,
        reviewIntervalMs: 0,
        heartbeatMs: c.heartbeatMs,
        failingRuns: c.failingRuns,
        owner: owner(c.owner),
        contract: { file: c.contract.file, version: c.contract.version },
        labels: c.labels,
        shadow: c.shadow,
      };
    }
    const s = contracts.settingsFor(system, contentClass);
    if (!s) return NO_CONTRACT_POLICY;
    return {
      syncLagMs: s.slas.syncLagMs,
      reviewIntervalMs: s.slas.reviewIntervalMs ?? 0,
      heartbeatMs: 0,
      failingRuns: 0,
      owner: owner(s.owner),
      contract: { file: s.contract.file, version: s.contract.version },
      labels: s.labels,
      shadow: s.shadow,
    };
  };
}
