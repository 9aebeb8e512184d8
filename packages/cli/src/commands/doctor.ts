import type { Command } from 'commander';
import { resolveTopics } from '@tidemark/core';
import { compareTopics, planTopics } from '../topic-plan.js';
import { connectAdmin, describeTopics } from '../kafka-admin.js';
import { brokersOption, type Output } from '../io.js';
import { INTERNAL_TOPICS } from '../internal-topics.js';

/** `tidemark doctor`: says in plain words whether this Kafka is ready for Tidemark. */
export function registerDoctor(program: Command, out: Output): void {
  program
    .command('doctor')
    .description(
      'check the broker is reachable and the topics exist with matching partition counts',
    )
    .addOption(brokersOption())
    .action(async (opts: { brokers: string }) => {
      const catalog = resolveTopics();
      let admin;
      try {
        admin = await connectAdmin({ brokers: opts.brokers, timeoutMs: 5000 });
      } catch (error) {
        out.error(`✗ ${(error as Error).message}`);
        out.exitCode(1);
        return;
      }
      try {
        const existing = await describeTopics(admin);
        out.info(`✓ broker reachable at ${opts.brokers}`);
        const content = existing.find((t) => t.name === catalog.contentChanges);
        const report = compareTopics(
          planTopics(catalog, content?.partitions ?? 3, INTERNAL_TOPICS),
          existing,
          catalog,
        );
        for (const name of report.ok) out.info(`✓ topic ${name}`);
        for (const t of report.create)
          out.error(`✗ topic ${t.name} is missing (${t.purpose}); run \`tidemark topics create\``);
        for (const p of report.problems) out.error(`✗ ${p}`);
        const bad = report.create.length + report.problems.length;
        out.info(bad === 0 ? 'all good' : `${bad} problem(s) found`);
        if (bad > 0) out.exitCode(1);
      } finally {
        await admin.disconnect();
      }
    });
}
