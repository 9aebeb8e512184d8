import type { FindingOwner } from '@tidemark/core';
import {
  DEFAULT_PARITY_SETTINGS,
  paritySettingsProblems,
  type ParitySettings,
  type ParitySettingsResolver,
} from './settings.js';
import { ConfigError } from '@tidemark/core';

// Declared structurally (the subset of @tidemark/contracts' ContractSet that parity reads) so this pure
// package needs no dependency on the contract loader; a ContractSet satisfies it as is.

interface OwnerLike {
  readonly steward?: string | undefined;
  readonly team?: string | undefined;
  readonly platformOwner?: string | undefined;
}

/** What parity reads from resolved contracts (`ContractSet` of @tidemark/contracts fits). */
export interface ParityContractSource {
  settingsFor(
    system: string,
    contentClass?: string,
  ):
    | {
        readonly contract: { readonly file: string; readonly version: string };
        readonly shadow: boolean;
        readonly owner: OwnerLike;
        readonly labels: Readonly<Record<string, string>>;
        readonly slas: {
          readonly syncLagMs: number;
          readonly deleteSlaMs: number;
          readonly aclSlaMs: number;
        };
        readonly parity: {
          readonly massRemoval: {
            readonly share: number;
            readonly windowMs: number;
            readonly minDocuments: number;
          };
          readonly inventoryToleranceMs: number;
          readonly snapshotExpiryMs: number;
          readonly maxDocumentFindings: number;
        };
      }
    | undefined;
}

/** Settings contracts do not carry. */
export interface ContractParityOptions {
  /** @default DEFAULT_PARITY_SETTINGS.sampleSize */
  sampleSize?: number;
  /** @default DEFAULT_PARITY_SETTINGS.ledgerRetentionMs */
  ledgerRetentionMs?: number;
}

function owner(from: OwnerLike): FindingOwner {
  const out: FindingOwner = {};
  if (from.steward !== undefined) out.steward = from.steward;
  if (from.team !== undefined) out.team = from.team;
  if (from.platformOwner !== undefined) out.platformOwner = from.platformOwner;
  return out;
}

/**
 * A ParitySettingsResolver reading resolved contracts. A system without a contract is still checked, with
 * DEFAULT_PARITY_SETTINGS and no owner: a deletion or permission that never reached the index matters
 * whether or not anyone wrote a contract. Results are cached per (system, class).
 */
export function contractParitySettings(
  contracts: ParityContractSource,
  {
    sampleSize = DEFAULT_PARITY_SETTINGS.sampleSize,
    ledgerRetentionMs = DEFAULT_PARITY_SETTINGS.ledgerRetentionMs,
  }: ContractParityOptions = {},
): ParitySettingsResolver {
  const fallback: ParitySettings = Object.freeze({
    ...DEFAULT_PARITY_SETTINGS,
    sampleSize,
    ledgerRetentionMs,
  });
  const problems = paritySettingsProblems(fallback);
  if (problems.length > 0) throw new ConfigError('invalid parity settings', problems);
  const cache = new Map<string, ParitySettings>();
  return (system, contentClass) => {
    const key = JSON.stringify([system, contentClass ?? null]);
    let settings = cache.get(key);
    if (settings === undefined) {
      const resolved = contracts.settingsFor(system, contentClass);
      settings = resolved
        ? Object.freeze({
            deleteSlaMs: resolved.slas.deleteSlaMs,
            aclSlaMs: resolved.slas.aclSlaMs,
            syncLagMs: resolved.slas.syncLagMs,
            massRemoval: Object.freeze({ ...resolved.parity.massRemoval }),
            inventoryToleranceMs: resolved.parity.inventoryToleranceMs,
            snapshotExpiryMs: resolved.parity.snapshotExpiryMs,
            maxDocumentFindings: resolved.parity.maxDocumentFindings,
            sampleSize,
            ledgerRetentionMs,
            owner: owner(resolved.owner),
            contract: { file: resolved.contract.file, version: resolved.contract.version },
            ...(resolved.shadow ? { shadow: true } : {}),
            ...(Object.keys(resolved.labels).length > 0 ? { labels: { ...resolved.labels } } : {}),
          })
        : fallback;
      cache.set(key, settings);
    }
    return settings;
  };
}
