import { resolveTopics, type TopicCatalog } from '@tidemark/core';
import { instancesTopics, topologyOf } from '../service-instances.js';
import { planTopics, type TopicSpec } from '../topic-plan.js';

/** The five services, in the order the demo starts them (router first, so it is ready for findings). */
export const DEMO_SERVICES = [
  { service: 'alert-router', folder: 'alert-router' },
  { service: 'contract-checker', folder: 'contract-checker' },
  { service: 'freshness-monitor', folder: 'freshness-monitor' },
  { service: 'parity-verifier', folder: 'parity-verifier' },
  { service: 'drift-detector', folder: 'drift-detector' },
] as const;

/**
 * How far each service partition's ticks trail its event time (EVENT_SKEW): the compressed stream's co-partitioned
 * topics may drift apart by a few seconds of wall time, which is minutes of event time. A replay of the demo's input
 * matches the live run with the same lag (`tickLagMs`).
 */
export const DEMO_EVENT_SKEW_MS = 10 * 60_000;

/** One service process of a demo run. */
export interface DemoProcess {
  service: string;
  /** Instance name: names its consumer group, changelog and internal topics. */
  name: string;
  folder: string;
  httpPort: number;
  env: Record<string, string>;
}

/** Everything a demo run names: topics, service instances and their environment. */
export interface DemoLayout {
  runId: string;
  topics: TopicCatalog;
  processes: DemoProcess[];
}

/**
 * Names a demo run so it never mixes with an earlier one on the same broker: every topic and instance carries
 * the run id. Services read event time from record timestamps (TIDEMARK_CLOCK=event), since the simulator
 * replays hours of events in minutes.
 */
export function demoLayout(args: {
  runId: string;
  brokers: string;
  contractsDir: string;
  basePort: number;
  tickSchedule?: string;
  /** KAFKA_* connection variables (TLS, SASL) every service gets. */
  kafkaEnv?: Readonly<Record<string, string>>;
}): DemoLayout {
  const prefix = `demo.${args.runId}.`;
  const topics = resolveTopics({
    contentChanges: `${prefix}content.changes.v1`,
    syncEvents: `${prefix}sync.events.v1`,
    inventorySnapshots: `${prefix}inventory.snapshots.v1`,
    findings: `${prefix}dq.findings.v1`,
    alerts: `${prefix}dq.alerts.v1`,
    tickets: `${prefix}dq.tickets.v1`,
    dlq: `${prefix}dq.dlq.v1`,
    silences: `${prefix}dq.silences.v1`,
  });
  const topicEnv: Record<string, string> = {
    TOPIC_CONTENT_CHANGES: topics.contentChanges,
    TOPIC_SYNC_EVENTS: topics.syncEvents,
    TOPIC_INVENTORY_SNAPSHOTS: topics.inventorySnapshots,
    TOPIC_FINDINGS: topics.findings,
    TOPIC_ALERTS: topics.alerts,
    TOPIC_TICKETS: topics.tickets,
    TOPIC_DLQ: topics.dlq,
    TOPIC_SILENCES: topics.silences,
  };
  const processes = DEMO_SERVICES.map(({ service, folder }, i) => {
    const name = `${service}-${args.runId}`;
    return {
      service,
      name,
      folder,
      httpPort: args.basePort + i,
      env: {
        ...args.kafkaEnv,
        ...topicEnv,
        SERVICE_NAME: name,
        KAFKA_BROKERS: args.brokers,
        KAFKA_GROUP_ID: `tidemark-${name}`,
        CONTRACTS_DIR: args.contractsDir,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(args.basePort + i),
        LOG_LEVEL: 'info',
        TIDEMARK_CLOCK: 'event',
        EVENT_SKEW: `${DEMO_EVENT_SKEW_MS / 60_000}m`,
        TICK_SCHEDULE: args.tickSchedule ?? '*/2 * * * * *',
        SHUTDOWN_TIMEOUT: '20s',
      },
    };
  });
  return { runId: args.runId, topics, processes };
}

/**
 * Every topic of a demo run: its catalog, and each instance's changelog and internal topics, derived from the
 * services' topologies under the run's instance names and environments (as the services will name them).
 */
export function demoTopicPlan(layout: DemoLayout, partitions: number): TopicSpec[] {
  return planTopics(
    layout.topics,
    partitions,
    instancesTopics(
      layout.processes.map((p) => ({ topology: topologyOf(p.service), name: p.name, env: p.env })),
    ),
  );
}
