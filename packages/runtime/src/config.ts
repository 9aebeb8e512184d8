import { ConfigError, DEFAULT_TOPICS, parseDuration, resolveTopics } from '@tidemark/core';
import type { TopicCatalog, TopicRole } from '@tidemark/core';
import cron from 'node-cron';
import { z } from 'zod';

/** Log levels pino accepts; `silent` turns logging off. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** SASL settings for an authenticated cluster. */
export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** Everything the runtime reads from the environment, validated once at start. */
export interface RuntimeConfig {
  service: string;
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    ssl: boolean;
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
  shutdownTimeoutMs: number;
  /** Standard OTEL_* variables passed through untouched (read by `@tidemark/runtime/otel`). */
  otel: Record<string, string>;
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
} as const;

/** Environment variable of each topic role, e.g. contentChanges → TOPIC_CONTENT_CHANGES. */
export const TOPIC_ENV_VARS: Readonly<Record<TopicRole, string>> = Object.fromEntries(
  Object.keys(DEFAULT_TOPICS).map((role) => [
    role,
    `TOPIC_${role.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
  ]),
) as Record<TopicRole, string>;

// Kafka's legal topic names: https://kafka.apache.org/documentation/#topicconfigs (max 249, [a-zA-Z0-9._-]).
const topicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'not a valid Kafka topic name (1–249 of a-z A-Z 0-9 . _ -)');

const hostPort = /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/;
const brokers = z
  .string()
  .trim()
  .min(1, 'required: comma-separated host:port list, e.g. 127.0.0.1:9092')
  .transform((value, ctx) => {
    const list = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const entry of list) {
      const m = hostPort.exec(entry);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port` });
      }
    }
    return list;
  });

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const intIn = (min: number, max: number) => {
  const message = `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message));
};

const clientIdLike = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,255}$/, 'must be 1–255 of a-z A-Z 0-9 . _ -');

const schema = z.object({
  KAFKA_BROKERS: brokers.optional(),
  KAFKA_CLIENT_ID: clientIdLike.optional(),
  KAFKA_GROUP_ID: clientIdLike.optional(),
  KAFKA_SSL: bool.optional(),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'], {
      error: 'must be one of plain, scram-sha-256, scram-sha-512',
    })
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1, 'must not be empty').optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1, 'must not be empty').optional(),
  KAFKA_START_FROM: z
    .enum(['earliest', 'latest'], { error: 'must be earliest or latest' })
    .optional(),
  KAFKA_SESSION_TIMEOUT: duration
    .pipe(z.number().min(6_000, 'must be at least 6s').max(300_000, 'must be at most 5m'))
    .optional(),
  KAFKA_MAX_BYTES_PER_PARTITION: intIn(1024, 100 * 1024 * 1024).optional(),
  KAFKA_PARTITIONS_CONCURRENCY: intIn(1, 1000).optional(),
  HTTP_HOST: z.string().min(1, 'must not be empty').optional(),
  HTTP_PORT: intIn(0, 65_535).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .optional(),
  TICK_SCHEDULE: z
    .string()
    .refine((v) => cron.validate(v), 'not a valid cron expression (node-cron syntax)')
    .optional(),
  SHUTDOWN_TIMEOUT: duration.pipe(z.number().min(1, 'must be more than 0')).optional(),
  TIDEMARK_CLOCK: z.enum(['wall', 'event'], { error: 'must be wall or event' }).optional(),
  EVENT_TICK: duration.pipe(z.number().min(1, 'must be more than 0')).optional(),
  EVENT_SKEW: duration.optional(),
  ...Object.fromEntries(Object.values(TOPIC_ENV_VARS).map((name) => [name, topicName.optional()])),
});

/** Every variable the runtime's schema reads (docs/operations.md documents each; test/ops checks that). */
export const RUNTIME_ENV_VARS: readonly string[] = Object.keys(schema.shape);

// Variables whose values never appear in messages or logs.
const SECRET_VARS = new Set(['KAFKA_SASL_PASSWORD']);

/**
 * Reads and validates the runtime's configuration from environment variables (empty values count as unset).
 * Throws ConfigError listing every bad or missing variable.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv, service: string): RuntimeConfig {
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const problems: string[] = [];
  if (raw['KAFKA_BROKERS'] === undefined) {
    problems.push('KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      const shown = SECRET_VARS.has(name) || raw[name] === undefined ? '' : `="${raw[name]}"`;
      problems.push(`${name}${shown}: ${issue.message}`);
    }
  }
  const knownTopicVars = new Set(Object.values(TOPIC_ENV_VARS));
  for (const name of Object.keys(raw)) {
    if (name.startsWith('TOPIC_') && !knownTopicVars.has(name)) {
      problems.push(`${name}: unknown topic variable (known: ${[...knownTopicVars].join(', ')})`);
    }
  }
  const sasl = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
  const saslSet = sasl.filter((name) => raw[name] !== undefined);
  if (saslSet.length > 0 && saslSet.length < sasl.length) {
    const missing = sasl.filter((name) => raw[name] === undefined);
    problems.push(`${missing.join(', ')}: required when ${saslSet.join(', ')} is set`);
  }
  if (!/^[a-zA-Z0-9._-]{1,200}$/.test(service)) {
    problems.push(`service name "${service}": must be 1–200 of a-z A-Z 0-9 . _ -`);
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`invalid configuration for service ${service}`, problems);
  }
  const v = parsed.data as z.infer<typeof schema> & Record<string, string | undefined>;
  const d = DEFAULT_RUNTIME_CONFIG;
  const overrides: Partial<TopicCatalog> = {};
  for (const [role, name] of Object.entries(TOPIC_ENV_VARS)) {
    const value = v[name];
    if (value) overrides[role as TopicRole] = value;
  }
  const otel: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) if (name.startsWith('OTEL_')) otel[name] = value;
  return {
    service,
    kafka: {
      brokers: v.KAFKA_BROKERS ?? [],
      clientId: v.KAFKA_CLIENT_ID ?? `${d.namePrefix}${service}`,
      groupId: v.KAFKA_GROUP_ID ?? `${d.namePrefix}${service}`,
      ssl: v.KAFKA_SSL ?? d.ssl,
      ...(v.KAFKA_SASL_MECHANISM && v.KAFKA_SASL_USERNAME && v.KAFKA_SASL_PASSWORD
        ? {
            sasl: {
              mechanism: v.KAFKA_SASL_MECHANISM,
              username: v.KAFKA_SASL_USERNAME,
              password: v.KAFKA_SASL_PASSWORD,
            },
          }
        : {}),
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
    otel,
  };
}
