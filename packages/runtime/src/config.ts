import { ConfigError, DEFAULT_TOPICS, resolveTopics } from '@tidemark/core';
import type { TopicCatalog, TopicRole } from '@tidemark/core';
import cron from 'node-cron';
import { Type } from '@sinclair/typebox';
import { duration, envSchema, integer, oneOf, text } from './env-schema.js';
import { KAFKA_CONNECTION_VARIABLES, parseKafkaConnection } from './kafka-config.js';
import type { KafkaTlsConfig, SaslConfig } from './kafka-config.js';

/** Log levels pino accepts; `silent` turns logging off. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type { SaslConfig } from './kafka-config.js';

/** Everything the runtime reads from the environment, validated once at start. */
export interface RuntimeConfig {
  service: string;
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    /** TLS settings (CA, client certificate) or false; see kafka-config.ts. */
    ssl: KafkaTlsConfig | false;
    sasl?: SaslConfig;
    /** Where a group without committed offsets starts reading. */
    startFrom: 'earliest' | 'latest';
    sessionTimeoutMs: number;
    maxBytesPerPartition: number;
    /** Batches of different partitions handled at once (same partition never concurrently). */
    partitionsConsumedConcurrently: number;
  };
  topics: TopicCatalog;
  http: { host: string; port: number };
  logLevel: LogLevel;
  /** node-cron expression (seconds field allowed) for `tick`. */
  tickSchedule: string;
  /**
   * What `now` is: `wall` (the system clock) or `event` (the highest record timestamp consumed, for replayed or
   * compressed traffic such as the demo's).
   */
  clock: 'wall' | 'event';
  /** With clock `event`: ticks run every this much event time, per partition. */
  eventTickMs: number;
  /** With clock `event`: ticks trail a partition's watermark by this much (skew allowed between its topics). */
  eventSkewMs: number;
  /**
   * With clock `event`: how long (host time) an input topic read to its end still holds a partition's ticks back
   * at its last record's time, before it counts as idle. Its next records may be on their way (a fetch behind
   * another topic's); an idle topic must not stop ticks for good.
   */
  eventIdleMs: number;
  shutdownTimeoutMs: number;
  /** Fault handling (issue 12): limits that keep one bad record, clock or dependency from stopping a service. */
  reliability: ReliabilityConfig;
  /** A dead letter of a document known to be `restricted`: its value withheld (default) or kept. */
  dlqRestricted: 'withhold' | 'keep';
  /** Standard OTEL_* variables passed through untouched (read by `@tidemark/runtime/otel`). */
  otel: Record<string, string>;
}

/** Fault-handling settings (KAFKA_MAX_REQUEST_BYTES, MAX_FUTURE_SKEW, PARTITION_STALL_TIMEOUT, DEPENDENCY_RETRY_MAX, RECORD_TIME_BUDGET). */
export interface ReliabilityConfig {
  /** Largest produce batch the runtime builds; larger outputs are dead-lettered (broker message.max.bytes). */
  maxRequestBytes: number;
  /** A record whose event time is more than this ahead of the host clock (or watermark) is dead-lettered. */
  maxFutureSkewMs: number;
  /** /readyz turns false when a partition with records to read makes no progress for this long. */
  stallTimeoutMs: number;
  /** Cap of the backoff between retries of a record whose handler found a dependency unavailable. */
  dependencyRetryMaxMs: number;
  /** Longest one record's (asynchronous) handling may take before it is dead-lettered. */
  recordTimeBudgetMs: number;
}

/** Defaults of every optional variable, in one place. */
export const DEFAULT_RUNTIME_CONFIG = {
  /** KAFKA_CLIENT_ID and KAFKA_GROUP_ID default to this prefix plus the service name. */
  namePrefix: 'tidemark-',
  ssl: false,
  startFrom: 'earliest',
  sessionTimeoutMs: 30_000,
  maxBytesPerPartition: 1_048_576,
  partitionsConsumedConcurrently: 4,
  httpHost: '0.0.0.0',
  httpPort: 8080,
  logLevel: 'info',
  /** Every 10 seconds. */
  tickSchedule: '*/10 * * * * *',
  shutdownTimeoutMs: 30_000,
  clock: 'wall',
  eventTickMs: 10_000,
  eventSkewMs: 120_000,
  eventIdleMs: 5_000,
  // Reliability (issue 12). Kafka's default message.max.bytes is 1048588; stay a little under it.
  maxRequestBytes: 1_000_000,
  maxFutureSkewMs: 3_600_000,
  stallTimeoutMs: 300_000,
  dependencyRetryMaxMs: 60_000,
  recordTimeBudgetMs: 60_000,
  dlqRestricted: 'withhold',
} as const;

/** Environment variable of each topic role, e.g. contentChanges → TOPIC_CONTENT_CHANGES. */
export const TOPIC_ENV_VARS: Readonly<Record<TopicRole, string>> = Object.fromEntries(
  Object.keys(DEFAULT_TOPICS).map((role) => [
    role,
    `TOPIC_${role.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
  ]),
) as Record<TopicRole, string>;

// Kafka's legal topic names: https://kafka.apache.org/documentation/#topicconfigs (max 249, [a-zA-Z0-9._-]).
const topicName = text(
  Type.String({
    pattern: '^[a-zA-Z0-9._-]{1,249}$',
    errorMessage: 'not a valid Kafka topic name (1–249 of a-z A-Z 0-9 . _ -)',
  }),
);

const clientIdLike = text(
  Type.String({
    pattern: '^[a-zA-Z0-9._-]{1,255}$',
    errorMessage: 'must be 1–255 of a-z A-Z 0-9 . _ -',
  }),
);

// The runtime's own variables; the connection variables are checked by kafka-config.
const runtimeVariables = {
  KAFKA_CLIENT_ID: clientIdLike,
  KAFKA_GROUP_ID: clientIdLike,
  KAFKA_START_FROM: oneOf(['earliest', 'latest']),
  KAFKA_SESSION_TIMEOUT: duration({ atLeast: '6s', atMost: '5m' }),
  KAFKA_MAX_BYTES_PER_PARTITION: integer(1024, 100 * 1024 * 1024),
  KAFKA_PARTITIONS_CONCURRENCY: integer(1, 1000),
  HTTP_HOST: text(Type.String({ minLength: 1, errorMessage: 'must not be empty' })),
  HTTP_PORT: integer(0, 65_535),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  TICK_SCHEDULE: text(
    Type.String({
      format: 'node-cron',
      errorMessage: 'not a valid cron expression (node-cron syntax)',
    }),
  ),
  SHUTDOWN_TIMEOUT: duration({ moreThanZero: true }),
  TIDEMARK_CLOCK: oneOf(['wall', 'event']),
  EVENT_TICK: duration({ moreThanZero: true }),
  EVENT_SKEW: duration(),
  EVENT_IDLE_TIMEOUT: duration(),
  // Reliability (issue 12).
  KAFKA_MAX_REQUEST_BYTES: integer(10_240, 100 * 1024 * 1024),
  MAX_FUTURE_SKEW: duration({ atLeast: '1s' }),
  PARTITION_STALL_TIMEOUT: duration({ atLeast: '1s' }),
  DEPENDENCY_RETRY_MAX: duration({ atLeast: '100ms' }),
  RECORD_TIME_BUDGET: duration({ atLeast: '100ms' }),
  DLQ_RESTRICTED: oneOf(['withhold', 'keep']),
  ...(Object.fromEntries(Object.values(TOPIC_ENV_VARS).map((name) => [name, topicName])) as Record<
    string,
    typeof topicName
  >),
};

const runtimeSchema = envSchema(runtimeVariables, {
  formats: { 'node-cron': (value) => cron.validate(value) },
});

/** Every variable the runtime's schema reads (docs/operations.md documents each; test/ops checks that). */
export const RUNTIME_ENV_VARS: readonly string[] = [
  ...Object.keys(KAFKA_CONNECTION_VARIABLES),
  ...runtimeSchema.names,
];

/**
 * Reads and validates the runtime's configuration from environment variables (empty values count as unset).
 * Throws ConfigError listing every bad or missing variable.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv, service: string): RuntimeConfig {
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') raw[name] = value;
  }
  // The connection variables (and their files) are checked by the shared kafka-config; the rest here.
  const { connection, problems } = parseKafkaConnection(raw);
  const parsed = runtimeSchema.parse(raw);
  if (!parsed.ok) problems.push(...parsed.problems);
  const knownTopicVars = new Set(Object.values(TOPIC_ENV_VARS));
  for (const name of Object.keys(raw)) {
    if (name.startsWith('TOPIC_') && !knownTopicVars.has(name)) {
      problems.push(`${name}: unknown topic variable (known: ${[...knownTopicVars].join(', ')})`);
    }
  }
  if (!/^[a-zA-Z0-9._-]{1,200}$/.test(service)) {
    problems.push(`service name "${service}": must be 1–200 of a-z A-Z 0-9 . _ -`);
  }
  if (problems.length > 0 || !parsed.ok) {
    throw new ConfigError(`invalid configuration for service ${service}`, problems);
  }
  const v = parsed.value;
  const d = DEFAULT_RUNTIME_CONFIG;
  const overrides: Partial<TopicCatalog> = {};
  for (const [role, name] of Object.entries(TOPIC_ENV_VARS)) {
    const value = (v as Readonly<Record<string, unknown>>)[name] as string | undefined;
    if (value) overrides[role as TopicRole] = value;
  }
  const otel: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) if (name.startsWith('OTEL_')) otel[name] = value;
  return {
    service,
    kafka: {
      brokers: connection.brokers,
      clientId: v.KAFKA_CLIENT_ID ?? `${d.namePrefix}${service}`,
      groupId: v.KAFKA_GROUP_ID ?? `${d.namePrefix}${service}`,
      ssl: connection.ssl,
      ...(connection.sasl ? { sasl: connection.sasl } : {}),
      startFrom: v.KAFKA_START_FROM ?? d.startFrom,
      sessionTimeoutMs: v.KAFKA_SESSION_TIMEOUT ?? d.sessionTimeoutMs,
      maxBytesPerPartition: v.KAFKA_MAX_BYTES_PER_PARTITION ?? d.maxBytesPerPartition,
      partitionsConsumedConcurrently:
        v.KAFKA_PARTITIONS_CONCURRENCY ?? d.partitionsConsumedConcurrently,
    },
    topics: resolveTopics(overrides),
    http: { host: v.HTTP_HOST ?? d.httpHost, port: v.HTTP_PORT ?? d.httpPort },
    logLevel: v.LOG_LEVEL ?? d.logLevel,
    tickSchedule: v.TICK_SCHEDULE ?? d.tickSchedule,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT ?? d.shutdownTimeoutMs,
    clock: v.TIDEMARK_CLOCK ?? d.clock,
    eventTickMs: v.EVENT_TICK ?? d.eventTickMs,
    eventSkewMs: v.EVENT_SKEW ?? d.eventSkewMs,
    eventIdleMs: v.EVENT_IDLE_TIMEOUT ?? d.eventIdleMs,
    reliability: {
      maxRequestBytes: v.KAFKA_MAX_REQUEST_BYTES ?? d.maxRequestBytes,
      maxFutureSkewMs: v.MAX_FUTURE_SKEW ?? d.maxFutureSkewMs,
      stallTimeoutMs: v.PARTITION_STALL_TIMEOUT ?? d.stallTimeoutMs,
      dependencyRetryMaxMs: v.DEPENDENCY_RETRY_MAX ?? d.dependencyRetryMaxMs,
      recordTimeBudgetMs: v.RECORD_TIME_BUDGET ?? d.recordTimeBudgetMs,
    },
    dlqRestricted: v.DLQ_RESTRICTED ?? d.dlqRestricted,
    otel,
  };
}
