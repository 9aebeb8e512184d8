// Contracts → drift configuration: each contract's `drift:` features (already merged and defaulted by
// @tidemark/contracts) become DriftFeatureConfig entries scoped to their system, with the owner and labels the
// contract gives the system (or the feature's single content class).
import { EVENT_TYPES, type FindingOwner } from '@tidemark/core';
import type { ContractSet, DriftFeatureSettings } from '@tidemark/contracts';
import type { DriftConfig, DriftFeatureConfig } from './check/config.js';

/**
 * Event types a feature counts. Numeric and categorical features read content upserts (deletes carry no
 * metadata). Volume per system counts every content change; volume per connector counts what the index applied
 * (index events name their connector, content events do not).
 */
export const DRIFT_EVENT_TYPES = {
  field: [EVENT_TYPES.contentUpserted],
  systemVolume: [EVENT_TYPES.contentUpserted, EVENT_TYPES.contentDeleted],
  connectorVolume: [EVENT_TYPES.indexUpserted, EVENT_TYPES.indexRemoved],
} as const;

/** Maps one contract drift feature to the drift check's feature configuration. */
export function driftFeatureFromContract(
  contracts: ContractSet,
  s: DriftFeatureSettings,
): DriftFeatureConfig {
  const classes = s.contentClasses;
  // A class-level feature takes its class's owner and labels; a system-level one the system's.
  const settings = contracts.settingsFor(s.system, classes?.length === 1 ? classes[0] : undefined);
  const owner: FindingOwner = {};
  if (settings?.owner.steward) owner.steward = settings.owner.steward;
  if (settings?.owner.team) owner.team = settings.owner.team;
  if (settings?.owner.platformOwner) owner.platformOwner = settings.owner.platformOwner;
  const eventTypes =
    s.kind !== 'volume'
      ? DRIFT_EVENT_TYPES.field
      : s.by === 'connector'
        ? DRIFT_EVENT_TYPES.connectorVolume
        : DRIFT_EVENT_TYPES.systemVolume;
  return {
    name: s.name,
    kind: s.kind,
    ...(s.field === undefined ? {} : { field: s.field }),
    eventTypes,
    systems: [s.system],
    ...(classes === undefined ? {} : { contentClasses: [...classes] }),
    groupBy: s.kind === 'volume' ? s.by : 'system',
    windowMs: s.windowMs,
    baseline:
      s.baseline.mode === 'rolling'
        ? { mode: 'rolling', windows: s.baseline.windows }
        : {
            // The contract pins "the window starting then".
            mode: 'pinned',
            reference: {
              name: s.baseline.reference,
              from: s.baseline.referenceStartMs,
              to: s.baseline.referenceStartMs + s.windowMs,
            },
          },
    minSamples: s.minSamples,
    thresholds: { ...s.thresholds },
    bins: s.bins,
    topK: s.topK,
    severity: s.severity,
    owner,
    contract: { file: s.contract.file, version: s.contract.version },
    shadow: s.shadow,
    labels: { ...(settings?.labels ?? {}) },
  };
}

/** The drift configuration the contracts describe (every system's features); `settings` adds the global knobs. */
export function driftConfigFromContracts(
  contracts: ContractSet,
  settings: Omit<DriftConfig, 'features'> = {},
): DriftConfig {
  return {
    ...settings,
    features: contracts.driftFeatures().map((s) => driftFeatureFromContract(contracts, s)),
  };
}
