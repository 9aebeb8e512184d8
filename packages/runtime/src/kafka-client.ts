import net from 'node:net';
import tls from 'node:tls';
import { ConfigError } from '@tidemark/core';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, LogEntry, RetryOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { LogLevel } from './config.js';
import type { KafkaConnection } from './kafka-config.js';

/** Options of createKafkaClient. */
export interface KafkaClientOptions {
  connection: KafkaConnection;
  clientId: string;
  /** Where kafkajs logs go (component "kafkajs"); none: kafkajs stays silent. */
  logger?: Logger;
  /** @default 'info' (kafkajs at WARN) */
  logLevel?: LogLevel;
  /** @default kafkajs' 1000 */
  connectionTimeout?: number;
  /** @default 8 retries from 100 ms up to 10 s apart */
  retry?: RetryOptions;
}

// kafkajs logs every rebalance step at ERROR; below WARN it is noise unless someone asks for debug.
function kafkaLogLevel(level: LogLevel): logLevel {
  if (level === 'trace') return logLevel.DEBUG;
  if (level === 'debug') return logLevel.INFO;
  if (level === 'silent') return logLevel.NOTHING;
  return logLevel.WARN;
}

/**
 * kafkajs retries that outlast a broker restart on a busy host (27–55 s measured): 10 from 300 ms capped at 30 s
 * ride out about 2 minutes (8 capped at 10 s gave up after ~23 s). For clients that must not give up on a
 * restart: the services' (the consumer cannot be restarted in-process, tulios/kafkajs#1529) and the demo's.
 */
export const BROKER_RESTART_RETRY = { initialRetryTime: 300, retries: 10, maxRetryTime: 30_000 };

/**
 * The one way Tidemark builds a kafkajs client: brokers, TLS (CA, mutual TLS, verification) and SASL from a
 * validated KafkaConnection, logs through pino. Every service and every CLI command uses it.
 */
export function createKafkaClient({
  connection,
  clientId,
  logger,
  logLevel: level = 'info',
  connectionTimeout,
  retry = { initialRetryTime: 100, retries: 8, maxRetryTime: 10_000 },
}: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: connection.brokers,
    logLevel: logger ? kafkaLogLevel(level) : logLevel.NOTHING,
    retry,
    ...(connectionTimeout !== undefined ? { connectionTimeout } : {}),
  };
  if (connection.ssl) {
    const { rejectUnauthorized, ca, cert, key } = connection.ssl;
    config.ssl = {
      rejectUnauthorized,
      ...(ca !== undefined ? { ca: [ca] } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
    };
  }
  if (connection.sasl) {
    const { mechanism, username, password } = connection.sasl;
    config.sasl = { mechanism, username, password } as KafkaConfig['sasl'];
  }
  if (logger) {
    const log = logger.child({ component: 'kafkajs' });
    config.logCreator =
      () =>
      ({ level: entryLevel, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        const method =
          entryLevel === logLevel.ERROR
            ? 'error'
            : entryLevel === logLevel.WARN
              ? 'warn'
              : entryLevel === logLevel.INFO
                ? 'info'
                : 'debug';
        log[method](fields, message);
      };
  }
  return new Kafka(config);
}

/** What kind of access problem stopped a Kafka client. */
export type KafkaAccessKind = 'authentication' | 'tls' | 'authorization';

/**
 * The cluster refused us: wrong credentials, a certificate that does not verify, or a missing ACL. Retrying
 * cannot help, so it is a configuration error (exit 2) with a one-line message that names the cause and never
 * the password.
 */
export class KafkaAccessError extends ConfigError {
  readonly kind: KafkaAccessKind;

  constructor(kind: KafkaAccessKind, message: string, options: { cause?: unknown } = {}) {
    super(message, [], options);
    this.kind = kind;
  }
}

// Node's codes for a TLS peer certificate that does not verify (tls.TLSSocket#authorizationError).
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  type?: string;
  broker?: string;
  cause?: unknown;
  originalError?: unknown;
}

function* chain(error: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as ErrorLike;
    yield e;
    current = e.originalError ?? e.cause;
  }
}

/**
 * Recognizes a refusal by the cluster anywhere in a kafkajs error chain and explains it in one line; undefined
 * for anything else (an outage, a bug). `context` says what was being done, e.g. "write to dq.findings.v1".
 */
export function kafkaAccessError(
  error: unknown,
  connection: Pick<KafkaConnection, 'brokers' | 'sasl' | 'ssl'>,
  context?: string,
): KafkaAccessError | undefined {
  if (error instanceof KafkaAccessError) return error;
  const at = connection.brokers.join(',');
  for (const e of chain(error)) {
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      const who = connection.sasl
        ? `user "${connection.sasl.username}" (${connection.sasl.mechanism})`
        : 'the client';
      return new KafkaAccessError(
        'authentication',
        `Kafka at ${at} rejected the SASL login of ${who}: wrong username or password, or the mechanism is not enabled for that user (KAFKA_SASL_*)`,
        { cause: error },
      );
    }
    if (e.code && TLS_CODES.has(e.code)) {
      const ca =
        connection.ssl && connection.ssl.caFile
          ? `KAFKA_SSL_CA_FILE=${connection.ssl.caFile}`
          : 'the system CAs (set KAFKA_SSL_CA_FILE)';
      const detail = (e.message ?? '').replace(/^Connection error: /, '');
      return new KafkaAccessError(
        'tls',
        `TLS to Kafka at ${e.broker ?? at} failed: the broker's certificate does not verify against ${ca}: ${detail} (${e.code})`,
        { cause: error },
      );
    }
    if (e.type && AUTHORIZATION_TYPES.has(e.type)) {
      const who = connection.sasl ? `user "${connection.sasl.username}"` : 'this client';
      return new KafkaAccessError(
        'authorization',
        `Kafka at ${at} denied ${who}${context ? ` permission to ${context}` : ''} (${e.type}): grant the ACL or use another principal`,
        { cause: error },
      );
    }
  }
  return undefined;
}

/**
 * Checks the TLS handshake with the first bootstrap broker that answers, before kafkajs connects: kafkajs
 * treats a certificate that does not verify as a retriable connection error and retries it for half a minute.
 * Throws KafkaAccessError('tls') when the certificate does not verify; an unreachable broker is left to kafkajs
 * (an outage, not a configuration problem). Does nothing without TLS.
 */
export async function verifyBrokerCertificate(
  connection: KafkaConnection,
  timeoutMs = 5000,
): Promise<void> {
  const tlsConfig = connection.ssl;
  if (!tlsConfig) return;
  for (const broker of connection.brokers) {
    const at = broker.lastIndexOf(':');
    const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(broker.slice(at + 1));
    const problem = await new Promise<Error | 'ok' | undefined>((resolve) => {
      const socket = tls.connect({
        host,
        port,
        servername: net.isIP(host) ? undefined : host,
        rejectUnauthorized: tlsConfig.rejectUnauthorized,
        ...(tlsConfig.ca !== undefined ? { ca: [tlsConfig.ca] } : {}),
        ...(tlsConfig.cert !== undefined ? { cert: tlsConfig.cert } : {}),
        ...(tlsConfig.key !== undefined ? { key: tlsConfig.key } : {}),
      });
      const done = (result: Error | 'ok' | undefined) => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(timeoutMs, () => done(undefined));
      socket.once('secureConnect', () => done('ok'));
      socket.once('error', (error: NodeJS.ErrnoException) =>
        done(error.code && TLS_CODES.has(error.code) ? error : undefined),
      );
    });
    if (problem === 'ok') return;
    if (problem) {
      const error = Object.assign(problem, { broker });
      throw kafkaAccessError(error, connection) ?? problem;
    }
  }
}
