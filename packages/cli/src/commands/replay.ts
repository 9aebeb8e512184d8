import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseDuration, resolveTopics, type TopicCatalog } from '@tidemark/core';
import { DEFAULT_CONTRACTS_DIR, loadContractDir } from '@tidemark/contracts/node';
import { parseRoutingConfig, parseSilences } from '@tidemark/routing';
import {
  backtest,
  formatBacktest,
  parseRangeBound,
  replay,
  type ReplayInput,
  type ReplayProgress,
} from '@tidemark/replay';
import { readKafkaRange } from '../kafka-range.js';
import { topicOverridesFromEnv } from '../topic-env.js';
import {
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import type { Output } from '../io.js';
import { UsageError } from './topics.js';

const duration = (name: string) => (text: string) => {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
};

/** Routing and silences from the contracts directory, when it has them (no routing.yaml: no alerts/tickets). */
function routingFrom(dir: string) {
  const routingFile = path.join(dir, 'routing.yaml');
  const silencesFile = path.join(dir, 'silences.yaml');
  return {
    ...(existsSync(routingFile)
      ? { routing: parseRoutingConfig(readFileSync(routingFile, 'utf8'), routingFile) }
      : {}),
    ...(existsSync(silencesFile)
      ? { silences: parseSilences(readFileSync(silencesFile, 'utf8'), silencesFile) }
      : {}),
  };
}

/** Flags of the input source shared by `replay` and `contracts backtest` (and the connection flags). */
interface SourceFlags extends KafkaConnectionFlags {
  input?: string;
  fromKafka?: boolean;
  since?: string;
  until?: string;
}

function sourceOptions(command: Command): Command {
  // The connection flags are every Kafka command's (TLS, SASL; --help names their KAFKA_* variables).
  return withKafkaOptions(command)
    .option('--input <file>', 'JSONL: CloudEvents or record envelopes {topic, key, headers, value}')
    .option('--from-kafka', "read the input topics' records from the broker instead of a file")
    .option('--since <time|offset>', 'with --from-kafka: first record (RFC 3339 time or offset)')
    .option('--until <time|offset>', 'with --from-kafka: end, exclusive (RFC 3339 time or offset)');
}

/**
 * The replay input the flags name: a file, or the input topics' range read from Kafka (no group commits; topic
 * names from TOPIC_* as the services take them, which the replay then uses too).
 */
async function inputOf(
  opts: SourceFlags,
): Promise<{ input: ReplayInput; topics?: Partial<TopicCatalog> }> {
  if (opts.fromKafka) {
    if (opts.input) throw new UsageError('--input and --from-kafka: pick one');
    const bound = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      try {
        return parseRangeBound(v, flag);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    };
    const since = bound('--since', opts.since);
    const until = bound('--until', opts.until);
    const overrides = topicOverridesFromEnv();
    const t = resolveTopics(overrides);
    const input = await readKafkaRange({
      connection: kafkaConnectionFrom(opts),
      topics: [t.contentChanges, t.syncEvents, t.inventorySnapshots],
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
    });
    return { input, topics: overrides };
  }
  if (opts.since !== undefined || opts.until !== undefined)
    throw new UsageError('--since and --until need --from-kafka');
  if (!opts.input) throw new UsageError('an input is required: --input <file> or --from-kafka');
  if (!existsSync(opts.input)) throw new UsageError(`--input ${opts.input}: no such file`);
  return { input: opts.input };
}

/** `tidemark replay` and `tidemark contracts backtest`: the services in-process, on event time. */
export function registerReplay(program: Command, contracts: Command, out: Output): void {
  sourceOptions(
    program
      .command('replay')
      .description(
        'run every check in-process over a JSONL file of events (or a range of the input topics) on event time; writes findings, alerts, tickets, dlq and summary',
      ),
  )
    .requiredOption('--out <dir>', 'output directory')
    .option(
      '--contracts <dir>',
      'contracts directory (with routing.yaml for alerts and tickets)',
      DEFAULT_CONTRACTS_DIR,
    )
    .option(
      '--drain <duration>',
      'advance the clock this far past the last event so pending deadlines fire',
      duration('drain'),
      0,
    )
    .option('--tick <duration>', 'event time between ticks', duration('tick'), 10_000)
    .option(
      '--max-future-skew <duration>',
      'dead-letter a record further ahead of the stream watermark than this (MAX_FUTURE_SKEW), unless the stream goes on from there',
      duration('max-future-skew'),
      3_600_000,
    )
    .option('--quiet', 'no progress on stderr')
    .action(
      async (
        opts: SourceFlags & {
          out: string;
          contracts: string;
          drain: number;
          tick: number;
          maxFutureSkew: number;
          quiet?: boolean;
        },
      ) => {
        const { summary, metrics } = await replay({
          ...(await inputOf(opts)),
          contracts: await loadContractDir(opts.contracts),
          ...routingFrom(opts.contracts),
          out: opts.out,
          drainMs: opts.drain,
          tickMs: opts.tick,
          maxFutureSkewMs: opts.maxFutureSkew,
          ...(opts.quiet
            ? {}
            : {
                onProgress: (p: ReplayProgress) => {
                  process.stderr.write(
                    `${p.phase}: ${p.lines} lines, ${p.findings} findings, ${p.dlq} dead letters${p.eventTime ? `, at ${p.eventTime}` : ''}\n`,
                  );
                },
              }),
        });
        const lag = metrics.histogram('tidemark_sync_lag_seconds');
        out.info(JSON.stringify(summary, null, 2));
        if (lag && lag.count > 0 && lag.p50 !== null && lag.p99 !== null)
          out.info(
            `sync lag: p50 ${lag.p50.toFixed(1)}s, p99 ${lag.p99.toFixed(1)}s over ${lag.count} applied revisions`,
          );
        out.info(
          `wrote findings.jsonl, alerts.jsonl, tickets.jsonl, dlq.jsonl, summary.json to ${opts.out}/`,
        );
      },
    );

  sourceOptions(
    contracts
      .command('backtest')
      .description(
        'what each contract version would have fired on the same events (a file or a range of the input topics), and the difference per rule',
      ),
  )
    .requiredOption('--old <dir>', 'contracts before the change')
    .requiredOption('--new <dir>', 'contracts after the change')
    .option('--drain <duration>', 'advance the clock past the last event', duration('drain'), 0)
    .option(
      '--findings-only',
      "compare findings only (default: also route both sides through the --new dir's routing.yaml and silences.yaml)",
    )
    .action(
      async (
        opts: SourceFlags & {
          old: string;
          new: string;
          drain: number;
          findingsOnly?: boolean;
        },
      ) => {
        const result = await backtest({
          ...(await inputOf(opts)),
          oldContracts: await loadContractDir(opts.old),
          newContracts: await loadContractDir(opts.new),
          drainMs: opts.drain,
          ...(opts.findingsOnly ? {} : routingFrom(opts.new)),
        });
        out.info(formatBacktest(result));
      },
    );
}
