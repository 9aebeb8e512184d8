import type { Command } from 'commander';
import { resolveTopics } from '@tidemark/core';
import { topicOverridesFromEnv } from '../topic-env.js';
import { compareTopics, planTopics } from '../topic-plan.js';
import { connectAdmin, describeTopics } from '../kafka-admin.js';
import type { Output } from '../io.js';
import {
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import { createTopicsReady, kafkaAccessError } from '@tidemark/runtime';
import { instancesTopics } from '../service-instances.js';
import { UsageError } from '../usage-error.js';
import { instancesFrom, withInstanceOptions, type InstanceFlags } from './instances-option.js';

/** `tidemark topics create`: creates every topic Tidemark needs; safe to run again. */
export function registerTopics(program: Command, out: Output): void {
  const topics = program.command('topics').description('manage the Kafka topics Tidemark uses');
  withInstanceOptions(withKafkaOptions(topics.command('create')))
    .description(
      'create the input, output, changelog and internal topics of the services (idempotent; never changes existing ones)',
    )
    .option('-p, --partitions <n>', 'partitions of the co-partitioned topics', '3')
    .action(async (opts: { partitions: string } & KafkaConnectionFlags & InstanceFlags) => {
      const partitions = Number(opts.partitions);
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new UsageError(
          `--partitions must be a whole number ≥ 1, got ${JSON.stringify(opts.partitions)}`,
        );
      }
      const internal = instancesTopics(instancesFrom(opts));
      const connection = kafkaConnectionFrom(opts);
      const catalog = resolveTopics(topicOverridesFromEnv());
      const admin = await connectAdmin(connection);
      try {
        const report = compareTopics(
          planTopics(catalog, partitions, internal),
          await describeTopics(admin),
          catalog,
        );
        if (report.create.length > 0) {
          await createTopicsReady(
            admin,
            report.create.map((t) => ({
              topic: t.name,
              numPartitions: t.partitions,
              replicationFactor: -1,
              configEntries: [{ name: 'cleanup.policy', value: t.cleanupPolicy }],
            })),
          ).catch((error: unknown) => {
            throw kafkaAccessError(error, connection, 'create topics') ?? error;
          });
        }
        for (const t of report.create)
          out.info(`created ${t.name} (${t.partitions} partitions, ${t.cleanupPolicy})`);
        for (const name of report.ok) out.info(`exists  ${name}`);
        for (const p of report.problems) out.error(`problem: ${p}`);
        if (report.problems.length > 0) out.exitCode(1);
      } finally {
        await admin.disconnect();
      }
    });
}

// Defined apart so modules the commands import can throw it too; every command imports it from here.
export { UsageError } from '../usage-error.js';
