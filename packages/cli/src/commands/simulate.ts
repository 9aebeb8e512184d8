import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Partitioners } from 'kafkajs';
import { parseTime, resolveTopics } from '@tidemark/core';
import { loadContractDir } from '@tidemark/contracts/node';
import {
  alignProfiles,
  defaultFaultPlan,
  failures,
  formatScorecard,
  parseFaultPlan,
  readFinding,
  readTruth,
  score,
  simulate,
  type ScoredFinding,
} from '@tidemark/sim';
import { parseDuration } from '@tidemark/core';
import { kafkaAccessError, verifyBrokerCertificate } from '@tidemark/runtime';
import type { Output } from '../io.js';
import {
  cliKafka,
  connectionFailure,
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import { envelopeLine, produceAtRate } from '../sim-io.js';
import { UsageError } from './topics.js';

const number =
  (name: string, min = 0) =>
  (text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min)
      throw new UsageError(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(text)}`);
    return n;
  };

/** `tidemark simulate` and `tidemark score`: synthetic traffic with known faults, and grading against it. */
export function registerSimulate(program: Command, out: Output): void {
  withKafkaOptions(program.command('simulate'))
    .description(
      'write realistic source/index events with injected faults (events.jsonl) and their ground truth (truth.json)',
    )
    .requiredOption(
      '--seed <n>',
      'seed: the same options give byte-identical output',
      number('seed'),
    )
    .option(
      '--systems <list>',
      'comma-separated source systems (those of the contracts by default)',
    )
    .option('--docs <n>', 'documents across all systems', number('docs', 1), 300)
    .option('--days <n>', 'length of the run in days (fractional allowed)', number('days'), 1)
    .option('--start <time>', 'RFC 3339 start of the run', '2026-11-02T00:00:00Z')
    .option('--faults <file>', 'fault plan YAML (default: one fault of every check)')
    .option('--no-faults', 'a clean run: no faults at all')
    .option('--contracts <dir>', 'contracts to align the simulated systems with', 'contracts')
    .option('--out <dir>', 'where events.jsonl, truth.json and meta.json go')
    .option(
      '--binary-share <x>',
      'share of records sent in CloudEvents binary mode (ce_* headers)',
      number('binary-share'),
      0,
    )
    .option(
      '--duplicate-share <x>',
      'share of records delivered twice',
      number('duplicate-share'),
      0,
    )
    .option(
      '--stale-share <x>',
      'share of documents whose older index event is delivered again after a newer one',
      number('stale-share'),
      0,
    )
    .option(
      '--chunk-size <n>',
      'ids per inventory chunk (at most 10000)',
      number('chunk-size', 1),
      10_000,
    )
    .option('--shuffle-chunks', "send an inventory snapshot's chunks in a shuffled order")
    .option('--produce', 'send the events to Kafka live instead of (or besides) writing them')
    .option('--rate <n>', 'with --produce: records per second', number('rate', 1), 1000)
    .action(
      async (
        opts: {
          seed: number;
          systems?: string;
          docs: number;
          days: number;
          start: string;
          faults?: string | boolean;
          contracts: string;
          out?: string;
          produce?: boolean;
          rate: number;
          binaryShare: number;
          duplicateShare: number;
          staleShare: number;
          chunkSize: number;
          shuffleChunks?: boolean;
        } & KafkaConnectionFlags,
      ) => {
        if (!opts.out && !opts.produce)
          throw new UsageError('nothing to do: give --out <dir>, --produce, or both');
        // Validated before the simulation runs, so a bad CA path fails at once and not after minutes.
        const connection = opts.produce ? kafkaConnectionFrom(opts) : undefined;
        const contracts = await loadContractDir(opts.contracts);
        const faults =
          opts.faults === false
            ? { faults: [] }
            : typeof opts.faults === 'string'
              ? parseFaultPlan(readFileSync(opts.faults, 'utf8'), opts.faults)
              : defaultFaultPlan();
        const sim = simulate({
          seed: Math.round(opts.seed),
          docs: Math.round(opts.docs),
          days: opts.days,
          start: parseTime(opts.start),
          faults,
          profiles: alignProfiles(contracts),
          ...(opts.systems ? { systems: opts.systems.split(',').map((s) => s.trim()) } : {}),
          topics: resolveTopics(),
          noise: {
            binaryShare: opts.binaryShare,
            duplicateShare: opts.duplicateShare,
            staleShare: opts.staleShare,
          },
          inventoryChunkSize: Math.round(opts.chunkSize),
          shuffleChunks: opts.shuffleChunks === true,
        });
        for (const w of sim.meta.warnings) out.error(`warning: ${w}`);
        if (opts.out) {
          mkdirSync(opts.out, { recursive: true });
          const file = createWriteStream(path.join(opts.out, 'events.jsonl'));
          let n = 0;
          for (const rec of sim.events) {
            if (!file.write(`${envelopeLine(rec)}\n`))
              await new Promise<void>((r) => file.once('drain', () => r()));
            n++;
          }
          await new Promise<void>((resolve, reject) =>
            file.end((e?: Error | null) => (e ? reject(e) : resolve())),
          );
          writeFileSync(
            path.join(opts.out, 'truth.json'),
            `${JSON.stringify(sim.truth, null, 2)}\n`,
          );
          writeFileSync(path.join(opts.out, 'meta.json'), `${JSON.stringify(sim.meta, null, 2)}\n`);
          out.info(`wrote ${n} events and ${sim.truth.length} injected faults to ${opts.out}/`);
        }
        if (connection) {
          await verifyBrokerCertificate(connection);
          const producer = cliKafka(connection, 'tidemark-simulate').producer({
            createPartitioner: Partitioners.DefaultPartitioner,
            idempotent: true,
            maxInFlightRequests: 1,
          });
          await producer.connect().catch((cause: unknown) => {
            throw connectionFailure(cause, connection);
          });
          try {
            const n = await produceAtRate(producer, sim.events, {
              rate: opts.rate,
              onProgress: (p) => {
                if (p % 10_000 < 500) process.stderr.write(`produced ${p}\n`);
              },
            });
            out.info(`produced ${n} events to ${connection.brokers.join(',')}`);
          } catch (error) {
            throw kafkaAccessError(error, connection, 'write the input topics') ?? error;
          } finally {
            await producer.disconnect();
          }
        }
      },
    );

  program
    .command('score')
    .description(
      'grade findings against a simulator ground truth: recall, precision and time to detect per check',
    )
    .requiredOption('--truth <file>', 'truth.json from `tidemark simulate` or the demo')
    .requiredOption(
      '--findings <file>',
      'findings.jsonl (findings, CloudEvents or record envelopes)',
    )
    .option('--min-recall <x>', "exit 1 when a check's recall is lower", number('min-recall'))
    .option(
      '--min-precision <x>',
      "exit 1 when a check's precision is lower",
      number('min-precision'),
    )
    .option('--max-ttd <duration>', 'exit 1 when a check takes longer to detect (e.g. 10m)')
    .option('--ignore <checks>', 'comma-separated checks to leave out')
    .action(
      (opts: {
        truth: string;
        findings: string;
        minRecall?: number;
        minPrecision?: number;
        maxTtd?: string;
        ignore?: string;
      }) => {
        const truth = readTruth(JSON.parse(readFileSync(opts.truth, 'utf8')));
        const findings: ScoredFinding[] = [];
        readFileSync(opts.findings, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (line.trim() === '') return;
            let value: unknown;
            try {
              value = JSON.parse(line);
            } catch {
              throw new UsageError(`${opts.findings}:${i + 1}: not JSON`);
            }
            const f = readFinding(value);
            if (f) findings.push(f);
          });
        const card = score({
          truth,
          findings,
          ...(opts.ignore ? { ignoreChecks: opts.ignore.split(',') } : {}),
        });
        out.info(formatScorecard(card));
        const problems = failures(card, {
          ...(opts.minRecall !== undefined ? { minRecall: opts.minRecall } : {}),
          ...(opts.minPrecision !== undefined ? { minPrecision: opts.minPrecision } : {}),
          ...(opts.maxTtd ? { maxTtdMs: parseDuration(opts.maxTtd) } : {}),
        });
        for (const p of problems) out.error(`below threshold: ${p}`);
        if (problems.length > 0) out.exitCode(1);
      },
    );
}
