import type { Admin } from 'kafkajs';
import { verifyBrokerCertificate, type KafkaConnection } from '@tidemark/runtime';
import { cliKafka, connectionFailure } from './kafka-connection.js';
import type { ExistingTopic } from './topic-plan.js';

/**
 * Connects an admin client, failing fast with a plain-words error: a refusal (credentials, certificate) as a
 * KafkaAccessError, no answer as "no Kafka broker answers".
 */
export async function connectAdmin(
  connection: KafkaConnection,
  timeoutMs = 10_000,
): Promise<Admin> {
  await verifyBrokerCertificate(connection);
  const admin = cliKafka(connection, 'tidemark-cli', timeoutMs).admin();
  try {
    await admin.connect();
  } catch (cause) {
    throw connectionFailure(cause, connection);
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
