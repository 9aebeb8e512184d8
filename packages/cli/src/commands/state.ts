import type { Command } from 'commander';
import { stateTopic } from '@tidemark/core';
import { createTopicsReady, RESET_KEY } from '@tidemark/runtime';
import type { Admin } from 'kafkajs';
import type { KafkaConnection } from '@tidemark/runtime';
import { connectAdmin } from '../kafka-admin.js';
import type { Output } from '../io.js';
import {
  cliKafka,
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import { UsageError } from './topics.js';

/** Options of `tidemark state reset`. */
export interface StateResetOptions {
  service: string;
  /** The cluster and its credentials (the CLI's shared connection flags). */
  connection: KafkaConnection;
  /** The service's consumer group. @default tidemark-<service> */
  group: string;
  /** Partitions of the changelog when it does not exist (else its own count is kept). */
  partitions?: number;
  /** Now, for the reset record. */
  now: number;
}

// Groups in these states have no live member: nobody reads or writes the changelog while it is recreated.
const IDLE_GROUP_STATES = new Set(['Empty', 'Dead', '']);

/**
 * Resets a service's state to empty, accepting the loss: deletes its changelog (if any), creates it again
 * empty (cleanup.policy=compact, same partition count) and writes a reset record to every partition, so the
 * runtime's lost-changelog check (an empty changelog behind committed input offsets) lets the service start.
 * The group's committed input offsets are kept: the service continues where it stopped, with empty state.
 * Refuses while the service's group has live members.
 */
export async function resetState(options: StateResetOptions, out: Output): Promise<void> {
  const topic = stateTopic(options.service);
  const admin = await connectAdmin(options.connection);
  try {
    const {
      groups: [group],
    } = await admin.describeGroups([options.group]);
    if (group && !IDLE_GROUP_STATES.has(group.state)) {
      throw new UsageError(
        `group ${options.group} has ${group.members.length} live member(s) (state ${group.state}): stop every instance of ${options.service} first`,
      );
    }
    const existing = (await admin.listTopics()).includes(topic);
    let partitions = options.partitions;
    if (existing) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      partitions = topics[0]?.partitions.length ?? partitions;
      await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
      out.info(`deleted ${topic}`);
    }
    if (partitions === undefined) {
      throw new UsageError(
        `${topic} does not exist; pass --partitions (the partition count of ${options.service}'s inputs)`,
      );
    }
    await createWhenDeleted(admin, topic, partitions);
    out.info(`created ${topic} (${partitions} partitions, compact)`);
    const kafka = cliKafka(options.connection, 'tidemark-cli');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const value = JSON.stringify({
        resetAt: new Date(options.now).toISOString(),
        by: 'tidemark state reset',
      });
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: partitions }, (_, partition) => ({
          key: RESET_KEY,
          value,
          partition,
        })),
      });
    } finally {
      await producer.disconnect();
    }
    out.info(
      `state of ${options.service} reset: it continues from the committed offsets of group ${options.group} with empty state`,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Creates the topic, waiting while the broker still finishes deleting its previous incarnation. */
async function createWhenDeleted(admin: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const created = await createTopicsReady(admin, [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: -1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ]);
      // Not created: the previous incarnation is still listed (its deletion is under way); try again shortly.
      if (created) {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        if (topics[0]?.partitions.length === partitions) return;
      }
    } catch (error) {
      // TOPIC_ALREADY_EXISTS / UNKNOWN_TOPIC while the deletion is still under way: try again shortly.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`${topic} could not be created again within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `tidemark state reset <service>`: accept the loss of a service's state explicitly. */
export function registerState(program: Command, out: Output): void {
  const state = program.command('state').description("manage a service's partition state");
  withKafkaOptions(state.command('reset'))
    .description(
      "reset a service's state to empty: recreate its changelog tidemark.<service>.state empty and mark it,\n" +
        'so the service starts again after its changelog was lost (it refuses to start on a changelog younger\n' +
        'than its committed offsets). Committed input offsets are kept. Stop every instance first.',
    )
    .argument('<service>', 'service name, e.g. freshness-monitor (as in its changelog topic)')
    .option('-y, --yes', 'really delete the current state (required)')
    .option('-g, --group <id>', 'consumer group of the service (default: tidemark-<service>)')
    .option(
      '-p, --partitions <n>',
      "partitions of the changelog if it does not exist (the inputs' partition count)",
    )
    .action(
      async (
        service: string,
        opts: KafkaConnectionFlags & { yes?: boolean; group?: string; partitions?: string },
      ) => {
        if (!/^[a-zA-Z0-9._-]{1,200}$/.test(service))
          throw new UsageError(`service name must be 1–200 of a-z A-Z 0-9 . _ -, got "${service}"`);
        let partitions: number | undefined;
        if (opts.partitions !== undefined) {
          partitions = Number(opts.partitions);
          if (!Number.isInteger(partitions) || partitions < 1)
            throw new UsageError(
              `--partitions must be a whole number ≥ 1, got ${JSON.stringify(opts.partitions)}`,
            );
        }
        if (!opts.yes) {
          throw new UsageError(
            `this deletes every state entry of ${service} (${stateTopic(service)}); run again with --yes to do it`,
          );
        }
        await resetState(
          {
            service,
            connection: kafkaConnectionFrom(opts),
            group: opts.group ?? `tidemark-${service}`,
            ...(partitions === undefined ? {} : { partitions }),
            now: Date.now(),
          },
          out,
        );
      },
    );
}
