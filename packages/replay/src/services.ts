import { createContractCheckerService, type FramedDecoder } from '@tidemark/contract-checks';
import type { ContractSet } from '@tidemark/contracts';
import { resolveTopics, type TopicCatalog } from '@tidemark/core';
import { createDriftService } from '@tidemark/drift';
import { createFreshnessService, settingsFromContracts } from '@tidemark/freshness';
import { contractParitySettings, createParityService } from '@tidemark/parity';
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

/** Names of the services replayServices builds, in the order the replay host visits them. */
export const REPLAY_SERVICE_ORDER = [
  'contract-checker',
  'freshness-monitor',
  'parity-verifier',
  'drift-detector',
  'alert-router',
] as const;

/**
 * The same service compositions the Kafka services run (services/*\/src/main.ts), built from contracts:
 * contract-checker, freshness-monitor, parity-verifier, drift-detector (when a contract defines drift features) and
 * (with routing) alert-router, in that fixed order. Fresh instances on every call, so two replays (e.g. a backtest's
 * old and new contracts) never share a table or a cache.
 */
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
      labels: contracts,
    }) as unknown as ReplayService,
    createParityService({
      settings: contractParitySettings(contracts),
      topics,
    }) as unknown as ReplayService,
  ];
  // The drift-detector refuses to start without a drift feature (ConfigError); replay simply runs without it then.
  if (contracts.driftFeatures().length > 0) {
    services.push(createDriftService({ contracts, topics }) as unknown as ReplayService);
  }
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
