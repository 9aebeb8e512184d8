// The state changelog `tidemark.<service>.state`: created (compact, as many partitions as the inputs) or checked
// at start, and read back into new partitions' state (restore.ts does the reading). Writing to it is the second
// half of a flush (output-producer.ts): state changes plus the input-offsets marker, after the outputs.
import { ConfigError } from '@tidemark/core';
import type { PartitionState } from '@tidemark/core';
import type { Admin, Kafka, ProducerBatch, RecordMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { markUnreadTopics } from './event-time.js';
import type { Slot } from './partitions.js';
import { restorePartitions } from './restore.js';
import { createTopicsReady } from './topic-create.js';
import type { AdminCall } from './topology.js';

/** Creates the changelog if missing; otherwise checks its partition count and cleanup.policy (exit 2 if wrong). */
export async function ensureChangelog(
  admin: Admin,
  topic: string,
  partitionCount: number,
  service: string,
  admin$: AdminCall,
  logger: Logger,
): Promise<void> {
  const created = await admin$(
    () =>
      createTopicsReady(admin, [
        {
          topic,
          numPartitions: partitionCount,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ]),
    `create ${topic}`,
  );
  if (created) {
    logger.info({ topic, partitions: partitionCount }, 'changelog topic created');
    return;
  }
  const { topics } = await admin$(
    () => admin.fetchTopicMetadata({ topics: [topic] }),
    'read changelog metadata',
  );
  const partitions = topics[0]?.partitions.length ?? 0;
  const problems: string[] = [];
  if (partitions !== partitionCount) {
    problems.push(
      `changelog topic ${topic} has ${partitions} partitions but the inputs have ${partitionCount}; state of partition p lives in changelog partition p`,
    );
  }
  const described = await admin$(
    () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: 2 /* ConfigResourceTypes.TOPIC */,
            name: topic,
            configNames: ['cleanup.policy'],
          },
        ],
      }),
    'read changelog config',
  );
  const policy = described.resources[0]?.configEntries.find(
    (e) => e.configName === 'cleanup.policy',
  )?.configValue;
  // compact,delete would delete old state by age (retention.ms) — state lost as surely as without compact.
  if (policy !== undefined && policy.replace(/\s/g, '') !== 'compact') {
    problems.push(
      `changelog topic ${topic} has cleanup.policy=${policy}; it must be exactly compact (with delete, state older than retention.ms is lost)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`cannot start ${service}`, problems);
}

export interface ChangelogRestoreInput {
  kafka: Kafka;
  admin: Admin;
  /** Sends the restore barriers through the host's one producer (they queue with output batches). */
  sendBatch: (batch: ProducerBatch, what: string) => Promise<RecordMetadata[]>;
  topic: string;
  groupId: string;
  inputs: readonly string[];
  service: string;
  /** The newest changelog state format this service reads (its topology's `stateFormat`). */
  stateFormat: number;
  /** Event-time mode: also mark the inputs with records not read yet (they hold ticks back). */
  eventTime: { startFrom: 'earliest' | 'latest' } | undefined;
  stopping: () => boolean;
  onApplied: (records: number) => void;
  logger: Logger;
}

/** Reads new slots' state (and offsets marker) from the changelog, up to a barrier written now. */
export async function restoreFromChangelog<S extends PartitionState>(
  input: ChangelogRestoreInput,
  slots: Slot<S>[],
): Promise<void> {
  const { logger } = input;
  const abortReason = () => (input.stopping() ? 'stopping' : undefined);
  await restorePartitions({
    kafka: input.kafka,
    admin: input.admin,
    // Barriers queue behind (and ahead of) output batches like any other batch (see SerialProducer).
    producer: {
      sendBatch: (batch) => input.sendBatch(batch, `write restore barriers to ${input.topic}`),
    },
    topic: input.topic,
    groupId: input.groupId,
    targets: slots,
    logger: logger.child({ component: 'restore' }),
    onApplied: input.onApplied,
    abortReason,
    inputs: input.inputs,
    service: input.service,
    stateFormat: input.stateFormat,
  });
  if (input.eventTime) {
    await markUnreadTopics(
      {
        admin: input.admin,
        groupId: input.groupId,
        inputs: input.inputs,
        startFrom: input.eventTime.startFrom,
        logger,
      },
      slots,
    ).catch((error: unknown) =>
      logger.warn(
        { err: error },
        'could not read input offsets; unread topics will not hold ticks back',
      ),
    );
  }
}
