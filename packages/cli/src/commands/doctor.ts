import type { Command } from 'commander';
import { resolveTopics } from '@tidemark/core';
import { topicOverridesFromEnv } from '../topic-env.js';
import { compareTopics, planTopics } from '../topic-plan.js';
import { connectAdmin, describeTopics } from '../kafka-admin.js';
import { KafkaAccessError, kafkaAccessError } from '@tidemark/runtime';
import type { Output } from '../io.js';
import {
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import { instancesTopics } from '../service-instances.js';
import { instancesFrom, withInstanceOptions, type InstanceFlags } from './instances-option.js';

/** `tidemark doctor`: says in plain words whether this Kafka is ready for Tidemark. */
export function registerDoctor(program: Command, out: Output): void {
  withInstanceOptions(withKafkaOptions(program.command('doctor')))
    .description(
      'check the broker is reachable and the topics exist with matching partition counts',
    )
    .action(async (opts: KafkaConnectionFlags & InstanceFlags) => {
      const internal = instancesTopics(instancesFrom(opts));
      const createCommand = [
        'tidemark topics create',
        ...(opts.service ?? []).map((s) => `--service ${s}`),
      ].join(' ');
      const connection = kafkaConnectionFrom(opts);
      const catalog = resolveTopics(topicOverridesFromEnv());
      let admin;
      try {
        admin = await connectAdmin(connection, 5000);
      } catch (error) {
        out.error(`✗ ${(error as Error).message}`);
        out.exitCode(error instanceof KafkaAccessError ? 2 : 1);
        return;
      }
      try {
        const existing = await describeTopics(admin).catch((error: unknown) => {
          throw kafkaAccessError(error, connection, 'describe the topics') ?? error;
        });
        out.info(`✓ broker reachable at ${connection.brokers.join(',')}`);
        const content = existing.find((t) => t.name === catalog.contentChanges);
        const report = compareTopics(
          planTopics(catalog, content?.partitions ?? 3, internal),
          existing,
          catalog,
        );
        for (const name of report.ok) out.info(`✓ topic ${name}`);
        for (const t of report.create)
          out.error(`✗ topic ${t.name} is missing (${t.purpose}); run \`${createCommand}\``);
        for (const p of report.problems) out.error(`✗ ${p}`);
        const bad = report.create.length + report.problems.length;
        out.info(bad === 0 ? 'all good' : `${bad} problem(s) found`);
        if (bad > 0) out.exitCode(1);
      } finally {
        await admin.disconnect();
      }
    });
}
