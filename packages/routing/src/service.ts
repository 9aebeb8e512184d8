import {
  EVENT_TYPES,
  EnvelopeError,
  alertRecord,
  createEnvelopeParser,
  findingRecord,
  ticketRecord,
} from '@tidemark/core';
import type {
  Finding,
  FindingEvent,
  HandlerContext,
  InputRecord,
  InternalTopic,
  MetricDefinition,
  MetricsSink,
  OutputRecord,
  ServiceDefinition,
  ServiceTopology,
  TopicCatalog,
} from '@tidemark/core';
import type { ContractSet } from '@tidemark/contracts';
import { ROUTING_DEFAULTS } from './config.js';
import type { RoutingConfig } from './config.js';
import { routingKey } from './labels.js';
import type { OwnersLookup } from './owners.js';
import { createRouter } from './router.js';
import type { Router, RouterOptions } from './router.js';
import { SilenceTable } from './silence.js';
import { RouterState } from './state.js';
import { webhookInternalTopic, webhookMessage, webhookRecord, webhookTopic } from './webhook.js';

/** Default service name: log field, CloudEvent source, changelog `tidemark.alert-router.state`. */
export const ALERT_ROUTER = 'alert-router';

/** The internal topic an alert-router named `name` re-keys findings onto, by routingKey (the system). */
export function repartitionTopic(name: string = ALERT_ROUTER): string {
  return `tidemark.${name}.by-system`;
}

/** Topics an alert-router named `name` uses besides the catalog's (for `tidemark topics create`). */
export function alertRouterTopics(name: string = ALERT_ROUTER): InternalTopic[] {
  return [
    {
      name: repartitionTopic(name),
      compacted: false,
      coPartitioned: true,
      purpose:
        'alert-router: findings re-keyed by system, so every group, inhibition and ticket of a system is in one partition',
    },
    webhookInternalTopic(name),
  ];
}

/** Internal topics of the default alert-router. */
export const ALERT_ROUTER_TOPICS: readonly InternalTopic[] = alertRouterTopics();

/** The alert-router's internal topics per instance name and the format of its changelog records. */
export const ALERT_ROUTER_TOPOLOGY: ServiceTopology = {
  service: ALERT_ROUTER,
  internalTopics: alertRouterTopics,
  stateFormat: 1,
};

/** Options of createAlertRouterService. */
/** Services whose findings the router accepts: the checkers, and the router itself (its envelope.invalid). */
export const KNOWN_FINDING_SOURCES: readonly string[] = [
  'contract-checker',
  'freshness-monitor',
  'parity-verifier',
  'drift-detector',
  ALERT_ROUTER,
];

/**
 * Whether a finding's CloudEvent `source` is one of Tidemark's services: `tidemark/<service>`, or
 * `tidemark/<service>-<instance>` for a renamed deployment (SERVICE_NAME, e.g. the demo's). Anything else on the
 * findings topic is dead-lettered: a producer must not be able to page people or open tickets.
 */
export function isKnownFindingSource(source: string): boolean {
  if (!/^tidemark\/[A-Za-z0-9._-]+$/.test(source)) return false;
  return KNOWN_FINDING_SOURCES.some(
    (known) => source === `tidemark/${known}` || source.startsWith(`tidemark/${known}-`),
  );
}

export interface AlertRouterOptions {
  /** Which finding sources are accepted; others are dead-lettered. @default its own name or isKnownFindingSource */
  acceptSource?: (source: string) => boolean;
  /** The validated routing.yaml. */
  config: RoutingConfig;
  /** Contracts, for ticket owners (class steward, system team, platform owner) and team ticket queues. @default findings' own owners only */
  contracts?: ContractSet;
  topics: TopicCatalog;
  /** Silences from contracts/silences.yaml; the service keeps it fed from the silences topic. @default empty */
  silences?: SilenceTable;
  /** Service name; also names the changelog and the repartition topic. @default ALERT_ROUTER */
  name?: string;
  /** Router tuning (expiry lead, item limits, retention, runbook and generator links). @default ROUTING_DEFAULTS */
  router?: Omit<RouterOptions, 'config' | 'owners' | 'silences'>;
  /** `externalURL` of webhook messages (where people reach Tidemark). @default '' */
  externalUrl?: string;
}

/** The alert-router's ServiceDefinition; its handler and tick are synchronous. */
export interface AlertRouterService extends ServiceDefinition<RouterState, FindingEvent> {
  decode(record: InputRecord): FindingEvent;
  handle(
    state: RouterState,
    event: FindingEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[];
  tick(state: RouterState, ctx: HandlerContext): OutputRecord[];
  /** The silences this instance applies (fed from the silences topic). */
  readonly silences: SilenceTable;
  /** The router it runs. */
  readonly router: Router;
  /** The internal topic findings are re-keyed onto. */
  readonly repartition: string;
  /** The internal topic webhook messages go to (see webhook.ts). */
  readonly webhook: string;
}

/** Metrics the alert-router records. */
export const ALERT_ROUTER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tidemark_router_findings_total',
    help: 'Findings taken in, by stage (rekeyed, shadow, routed) and status',
    kind: 'counter',
    labelNames: ['stage', 'status'],
  },
  {
    name: 'tidemark_router_alerts_total',
    help: 'Alert notifications published to the alerts topic, by receiver and status',
    kind: 'counter',
    labelNames: ['receiver', 'status'],
  },
  {
    name: 'tidemark_router_tickets_total',
    help: 'Ticket actions published to the tickets topic, by action',
    kind: 'counter',
    labelNames: ['action'],
  },
  {
    name: 'tidemark_findings_total',
    help: 'Findings read from the findings topic (shadow ones included), by check, severity and status',
    kind: 'counter',
    labelNames: ['check', 'severity', 'status'],
  },
];

/** Owner fallbacks and team ticket queues from the contracts (class steward, system team, platform owner). */
export function ownersFromContracts(contracts: ContractSet): OwnersLookup {
  return {
    contentClassSteward: (system, contentClass) =>
      contracts.settingsFor(system, contentClass)?.owner.steward,
    systemTeam: (system) => contracts.settingsFor(system)?.owner.team,
    platformOwner: (system) => contracts.settingsFor(system)?.owner.platformOwner,
    ticketQueue: (team) => contracts.teams.get(team)?.ticketQueue,
    teamEscalation: (team) => contracts.teams.get(team)?.escalation,
    systemEscalation: (system, contentClass) =>
      contracts.settingsFor(system, contentClass)?.owner.escalation,
  };
}

/**
 * The alert-router as one ServiceDefinition in two stages. Findings on the findings topic (keyed by their
 * fingerprint) are re-keyed unchanged onto the repartition topic by routingKey (their system); findings on
 * the repartition topic go into the router, whose state for a system therefore lives in one partition.
 * Ticks publish alerts, ticket actions and the router's own findings (which come back through stage one).
 */
export function createAlertRouterService(options: AlertRouterOptions): AlertRouterService {
  const { config, topics } = options;
  const name = options.name ?? ALERT_ROUTER;
  const repartition = repartitionTopic(name);
  const webhook = webhookTopic(name);
  const silences = options.silences ?? new SilenceTable();
  const router = createRouter({
    ...options.router,
    config,
    silences,
    ...(options.contracts ? { owners: ownersFromContracts(options.contracts) } : {}),
  });
  const parser = createEnvelopeParser<FindingEvent>();

  function decode(record: InputRecord): FindingEvent {
    const event = parser.parse(record);
    if (event.type !== EVENT_TYPES.finding) {
      throw new EnvelopeError(
        'unknown-type',
        `record on ${record.topic} is a ${JSON.stringify(event.type)} event; the alert-router takes only ${EVENT_TYPES.finding}`,
      );
    }
    // The router's own findings (e.g. its unowned notices) come back on the findings topic under its own name.
    const accept =
      options.acceptSource ??
      ((source: string) => source === `tidemark/${name}` || isKnownFindingSource(source));
    if (!accept(event.source)) {
      const shown = /^[a-zA-Z0-9/._:-]{1,200}$/.test(event.source) ? ` ${event.source}` : '';
      throw new EnvelopeError(
        'schema',
        `finding from an unknown source${shown}: the alert-router accepts findings of Tidemark's services only`,
      );
    }
    return event;
  }

  function handle(
    state: RouterState,
    event: FindingEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[] {
    const finding = event.data as Finding;
    if (record.topic === repartition) {
      router.ingest(state, finding, ctx.now);
      count(ctx.metrics, 'routed', finding);
      return [];
    }
    ctx.metrics.record(
      'tidemark_findings_total',
      { check: finding.check, severity: finding.severity, status: finding.status },
      1,
    );
    // Shadow findings never alert: drop them before they cost a second hop.
    if (finding.shadow) {
      count(ctx.metrics, 'shadow', finding);
      return [];
    }
    count(ctx.metrics, 'rekeyed', finding);
    // The original bytes and headers (trace context included) travel on; only the key changes.
    return [
      {
        topic: repartition,
        key: routingKey(finding, ROUTING_DEFAULTS.partitionLabel),
        value: record.value,
        headers: record.headers,
      },
    ];
  }

  function tick(state: RouterState, ctx: HandlerContext): OutputRecord[] {
    const out = router.tick(state, ctx.now);
    const opts = { service: name, topics: ctx.topics };
    const records: OutputRecord[] = [];
    for (const n of out.notifications) {
      records.push(alertRecord(n.alert, n.dueAt, opts, n.refreshBy));
      ctx.metrics.record(
        'tidemark_router_alerts_total',
        { receiver: n.alert.receiver, status: n.alert.status },
        1,
      );
    }
    for (const w of out.webhooks) {
      const receiver = config.receivers.get(w.receiver);
      if (receiver)
        records.push(webhookRecord(w, webhookMessage(w, receiver, options.externalUrl), webhook));
    }
    for (const t of out.tickets) {
      records.push(ticketRecord(t, ctx.now, opts));
      ctx.metrics.record('tidemark_router_tickets_total', { action: t.action }, 1);
    }
    for (const f of out.findings) records.push(findingRecord(f, opts));
    return records;
  }

  return {
    name,
    topology: ALERT_ROUTER_TOPOLOGY,
    inputs: [topics.findings, repartition],
    createState: (partition) => new RouterState(partition),
    decode,
    handle,
    tick,
    nextTick: (state: RouterState) => router.nextTick(state),
    metrics: ALERT_ROUTER_METRICS,
    tables: [{ topic: topics.silences, table: silences }],
    silences,
    router,
    repartition,
    webhook,
  };
}

function count(metrics: MetricsSink, stage: string, finding: Finding): void {
  metrics.record('tidemark_router_findings_total', { stage, status: finding.status }, 1);
}
