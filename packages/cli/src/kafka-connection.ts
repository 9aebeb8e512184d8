import { Option } from 'commander';
import type { Command } from 'commander';
import type { Admin, Kafka } from 'kafkajs';
import { ConfigError } from '@tidemark/core';
import {
  KAFKA_CONNECTION_SETTINGS,
  createKafkaClient,
  kafkaAccessError,
  parseKafkaConnection,
} from '@tidemark/runtime';
import type { KafkaConnection } from '@tidemark/runtime';

/** Where the CLI looks for a broker when neither --brokers nor KAFKA_BROKERS is given. */
export const DEFAULT_CLI_BROKERS = '127.0.0.1:9092';

/** The parsed connection flags of a command (commander attribute names, e.g. `sslCaFile`). */
export type KafkaConnectionFlags = Record<string, unknown>;

/**
 * The connection flags every Kafka command takes, one per variable of the runtime's KAFKA_CONNECTION_SETTINGS
 * (`--ssl-ca-file` ↔ KAFKA_SSL_CA_FILE): the flag wins over the variable, and --help shows the variable name.
 */
export function kafkaConnectionOptions(): Option[] {
  return KAFKA_CONNECTION_SETTINGS.map((s) => {
    const flags =
      s.env === 'KAFKA_BROKERS' ? `-b, ${s.flag} <${s.value}>` : `${s.flag} <${s.value}>`;
    const option = new Option(flags, s.description).env(s.env);
    return s.env === 'KAFKA_BROKERS' ? option.default(DEFAULT_CLI_BROKERS) : option;
  });
}

/** Adds the connection flags to a command. */
export function withKafkaOptions(command: Command): Command {
  for (const option of kafkaConnectionOptions()) command.addOption(option);
  return command;
}

function attributeName(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The KAFKA_* variables the flags stand for (set ones only), e.g. to hand to child services. */
export function kafkaConnectionEnv(flags: KafkaConnectionFlags): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of KAFKA_CONNECTION_SETTINGS) {
    const value = flags[attributeName(s.flag)];
    if (typeof value === 'string' && value !== '') env[s.env] = value;
  }
  return env;
}

/**
 * Validates the connection flags with the runtime's rules and reads the TLS files. Throws ConfigError (exit 2)
 * listing every problem; a file problem names the path, a password is never shown.
 */
export function kafkaConnectionFrom(flags: KafkaConnectionFlags): KafkaConnection {
  const { connection, problems } = parseKafkaConnection(kafkaConnectionEnv(flags));
  if (problems.length > 0) {
    // Report the flag and its variable together: the user may have set either.
    const byEnv = new Map(KAFKA_CONNECTION_SETTINGS.map((s) => [s.env, s.flag]));
    throw new ConfigError(
      'invalid Kafka connection settings',
      problems.map((p) =>
        p.replace(/^(KAFKA_[A-Z_]+)/, (env) => `${byEnv.get(env) ?? env} (${env})`),
      ),
    );
  }
  return connection;
}

/**
 * A kafkajs client for the CLI: few retries (a person is waiting), silent (errors are reported instead). Call
 * `verifyBrokerCertificate` first (connectAdmin does) so an untrusted certificate fails at once.
 */
export function cliKafka(
  connection: KafkaConnection,
  clientId = 'tidemark-cli',
  timeoutMs = 10_000,
): Kafka {
  return createKafkaClient({
    connection,
    clientId,
    connectionTimeout: timeoutMs,
    // Enough to ride out a fresh broker's "coordinator is loading" (a few seconds), little enough to fail fast.
    retry: { retries: 5, initialRetryTime: 300 },
  });
}

/**
 * The error to show when talking to the cluster failed: a refusal (credentials, certificate, ACL) as its own
 * one-line KafkaAccessError (exit 2), anything else as "no broker answers" with how to start one.
 */
export function connectionFailure(
  cause: unknown,
  connection: KafkaConnection,
  context?: string,
): Error {
  const access = kafkaAccessError(cause, connection, context);
  if (access) return access;
  return new Error(
    `no Kafka broker answers at ${connection.brokers.join(',')} (${(cause as Error).message}); start one with \`npm run kafka:up\` or set KAFKA_BROKERS`,
    { cause },
  );
}

/**
 * Waits until the cluster serves `groupId`'s coordinator. A fresh cluster answers "the coordinator is loading"
 * while it creates and loads __consumer_offsets — on a slow machine longer than the client's fail-fast retries —
 * and kafkajs crashes a consumer that meets it while joining instead of retrying. A refusal (ACL, credentials)
 * is final at once; anything else is retried until `timeoutMs`, then the last error is thrown.
 */
export async function awaitGroupCoordinator(
  admin: Admin,
  groupId: string,
  connection: KafkaConnection,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.describeGroups([groupId]);
      return;
    } catch (cause) {
      const access = kafkaAccessError(cause, connection, `join consumer group ${groupId}`);
      if (access) throw access;
      if (Date.now() >= deadline) throw cause;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
