import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULT_TOPICS, fingerprint, formatTime, parseDuration, parseTime } from '@tidemark/core';
import {
  MatcherSyntaxError,
  SilenceRecordError,
  SilenceTable,
  formatMatcher,
  parseMatchers,
  silenceActive,
  silenceFromRecord,
  silenceToRecord,
} from '@tidemark/routing';
import type { Matcher, Silence, SilenceRecord } from '@tidemark/routing';
import { kafkaAccessError, verifyBrokerCertificate, type KafkaConnection } from '@tidemark/runtime';
import type { Output } from '../io.js';
import {
  awaitGroupCoordinator,
  cliKafka,
  connectionFailure,
  kafkaConnectionFrom,
  withKafkaOptions,
  type KafkaConnectionFlags,
} from '../kafka-connection.js';
import { UsageError } from './topics.js';

/** What `silence add` is given, before validation. */
export interface SilenceInput {
  /** Matcher strings, each one or more comma-separated matchers in Alertmanager syntax. */
  matchers: readonly string[];
  /** Epoch ms. */
  startsAt: number;
  /** Duration text, e.g. `2h`. */
  duration: string;
  createdBy: string;
  comment: string;
  /** Longest silence allowed, ms. @default SILENCE_DEFAULTS.maxDurationMs (7 days) */
  maxDurationMs?: number;
}

/** Defaults of `silence add`. */
export const SILENCE_DEFAULTS = {
  /** A silence is for maintenance or an incident, not a way to switch a check off: at most 7 days. */
  maxDurationMs: 7 * 86_400_000,
} as const;

// Label values no real alert has: a matcher that accepts them (and the empty string) accepts any value.
const PROBE_VALUES = ['', 'a', 'zq-7.x_Q', '0', 'tidemark probe value'];

/**
 * Whether a matcher accepts any value of its label, e.g. `check=~".+"`, `check!="x"` or `check=~".*"`. Every alert
 * carries the labels silences match on (check, system, severity...), so such a matcher selects every alert.
 */
export function matchesAnyValue(m: Matcher): boolean {
  return PROBE_VALUES.slice(1).every((v) => m.test(v));
}

/**
 * Builds and validates a silence with a deterministic id (the fingerprint of its matchers, start and
 * creator); throws UsageError with the reason (bad matcher, duration, or a silence that would match all).
 */
export function buildSilence(input: SilenceInput): Silence {
  let matchers;
  try {
    matchers = input.matchers.flatMap((m) => parseMatchers(m));
  } catch (error) {
    if (error instanceof MatcherSyntaxError) throw new UsageError(`--matcher: ${error.message}`);
    throw error;
  }
  let duration: number;
  try {
    duration = parseDuration(input.duration);
  } catch (error) {
    throw new UsageError(`--duration: ${(error as Error).message}`);
  }
  const max = input.maxDurationMs ?? SILENCE_DEFAULTS.maxDurationMs;
  if (duration > max) {
    throw new UsageError(
      `--duration: ${input.duration} is longer than the maximum ${formatDuration(max)} (--max-duration)`,
    );
  }
  if (matchers.length > 0 && matchers.every(matchesAnyValue)) {
    throw new UsageError(
      `--matcher: ${matchers.map(formatMatcher).join(',')} matches every alert; name at least one label value (e.g. system="confluence")`,
    );
  }
  const text = matchers.map(formatMatcher).sort();
  const id = fingerprint({ matchers: text, startsAt: input.startsAt, createdBy: input.createdBy });
  const draft: Silence = {
    id,
    matchers,
    startsAt: input.startsAt,
    endsAt: input.startsAt + duration,
    createdBy: input.createdBy,
    comment: input.comment,
  };
  // The router applies silenceFromRecord to every record; run the same checks before producing one.
  try {
    return silenceFromRecord(id, JSON.stringify(silenceToRecord(draft)));
  } catch (error) {
    if (error instanceof SilenceRecordError)
      throw new UsageError(error.message.replace(`silence ${id}: `, ''));
    throw error;
  }
}

/**
 * The record that expires a silence at `now`: its end moves to now. A silence that has not started yet is
 * deleted instead (a tombstone), as Alertmanager does. Undefined when it has already ended.
 */
export function expireRecord(
  s: Silence,
  now: number,
): { key: string; value: string | null } | undefined {
  if (s.endsAt <= now) return undefined;
  if (s.startsAt >= now) return { key: s.id, value: null };
  return { key: s.id, value: JSON.stringify(silenceToRecord({ ...s, endsAt: now })) };
}

/** `active`, `pending` (starts later) or `expired` at `now`. */
export function silenceState(s: Silence, now: number): 'active' | 'pending' | 'expired' {
  if (silenceActive(s, now)) return 'active';
  return s.startsAt > now ? 'pending' : 'expired';
}

/** Lines of `silence list`: a header and one row per silence, columns padded. */
export function formatSilenceTable(silences: readonly Silence[], now: number): string[] {
  const rows = [
    ['ID', 'STATE', 'MATCHERS', 'STARTS', 'ENDS', 'CREATED BY', 'COMMENT'],
    ...[...silences]
      .sort((a, b) => a.endsAt - b.endsAt || (a.id < b.id ? -1 : 1))
      .map((s) => [
        s.id,
        silenceState(s, now),
        s.matchers.map(formatMatcher).join(','),
        formatTime(s.startsAt),
        formatTime(s.endsAt),
        s.createdBy,
        s.comment,
      ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** Where the silences live: the cluster and the compacted topic. */
export interface SilenceTopicOptions {
  connection: KafkaConnection;
  topic: string;
}

async function produce(
  opts: SilenceTopicOptions,
  key: string,
  value: string | null,
): Promise<void> {
  await verifyBrokerCertificate(opts.connection);
  const producer = cliKafka(opts.connection).producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic: opts.topic, acks: -1, messages: [{ key, value }] });
  } catch (cause) {
    const access = connectionFailure(cause, opts.connection, `write to ${opts.topic}`);
    if (access.name === 'KafkaAccessError') throw access;
    throw new Error(
      `cannot write to ${opts.topic} at ${opts.connection.brokers.join(',')}: ${(cause as Error).message}`,
      { cause },
    );
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads the whole compacted silences topic (from the beginning to its current end) into a SilenceTable,
 * with a throw-away consumer group that is deleted afterwards.
 */
export async function readSilenceTopic(
  opts: SilenceTopicOptions & { timeoutMs?: number },
): Promise<SilenceTable> {
  await verifyBrokerCertificate(opts.connection);
  const kafka = cliKafka(opts.connection);
  const admin = kafka.admin();
  const table = new SilenceTable();
  try {
    await admin.connect();
  } catch (cause) {
    throw connectionFailure(cause, opts.connection);
  }
  const groupId = `tidemark-cli-silences-${randomUUID()}`;
  try {
    if (!(await admin.listTopics()).includes(opts.topic))
      throw new UsageError(
        `topic ${opts.topic} does not exist (create it with \`tidemark topics create\`)`,
      );
    const ends = new Map<number, bigint>();
    for (const p of await admin.fetchTopicOffsets(opts.topic)) {
      if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
    }
    if (ends.size === 0) return table;
    // Joining a group on a fresh cluster can meet "the coordinator is loading" for longer than the client's
    // fail-fast retries (CI starts its brokers just before), and kafkajs crashes the consumer on it: wait for the
    // coordinator first. The read's own timeout still bounds the wait.
    await awaitGroupCoordinator(admin, groupId, opts.connection, opts.timeoutMs);
    const consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 200,
      retry: { retries: 12, initialRetryTime: 300, maxRetryTime: 3000 },
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out reading ${opts.topic} to its end`)),
          opts.timeoutMs ?? 30_000,
        );
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          clearTimeout(timer);
          reject(
            kafkaAccessError(payload.error, opts.connection, `read ${opts.topic}`) ?? payload.error,
          );
        });
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const key = message.key?.toString('utf8');
              if (key !== undefined) table.apply(key, message.value);
              const end = ends.get(partition);
              if (end !== undefined && BigInt(message.offset) + 1n >= end) ends.delete(partition);
              if (ends.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch((error: unknown) => {
            clearTimeout(timer);
            reject(
              kafkaAccessError(error, opts.connection, `read ${opts.topic}`) ?? (error as Error),
            );
          });
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return table;
  } finally {
    await admin.disconnect();
  }
}

function maxDuration(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`--max-duration: ${(error as Error).message}`);
  }
}

function formatDuration(ms: number): string {
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? `${days}d` : `${ms / 3_600_000}h`;
}

function topicOption(): Option {
  return new Option('-t, --topic <name>', 'the silences topic')
    .env('TOPIC_SILENCES')
    .default(DEFAULT_TOPICS.silences);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `tidemark silence add|expire|list`: silences on the compacted silences topic every alert-router reads. */
export function registerSilence(program: Command, out: Output, now: () => number = Date.now): void {
  const silence = program
    .command('silence')
    .description('add, expire and list alert silences (the compacted dq.silences.v1 topic)');

  withKafkaOptions(silence.command('add'))
    .description(
      'silence the alerts matching every matcher, from now (or --starts-at) for --duration',
    )
    .requiredOption(
      '-m, --matcher <matcher>',
      'Alertmanager matcher, e.g. \'system="confluence"\' or \'check=~"parity\\..*"\' (repeatable)',
      collect,
    )
    .requiredOption('-d, --duration <duration>', 'how long, e.g. 2h, 30m, 1d')
    .option('--created-by <name>', 'who adds it (default: the OS user)')
    .addOption(
      new Option('--max-duration <duration>', 'refuse silences longer than this')
        .env('TIDEMARK_SILENCE_MAX_DURATION')
        .default('7d'),
    )
    .requiredOption('-c, --comment <text>', 'why')
    .option('--starts-at <time>', 'RFC 3339 start time (default: now)')
    .addOption(topicOption())
    .action(
      async (
        opts: {
          matcher: string[];
          duration: string;
          createdBy?: string;
          maxDuration: string;
          comment: string;
          startsAt?: string;
          topic: string;
        } & KafkaConnectionFlags,
      ) => {
        const connection = kafkaConnectionFrom(opts);
        let startsAt = now();
        if (opts.startsAt !== undefined) {
          try {
            startsAt = parseTime(opts.startsAt);
          } catch (error) {
            throw new UsageError(`--starts-at: ${(error as Error).message}`);
          }
        }
        const s = buildSilence({
          matchers: opts.matcher,
          startsAt,
          duration: opts.duration,
          createdBy: opts.createdBy ?? userInfo().username,
          comment: opts.comment,
          maxDurationMs: maxDuration(opts.maxDuration),
        });
        const record: SilenceRecord = silenceToRecord(s);
        await produce({ connection, topic: opts.topic }, s.id, JSON.stringify(record));
        out.info(s.id);
      },
    );

  withKafkaOptions(silence.command('expire'))
    .description('end silences now (one that has not started yet is deleted)')
    .argument('<id...>', 'silence ids')
    .addOption(topicOption())
    .action(async (ids: string[], opts: { topic: string } & KafkaConnectionFlags) => {
      const where = { connection: kafkaConnectionFrom(opts), topic: opts.topic };
      const table = await readSilenceTopic(where);
      const at = now();
      for (const id of ids) {
        const s = table.get(id);
        if (!s) {
          out.error(`silence ${id} not found on ${opts.topic}`);
          out.exitCode(1);
          continue;
        }
        const record = expireRecord(s, at);
        if (!record) {
          out.info(`silence ${id} had already ended at ${formatTime(s.endsAt)}`);
          continue;
        }
        await produce(where, record.key, record.value);
        out.info(record.value === null ? `deleted ${id} (it had not started)` : `expired ${id}`);
      }
    });

  withKafkaOptions(silence.command('list'))
    .description('list active and pending silences')
    .option('-a, --all', 'include expired silences')
    .option('--json', 'print the records as JSON (Alertmanager API v2 silence form)')
    .addOption(topicOption())
    .action(
      async (opts: { topic: string; all?: boolean; json?: boolean } & KafkaConnectionFlags) => {
        const table = await readSilenceTopic({
          connection: kafkaConnectionFrom(opts),
          topic: opts.topic,
        });
        const at = now();
        for (const problem of table.rejected) out.error(`skipped a bad record: ${problem.message}`);
        const shown = table.all().filter((s) => opts.all || s.endsAt > at);
        if (opts.json) {
          out.info(
            JSON.stringify(
              shown.map((s) => ({ ...silenceToRecord(s), status: { state: silenceState(s, at) } })),
              null,
              2,
            ),
          );
          return;
        }
        if (shown.length === 0) {
          out.info(opts.all ? 'no silences' : 'no active or pending silences');
          return;
        }
        for (const line of formatSilenceTable(shown, at)) out.info(line);
      },
    );
}
