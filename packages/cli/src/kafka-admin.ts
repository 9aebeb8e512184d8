import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { ExistingTopic } from './topic-plan.js';

/** Connection options shared by the CLI's Kafka commands. */
export interface BrokerOptions {
  /** Comma-separated host:port list. @default KAFKA_BROKERS or 127.0.0.1:9092 */
  brokers: string;
  /** How long to wait for the broker before giving up, in ms. @default 10000 */
  timeoutMs?: number;
}

/** Connects an admin client, failing fast with a plain-words error when no broker answers. */
export async function connectAdmin(options: BrokerOptions): Promise<Admin> {
  const kafka = new Kafka({
    clientId: 'tidemark-cli',
    brokers: options.brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.timeoutMs ?? 10_000,
    retry: { retries: 2, initialRetryTime: 300 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (cause) {
    throw new Error(
      `no Kafka broker answers at ${options.brokers} (${(cause as Error).message}); start one with \`npm run kafka:up\` or set KAFKA_BROKERS`,
      { cause },
    );
  }
  return admin;
}

/** Lists the topics on the broker with partition counts and cleanup policies. */
export async function describeTopics(admin: Admin): Promise<ExistingTopic[]> {
  const names = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
  if (names.length === 0) return [];
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({
      type: 2 /* TOPIC */,
      name,
      configNames: ['cleanup.policy'],
    })),
  });
  const policy = new Map(
    configs.resources.map((r) => [
      r.resourceName,
      r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue,
    ]),
  );
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.length,
    ...(policy.get(t.name) ? { cleanupPolicy: policy.get(t.name) } : {}),
  }));
}
