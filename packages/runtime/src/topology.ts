// What a service needs from the cluster, checked before it consumes anything: a sound definition, every topic
// it reads or writes present, co-partitioned inputs, and the ACLs to use them. Each problem is a ConfigError
// (exit 2) naming the topic. The changelog's own checks are in changelog.ts.
import { ConfigError } from '@tidemark/core';
import type { PartitionState, ServiceDefinition } from '@tidemark/core';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import { retryTransient } from './delivery.js';
import { describeTopicAccess, missingTopicAccess, topicAccessError } from './topic-access.js';
import type { TopicRequirement } from './topic-access.js';

type Definition = ServiceDefinition<PartitionState, unknown>;

/** Inputs given, none twice, no table that is also an input. */
export function checkDefinition(definition: Definition): void {
  const problems: string[] = [];
  if (definition.inputs.length === 0) problems.push('inputs: at least one input topic is required');
  if (new Set(definition.inputs).size !== definition.inputs.length)
    problems.push('inputs: a topic is listed twice');
  for (const t of definition.tables ?? []) {
    if (definition.inputs.includes(t.topic)) problems.push(`tables: ${t.topic} is also an input`);
  }
  if (problems.length > 0)
    throw new ConfigError(`invalid service definition ${definition.name}`, problems);
}

/** An admin call retried through transient broker errors (bounded by kafkajs' and our retries). */
export type AdminCall = <T>(call: () => Promise<T>, what: string) => Promise<T>;

/** The AdminCall of a host: it gives up once the host is stopping. */
export function adminCall(logger: Logger, stopping: () => boolean): AdminCall {
  return (call, what) =>
    retryTransient(call, {
      what,
      maxMs: 2000,
      abortReason: () => (stopping() ? 'stopping' : undefined),
      onRetry: (error, attempt) => logger.warn({ err: error, attempt }, `${what}: retrying`),
    });
}

/** Every topic of the service exists and the inputs are co-partitioned; returns their partition count. */
export async function checkTopics(
  admin: Admin,
  definition: Definition,
  topics: RuntimeConfig['topics'],
  admin$: AdminCall,
): Promise<number> {
  const existing = new Set(await admin$(() => admin.listTopics(), 'list topics'));
  const problems: string[] = [];
  const required = [
    ...definition.inputs.map((t) => [t, 'input'] as const),
    ...(definition.tables ?? []).map((t) => [t.topic, 'table'] as const),
    [topics.dlq, 'dead-letter (TOPIC_DLQ)'] as const,
    [topics.findings, 'findings (TOPIC_FINDINGS)'] as const,
    ...(definition.outputs ?? []).map((t) => [t, 'output'] as const),
  ];
  for (const [topic, role] of required) {
    if (!existing.has(topic))
      problems.push(
        `${role} topic ${topic} does not exist (create it with "tidemark topics create")`,
      );
  }
  if (problems.length > 0) throw new ConfigError(`cannot start ${definition.name}`, problems);
  const { topics: metadata } = await admin$(
    () =>
      admin.fetchTopicMetadata({
        topics: [...definition.inputs],
      }),
    'read input metadata',
  );
  const byName = new Map(metadata.map((m) => [m.name, m.partitions.length]));
  const counts = definition.inputs.map((topic) => ({
    topic,
    partitions: byName.get(topic) ?? 0,
  }));
  const first = counts[0]!.partitions;
  if (counts.some((c) => c.partitions !== first)) {
    throw new ConfigError(`cannot start ${definition.name}`, [
      `inputs must be co-partitioned (same partition count): ${counts.map((c) => `${c.topic} has ${c.partitions}`).join(', ')}`,
    ]);
  }
  return first;
}

/** Exit 2 at start, naming topic and operation, when the principal may not read an input or write an output. */
export async function checkTopicAccess(
  kafka: Kafka,
  definition: Definition,
  config: Pick<RuntimeConfig, 'topics' | 'kafka'>,
  changelog: string,
  admin$: AdminCall,
  logger: Logger,
): Promise<void> {
  const { topics } = config;
  const read = (topic: string, role: string): TopicRequirement => ({
    topic,
    operation: 'READ',
    role,
  });
  const write = (topic: string, role: string): TopicRequirement => ({
    topic,
    operation: 'WRITE',
    role,
  });
  const required = [
    ...definition.inputs.map((t) => read(t, 'input')),
    ...(definition.tables ?? []).map((t) => read(t.topic, 'table')),
    write(topics.dlq, 'dead-letter, TOPIC_DLQ'),
    write(topics.findings, 'findings, TOPIC_FINDINGS'),
    ...(definition.outputs ?? []).map((t) => write(t, 'output')),
    read(changelog, 'state changelog'),
    write(changelog, 'state changelog'),
  ];
  const access = await admin$(
    () => describeTopicAccess(kafka, [...new Set(required.map((r) => r.topic))]),
    'read topic ACLs',
  );
  if (!access) {
    logger.warn(
      'the broker cannot report topic ACLs (Metadata v8, Kafka 2.3+): a missing one shows at first use',
    );
    return;
  }
  const missing = missingTopicAccess(access, required);
  if (missing.length > 0) throw topicAccessError(missing, config.kafka);
}

/** A ConfigError when an output topic no longer exists (deleted while running); undefined while all do. */
export function missingOutputTopics(
  service: string,
  names: readonly string[],
  existing: ReadonlySet<string>,
): ConfigError | undefined {
  const missing = [...new Set(names)].filter((t) => !existing.has(t));
  if (missing.length === 0) return undefined;
  return new ConfigError(
    `cannot run ${service}`,
    missing.map(
      (t) =>
        `output topic ${t} does not exist (deleted while running?); create it with "tidemark topics create"`,
    ),
  );
}
