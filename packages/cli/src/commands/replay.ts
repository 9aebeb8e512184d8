import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '@tidemark/core';
import { DEFAULT_CONTRACTS_DIR, loadContractDir } from '@tidemark/contracts/node';
import { parseRoutingConfig, parseSilences } from '@tidemark/routing';
import { backtest, formatBacktest, replay, type ReplayProgress } from '@tidemark/replay';
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

/** `tidemark replay` and `tidemark contracts backtest`: the services in-process, on event time. */
export function registerReplay(program: Command, contracts: Command, out: Output): void {
  program
    .command('replay')
    .description(
      'run every check in-process over a JSONL file of events on event time; writes findings, alerts, tickets, dlq and summary',
    )
    .requiredOption(
      '--input <file>',
      'JSONL: CloudEvents or record envelopes {topic, key, headers, value}',
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
    .option('--quiet', 'no progress on stderr')
    .action(
      async (opts: {
        input: string;
        out: string;
        contracts: string;
        drain: number;
        tick: number;
        quiet?: boolean;
      }) => {
        if (!existsSync(opts.input)) throw new UsageError(`--input ${opts.input}: no such file`);
        const { summary, metrics } = await replay({
          input: opts.input,
          contracts: await loadContractDir(opts.contracts),
          ...routingFrom(opts.contracts),
          out: opts.out,
          drainMs: opts.drain,
          tickMs: opts.tick,
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

  contracts
    .command('backtest')
    .description(
      'what each contract version would have fired on the same events, and the difference per rule',
    )
    .requiredOption(
      '--input <file>',
      'JSONL events (e.g. events.jsonl from `tidemark simulate` or the demo)',
    )
    .requiredOption('--old <dir>', 'contracts before the change')
    .requiredOption('--new <dir>', 'contracts after the change')
    .option('--drain <duration>', 'advance the clock past the last event', duration('drain'), 0)
    .option(
      '--findings-only',
      "compare findings only (default: also route both sides through the --new dir's routing.yaml and silences.yaml)",
    )
    .action(
      async (opts: {
        input: string;
        old: string;
        new: string;
        drain: number;
        findingsOnly?: boolean;
      }) => {
        if (!existsSync(opts.input)) throw new UsageError(`--input ${opts.input}: no such file`);
        const result = await backtest({
          input: opts.input,
          oldContracts: await loadContractDir(opts.old),
          newContracts: await loadContractDir(opts.new),
          drainMs: opts.drain,
          ...(opts.findingsOnly ? {} : routingFrom(opts.new)),
        });
        out.info(formatBacktest(result));
      },
    );
}
