import { ConfigError, DEFAULT_TOPICS } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNTIME_CONFIG, TOPIC_ENV_VARS, loadRuntimeConfig } from './config.js';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

function problems(env: NodeJS.ProcessEnv, service = 'svc'): readonly string[] {
  try {
    loadRuntimeConfig(env, service);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadRuntimeConfig', () => {
  it('fills every default from DEFAULT_RUNTIME_CONFIG and the service name', () => {
    const config = loadRuntimeConfig(
      { ...base, PATH: '/bin', OTEL_SERVICE_NAME: 'x' },
      'freshness-monitor',
    );
    const d = DEFAULT_RUNTIME_CONFIG;
    expect(config).toEqual({
      service: 'freshness-monitor',
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'tidemark-freshness-monitor',
        groupId: 'tidemark-freshness-monitor',
        ssl: d.ssl,
        startFrom: d.startFrom,
        sessionTimeoutMs: d.sessionTimeoutMs,
        maxBytesPerPartition: d.maxBytesPerPartition,
        partitionsConsumedConcurrently: d.partitionsConsumedConcurrently,
      },
      topics: { ...DEFAULT_TOPICS },
      http: { host: d.httpHost, port: d.httpPort },
      logLevel: d.logLevel,
      tickSchedule: d.tickSchedule,
      shutdownTimeoutMs: d.shutdownTimeoutMs,
      clock: 'wall',
      eventTickMs: d.eventTickMs,
      eventSkewMs: d.eventSkewMs,
      eventIdleMs: d.eventIdleMs,
      reliability: {
        maxRequestBytes: 1_000_000,
        maxFutureSkewMs: 3_600_000,
        stallTimeoutMs: 300_000,
        dependencyRetryMaxMs: 60_000,
        recordTimeBudgetMs: 60_000,
      },
      dlqRestricted: 'withhold',
      otel: { OTEL_SERVICE_NAME: 'x' },
    });
  });

  it('keeps its documented defaults (only KAFKA_BROKERS set)', () => {
    // Written out, not read from DEFAULT_RUNTIME_CONFIG: a changed default must fail here.
    expect(DEFAULT_RUNTIME_CONFIG).toEqual({
      namePrefix: 'tidemark-',
      ssl: false,
      startFrom: 'earliest',
      sessionTimeoutMs: 30_000,
      maxBytesPerPartition: 1_048_576,
      partitionsConsumedConcurrently: 4,
      httpHost: '0.0.0.0',
      httpPort: 8080,
      logLevel: 'info',
      tickSchedule: '*/10 * * * * *',
      shutdownTimeoutMs: 30_000,
      clock: 'wall',
      eventTickMs: 10_000,
      eventSkewMs: 120_000,
      eventIdleMs: 5_000,
      maxRequestBytes: 1_000_000,
      maxFutureSkewMs: 3_600_000,
      stallTimeoutMs: 300_000,
      dependencyRetryMaxMs: 60_000,
      recordTimeBudgetMs: 60_000,
      dlqRestricted: 'withhold',
    });
    expect(loadRuntimeConfig(base, 'svc')).toEqual({
      service: 'svc',
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'tidemark-svc',
        groupId: 'tidemark-svc',
        ssl: false,
        startFrom: 'earliest',
        sessionTimeoutMs: 30_000,
        maxBytesPerPartition: 1_048_576,
        partitionsConsumedConcurrently: 4,
      },
      topics: DEFAULT_TOPICS,
      http: { host: '0.0.0.0', port: 8080 },
      logLevel: 'info',
      tickSchedule: '*/10 * * * * *',
      shutdownTimeoutMs: 30_000,
      clock: 'wall',
      eventTickMs: 10_000,
      eventSkewMs: 120_000,
      eventIdleMs: 5_000,
      reliability: {
        maxRequestBytes: 1_000_000,
        maxFutureSkewMs: 3_600_000,
        stallTimeoutMs: 300_000,
        dependencyRetryMaxMs: 60_000,
        recordTimeBudgetMs: 60_000,
      },
      dlqRestricted: 'withhold',
      otel: {},
    });
  });

  it('reads the reliability variables and names the bad ones', () => {
    expect(
      loadRuntimeConfig(
        {
          ...base,
          KAFKA_MAX_REQUEST_BYTES: '500000',
          MAX_FUTURE_SKEW: '15m',
          PARTITION_STALL_TIMEOUT: '90s',
          DEPENDENCY_RETRY_MAX: '10s',
          RECORD_TIME_BUDGET: '20s',
        },
        's',
      ).reliability,
    ).toEqual({
      maxRequestBytes: 500_000,
      maxFutureSkewMs: 900_000,
      stallTimeoutMs: 90_000,
      dependencyRetryMaxMs: 10_000,
      recordTimeBudgetMs: 20_000,
    });
    expect(() =>
      loadRuntimeConfig(
        {
          ...base,
          KAFKA_MAX_REQUEST_BYTES: '10',
          MAX_FUTURE_SKEW: '0s',
          PARTITION_STALL_TIMEOUT: 'x',
          RECORD_TIME_BUDGET: '10ms',
        },
        's',
      ),
    ).toThrow(
      /KAFKA_MAX_REQUEST_BYTES="10": must be an integer from 10240 to 104857600[\s\S]*MAX_FUTURE_SKEW="0s": must be at least 1s[\s\S]*PARTITION_STALL_TIMEOUT="x"[\s\S]*RECORD_TIME_BUDGET="10ms": must be at least 100ms/,
    );
  });

  it('reads TIDEMARK_CLOCK and rejects other values', () => {
    expect(loadRuntimeConfig({ ...base, TIDEMARK_CLOCK: 'event' }, 's').clock).toBe('event');
    expect(() => loadRuntimeConfig({ ...base, TIDEMARK_CLOCK: 'sundial' }, 's')).toThrow(
      /TIDEMARK_CLOCK="sundial": must be wall or event/,
    );
  });

  it('reads every variable', () => {
    const config = loadRuntimeConfig(
      {
        KAFKA_BROKERS: ' kafka-1:9092, kafka-2:9093 ,',
        KAFKA_CLIENT_ID: 'client',
        KAFKA_GROUP_ID: 'group.v2',
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'tidemark',
        KAFKA_SASL_PASSWORD: 's3cret',
        KAFKA_START_FROM: 'latest',
        KAFKA_SESSION_TIMEOUT: '45s',
        KAFKA_MAX_BYTES_PER_PARTITION: '65536',
        KAFKA_PARTITIONS_CONCURRENCY: '8',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'debug',
        TICK_SCHEDULE: '*/30 * * * * *',
        SHUTDOWN_TIMEOUT: '1m30s',
        TOPIC_CONTENT_CHANGES: 'acme.content.v1',
        TOPIC_DLQ: 'acme.dlq',
      },
      'svc',
    );
    expect(config.kafka).toEqual({
      brokers: ['kafka-1:9092', 'kafka-2:9093'],
      clientId: 'client',
      groupId: 'group.v2',
      ssl: { rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'tidemark', password: 's3cret' },
      startFrom: 'latest',
      sessionTimeoutMs: 45_000,
      maxBytesPerPartition: 65_536,
      partitionsConsumedConcurrently: 8,
    });
    expect(config.topics).toEqual({
      ...DEFAULT_TOPICS,
      contentChanges: 'acme.content.v1',
      dlq: 'acme.dlq',
    });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 0 });
    expect([config.logLevel, config.tickSchedule, config.shutdownTimeoutMs]).toEqual([
      'debug',
      '*/30 * * * * *',
      90_000,
    ]);
  });

  it('maps every topic role to a TOPIC_ variable', () => {
    expect(TOPIC_ENV_VARS).toEqual({
      contentChanges: 'TOPIC_CONTENT_CHANGES',
      syncEvents: 'TOPIC_SYNC_EVENTS',
      inventorySnapshots: 'TOPIC_INVENTORY_SNAPSHOTS',
      findings: 'TOPIC_FINDINGS',
      alerts: 'TOPIC_ALERTS',
      tickets: 'TOPIC_TICKETS',
      dlq: 'TOPIC_DLQ',
      silences: 'TOPIC_SILENCES',
    });
  });

  it.each([
    [{}, ['KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)']],
    [
      { KAFKA_BROKERS: '' },
      ['KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)'],
    ],
    [{ KAFKA_BROKERS: 'localhost' }, ['KAFKA_BROKERS="localhost": "localhost" is not host:port']],
    [{ KAFKA_BROKERS: 'a:1,b:99999' }, ['KAFKA_BROKERS="a:1,b:99999": "b:99999" is not host:port']],
    [{ ...base, HTTP_PORT: '80a' }, ['HTTP_PORT="80a": must be an integer from 0 to 65535']],
    [{ ...base, HTTP_PORT: '70000' }, ['HTTP_PORT="70000": must be an integer from 0 to 65535']],
    [{ ...base, KAFKA_SSL: 'on' }, ['KAFKA_SSL="on": must be true or false']],
    [
      { ...base, LOG_LEVEL: 'verbose' },
      ['LOG_LEVEL="verbose": must be one of fatal, error, warn, info, debug, trace, silent'],
    ],
    [
      { ...base, TICK_SCHEDULE: '61 * * * *' },
      ['TICK_SCHEDULE="61 * * * *": not a valid cron expression (node-cron syntax)'],
    ],
    [
      { ...base, SHUTDOWN_TIMEOUT: '30' },
      ['SHUTDOWN_TIMEOUT="30": not a duration: "30" (use e.g. "30s", "15m", "4h", "7d", "1h30m")'],
    ],
    [{ ...base, KAFKA_SESSION_TIMEOUT: '1s' }, ['KAFKA_SESSION_TIMEOUT="1s": must be at least 6s']],
    [{ ...base, KAFKA_SESSION_TIMEOUT: '6m' }, ['KAFKA_SESSION_TIMEOUT="6m": must be at most 5m']],
    [{ ...base, EVENT_TICK: '0s' }, ['EVENT_TICK="0s": must be more than 0']],
    [
      { ...base, KAFKA_PARTITIONS_CONCURRENCY: '1e2' },
      ['KAFKA_PARTITIONS_CONCURRENCY="1e2": must be an integer from 1 to 1000'],
    ],
    [
      { KAFKA_BROKERS: ' , ' },
      ['KAFKA_BROKERS=" , ": required: comma-separated host:port list, e.g. 127.0.0.1:9092'],
    ],
    [
      { ...base, KAFKA_START_FROM: 'middle' },
      ['KAFKA_START_FROM="middle": must be earliest or latest'],
    ],
    [
      {
        ...base,
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      },
      ['KAFKA_SASL_MECHANISM="gssapi": must be one of plain, scram-sha-256, scram-sha-512'],
    ],
    [
      { ...base, KAFKA_SASL_USERNAME: 'u' },
      ['KAFKA_SASL_MECHANISM, KAFKA_SASL_PASSWORD: required when KAFKA_SASL_USERNAME is set'],
    ],
    [
      { ...base, KAFKA_GROUP_ID: 'has space' },
      ['KAFKA_GROUP_ID="has space": must be 1–255 of a-z A-Z 0-9 . _ -'],
    ],
    [
      { ...base, TOPIC_ALERTS: 'a/b' },
      ['TOPIC_ALERTS="a/b": not a valid Kafka topic name (1–249 of a-z A-Z 0-9 . _ -)'],
    ],
    [
      { ...base, TOPIC_ALERT: 'x' },
      [
        'TOPIC_ALERT: unknown topic variable (known: TOPIC_CONTENT_CHANGES, TOPIC_SYNC_EVENTS, TOPIC_INVENTORY_SNAPSHOTS, TOPIC_FINDINGS, TOPIC_ALERTS, TOPIC_TICKETS, TOPIC_DLQ, TOPIC_SILENCES)',
      ],
    ],
  ] as Array<[NodeJS.ProcessEnv, string[]]>)('rejects %j', (env, expected) => {
    expect(problems(env)).toEqual(expected);
  });

  it('lists every problem at once and never shows the SASL password', () => {
    let caught: unknown;
    try {
      loadRuntimeConfig(
        { HTTP_PORT: 'x', LOG_LEVEL: 'x', KAFKA_SASL_PASSWORD: 'hunter2' },
        'bad name',
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems).toEqual([
      'KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)',
      'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME: required when KAFKA_SASL_PASSWORD is set',
      'HTTP_PORT="x": must be an integer from 0 to 65535',
      'LOG_LEVEL="x": must be one of fatal, error, warn, info, debug, trace, silent',
      'service name "bad name": must be 1–200 of a-z A-Z 0-9 . _ -',
    ]);
    expect(error.message.split('\n')[0]).toBe('invalid configuration for service bad name:');
    expect(error.message).not.toContain('hunter2');
    expect(
      problems({
        ...base,
        KAFKA_SASL_PASSWORD: '',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
      }),
    ).toEqual([
      'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME is set',
    ]);
  });
});
