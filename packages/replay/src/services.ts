import { createContractCheckerService, type FramedDecoder } from '@tidemark/contract-checks';
import type { ContractSet, OwnerSettings } from '@tidemark/contracts';
import { resolveTopics, type FindingOwner, type TopicCatalog } from '@tidemark/core';
import { createFreshnessService, settingsFromContracts } from '@tidemark/freshness';
import {
  createParityService,
  DEFAULT_PARITY_SETTINGS,
  paritySettings,
  type ParitySettings,
  type ParitySettingsResolver,
} from '@tidemark/parity';
import {
  createAlertRouterService,
  SilenceTable,
  type RoutingConfig,
  type Silence,
} from '@tidemark/routing';
import type { ReplayService } from './host.js';

/** Options of replayServices. */
export interface ReplayServicesOptions {
  contracts: ContractSet;
  /** The validated routing.yaml; without it no alert-router runs (no alerts, no tickets). */
  routing?: RoutingConfig;
  /** Silences (silences.yaml) the alert-router starts with. @default none */
  silences?: SilenceTable | readonly Silence[];
  /** @default DEFAULT_TOPICS */
  topics?: TopicCatalog;
  /** Schema Registry deserializer for Confluent-framed records; without one they are dead letters, as live. */
  framed?: FramedDecoder;
  /** Leave the alert-router out even when `routing` is given (backtests compare checker findings only). @default false */
  withoutRouter?: boolean;
}

function owner(from: OwnerSettings): FindingOwner {
  const out: FindingOwner = {};
  if (from.steward) out.steward = from.steward;
  if (from.team) out.team = from.team;
  if (from.platformOwner) out.platformOwner = from.platformOwner;
  return out;
}

/**
 * Parity settings from resolved contracts: per (system, class) the delete and ACL SLAs and the sync-lag SLA
 * (`slas.*`), per system the mass-removal guard and inventory settings (`parity.*`), plus owner, contract, shadow
 * mode and labels. A system without a contract gets DEFAULT_PARITY_SETTINGS (the defaults a contract would fill in):
 * a delete that never reaches the index is a problem whether or not anyone wrote a contract for its source.
 */
// TODO(parity): @tidemark/parity has no ContractSet mapping yet (freshness has settingsFromContracts); this one
// belongs there once the parity-verifier service needs it too.
export function paritySettingsFromContracts(contracts: ContractSet): ParitySettingsResolver {
  const cache = new Map<string, ParitySettings>();
  return (system, contentClass) => {
    const id = `${system}\u0000${contentClass ?? ''}`;
    let settings = cache.get(id);
    if (settings === undefined) {
      const s = contracts.settingsFor(system, contentClass);
      settings = s
        ? paritySettings({
            deleteSlaMs: s.slas.deleteSlaMs,
            aclSlaMs: s.slas.aclSlaMs,
            syncLagMs: s.slas.syncLagMs,
            massRemoval: { ...s.parity.massRemoval },
            inventoryToleranceMs: s.parity.inventoryToleranceMs,
            snapshotExpiryMs: s.parity.snapshotExpiryMs,
            maxDocumentFindings: s.parity.maxDocumentFindings,
            owner: owner(s.owner),
            contract: { file: s.contract.file, version: s.contract.version },
            shadow: s.shadow,
            ...(Object.keys(s.labels).length > 0 ? { labels: s.labels } : {}),
          })
        : DEFAULT_PARITY_SETTINGS;
      cache.set(id, settings);
    }
    return settings;
  };
}

/** Names of the services replayServices builds, in the order the replay host visits them. */
export const REPLAY_SERVICE_ORDER = [
  'contract-checker',
  'freshness-monitor',
  'parity-verifier',
  'alert-router',
] as const;

/**
 * The same service compositions the Kafka services run, built from contracts: contract-checker, freshness-monitor,
 * parity-verifier and (with routing) alert-router, in that fixed order. Fresh instances on every call, so two
 * replays (e.g. a backtest's old and new contracts) never share a table or a cache.
 */
// TODO(drift): add createDriftService({ contracts, topics }) from @tidemark/drift between parity and the router once
// it is exported there (it throws ConfigError when the contracts define no drift feature: skip it then).
export function replayServices(options: ReplayServicesOptions): ReplayService[] {
  const { contracts } = options;
  const topics = options.topics ?? resolveTopics();
  const services: ReplayService[] = [
    createContractCheckerService({
      contracts,
      topics,
      ...(options.framed ? { framed: options.framed } : {}),
    }) as unknown as ReplayService,
    createFreshnessService({
      settings: settingsFromContracts(contracts),
      topics,
    }) as unknown as ReplayService,
    createParityService({
      settings: paritySettingsFromContracts(contracts),
      topics,
    }) as unknown as ReplayService,
  ];
  if (options.routing && !options.withoutRouter) {
    const silences =
      options.silences instanceof SilenceTable
        ? options.silences
        : new SilenceTable(options.silences ?? []);
    services.push(
      createAlertRouterService({
        config: options.routing,
        contracts,
        topics,
        silences,
      }) as unknown as ReplayService,
    );
  }
  return services;
}
