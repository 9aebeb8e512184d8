import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { formatScorecard, parseFaultPlan } from '@tidemark/sim';
import type { Output } from '../io.js';
import {
  kafkaConnectionEnv,
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import { DemoAborted, runDemo } from '../demo/run.js';
import { connectAdmin } from '../kafka-admin.js';
import { UsageError } from './topics.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

const positive = (name: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
};

/**
 * Defaults of `tidemark demo`: 18 hours of three systems in three minutes. 3,000 documents changing eight times a
 * day give the wiki about 330 changes an hour (150 in its busiest class), above the contracts' minimums for a
 * null-rate verdict (50 per class and hour) and a drift verdict (200 per hour), so every fault in the plan is
 * decidable; 18 hours leave a full 6-hour window before the language fault as its baseline.
 */
export const DEMO_DEFAULTS = { docs: 3000, changes: 8, days: 0.75, speed: 360 } as const;

/** `tidemark demo`: the whole system on the local broker, with simulated faults, in a few minutes. */
export function registerDemo(program: Command, out: Output): void {
  withKafkaOptions(program.command('demo'))
    .description(
      'start every service, replay simulated sync traffic with injected faults live through Kafka, show what Tidemark finds, and score it',
    )
    .option('--docs <n>', 'documents across all systems', positive('docs'), DEMO_DEFAULTS.docs)
    .option(
      '--changes <n>',
      'content changes per document per day',
      positive('changes'),
      DEMO_DEFAULTS.changes,
    )
    .option(
      '--days <n>',
      'simulated event time in days (compressed into minutes)',
      positive('days'),
      DEMO_DEFAULTS.days,
    )
    .option('--seed <n>', 'simulator seed (same seed, same events)', positive('seed'), 7)
    .option(
      '--speed <n>',
      'seconds of event time produced per wall-clock second',
      positive('speed'),
      DEMO_DEFAULTS.speed,
    )
    .option('--faults <file>', "fault plan YAML (default: the simulator's, every kind of fault)")
    .option('--partitions <n>', "partitions of the run's topics", positive('partitions'), 3)
    .option(
      '--port <n>',
      'first HTTP port of the services (five in a row)',
      positive('port'),
      18080,
    )
    .option('--contracts <dir>', 'contracts directory', path.join(ROOT, 'contracts'))
    .option('--out <dir>', 'where outputs go (default .tidemark/demo-<run id>)')
    .option('--no-live', 'print progress lines instead of redrawing the view')
    .option('--keep-topics', "leave the run's topics and consumer groups on the broker")
    .action(
      async (
        opts: {
          docs: number;
          changes: number;
          days: number;
          seed: number;
          speed: number;
          partitions: number;
          port: number;
          contracts: string;
          out?: string;
          faults?: string;
          live: boolean;
          keepTopics?: boolean;
        } & KafkaConnectionFlags,
      ) => {
        const connection = kafkaConnectionFrom(opts);
        // Fail fast, in plain words, when no broker answers (or it refuses us): the run's own clients retry for
        // minutes, to ride out a broker hiccup mid-run.
        await (await connectAdmin(connection)).disconnect();
        const runId = new Date()
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\..*/, '')
          .replace('T', '-')
          .toLowerCase();
        const outDir = path.resolve(opts.out ?? path.join(ROOT, '.tidemark', `demo-${runId}`));
        const abort = new AbortController();
        const onSignal = () => {
          out.error('\ninterrupted: stopping the services…');
          abort.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const result = await runDemo({
            root: ROOT,
            brokers: connection.brokers.join(','),
            connection,
            // The services are started with the same connection settings (they read them from the environment).
            kafkaEnv: kafkaConnectionEnv(opts),
            contractsDir: path.resolve(opts.contracts),
            out: outDir,
            seed: Math.round(opts.seed),
            docs: Math.round(opts.docs),
            changesPerDocPerDay: opts.changes,
            days: opts.days,
            ...(opts.faults
              ? { faults: parseFaultPlan(readFileSync(opts.faults, 'utf8'), opts.faults) }
              : {}),
            keepTopics: opts.keepTopics === true,
            speed: opts.speed,
            partitions: Math.round(opts.partitions),
            basePort: Math.round(opts.port),
            runId,
            live: opts.live && process.stdout.isTTY === true,
            write: (text) => process.stdout.write(text),
            signal: abort.signal,
          });
          out.info('');
          out.info(formatScorecard(result.scorecard));
          out.info('');
          for (const note of result.notes) out.info(`note: ${note}`);
          if (result.notes.length > 0) out.info('');
          out.info(
            `outputs: ${path.relative(process.cwd(), outDir) || outDir}/ (findings, alerts, tickets, dlq .jsonl; events.jsonl to replay; truth.json; scorecard; logs/)`,
          );
          out.info(
            `replay the same input: npm run tidemark -- replay --input ${path.join(outDir, 'events.jsonl')} --out ${path.join(outDir, 'replay')}`,
          );
          for (const p of result.problems) out.error(`below threshold: ${p}`);
          if (result.problems.length > 0) out.exitCode(1);
        } catch (error) {
          if (error instanceof DemoAborted) {
            out.error('demo stopped; services shut down');
            out.exitCode(130);
            return;
          }
          throw error;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          // A kafkajs client whose request failed mid-way can keep reconnecting after disconnect(); the demo is
          // over, so nothing may keep the process alive (the timer itself does not).
          setTimeout(() => process.exit(), 5_000).unref();
        }
      },
    );
}
