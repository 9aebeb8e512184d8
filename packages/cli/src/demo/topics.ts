// The demo run's own topics on the broker: created from the topic plan, seeded with silences, deleted at the end.
import { Partitioners, type Kafka } from 'kafkajs';
import { createTopicsReady } from '@tidemark/runtime';
import { silenceToRecord, type Silence } from '@tidemark/routing';
import { demoTopicPlan, type DemoLayout } from './layout.js';

export async function createRunTopics(
  kafka: Kafka,
  layout: DemoLayout,
  partitions: number,
): Promise<void> {
  const plan = demoTopicPlan(layout, partitions);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      plan.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        configEntries: [{ name: 'cleanup.policy', value: t.cleanupPolicy }],
      })),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Writes silences to the run's silences topic, keyed by id, as `tidemark silence add` does. */
export async function putSilences(
  kafka: Kafka,
  topic: string,
  silences: readonly Silence[],
): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: silences.map((s) => ({ key: s.id, value: JSON.stringify(silenceToRecord(s)) })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Deletes the run's topics (every name carries the run id) and its services' consumer groups. */
export async function deleteRunTopics(kafka: Kafka, layout: DemoLayout): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.includes(layout.runId));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.includes(layout.runId));
    if (groups.length > 0) await admin.deleteGroups(groups);
  } finally {
    await admin.disconnect();
  }
}
