// A small service for the runtime's own tests and benchmark: echoes each event to an output topic with a
// per-key count kept in partition state. Not used by Tidemark's real services.
import { ConfigError, DependencyUnavailableError, KeyValueState } from '@tidemark/core';
import type { AnyCloudEvent, GlobalTable, OutputRecord, ServiceDefinition } from '@tidemark/core';

/** Options of the echo service. */
export interface EchoOptions {
  name: string;
  inputs: readonly string[];
  output: string;
  /** Compacted topic read as a global table; each echo carries the table's value for the record key. */
  table?: string;
  /** Milliseconds each record takes (to stop or kill a service mid-batch). @default 0 */
  delayMs?: number;
  /** A `data.title` that makes the handler throw (to test handler failures). */
  failTitle?: string;
  /**
   * A `data.title` whose records find a dependency unavailable (DependencyUnavailableError) on their first
   * `unavailableTimes` attempts in this process, then go through (to test outage retries).
   */
  unavailableTitle?: string;
  /** @default 0 */
  unavailableTimes?: number;
  /** A `data.title` whose record takes `slowMs` (one slow record among fast ones). */
  slowTitle?: string;
  /** Milliseconds the `slowTitle` record takes. @default 0 */
  slowMs?: number;
  /** Emit a `tick` record per partition on every tick. @default false */
  tick?: boolean;
  /** Name of this instance, copied into every echo (to tell two instances of one group apart). */
  instance?: string;
}

/** One echoed record as written to the output topic. */
export interface EchoOutput {
  id: string;
  sourceId: string;
  key: string | null;
  count: number;
  topic: string;
  partition: number;
  offset: string;
  table?: string | null;
  instance?: string;
}

/** A table that keeps the latest string value per key. */
export class StringTable implements GlobalTable {
  readonly values = new Map<string, string>();

  apply(key: string, value: Buffer | null): void {
    if (value === null) this.values.delete(key);
    else this.values.set(key, value.toString('utf8'));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The echo service definition. */
export function createEchoService(
  options: EchoOptions,
): ServiceDefinition<KeyValueState<number>, AnyCloudEvent> {
  const table = options.table ? new StringTable() : undefined;
  const delayMs = options.delayMs ?? 0;
  const unavailable = new Map<string, number>();
  return {
    name: options.name,
    inputs: options.inputs,
    outputs: [options.output],
    createState: () => new KeyValueState<number>(),
    metrics: [
      {
        name: 'tidemark_echo_records_total',
        help: 'Records echoed.',
        kind: 'counter',
        labelNames: ['topic'],
      },
    ],
    ...(table && options.table ? { tables: [{ topic: options.table, table }] } : {}),
    async handle(state, event, record, ctx): Promise<OutputRecord[]> {
      if (delayMs > 0) await sleep(delayMs);
      const data = event.data as { title?: unknown } | undefined;
      if (options.slowTitle !== undefined && data?.title === options.slowTitle)
        await sleep(options.slowMs ?? 0);
      if (options.failTitle !== undefined && data?.title === options.failTitle) {
        throw new Error(`title is ${options.failTitle}`);
      }
      if (options.unavailableTitle !== undefined && data?.title === options.unavailableTitle) {
        const attempts = (unavailable.get(event.id) ?? 0) + 1;
        unavailable.set(event.id, attempts);
        if (attempts <= (options.unavailableTimes ?? 0))
          throw new DependencyUnavailableError(
            'echo-dependency',
            `attempt ${attempts}: unavailable`,
          );
      }
      const key = record.key ?? '';
      const count = (state.get(key) ?? 0) + 1;
      state.set(key, count);
      ctx.metrics.record('tidemark_echo_records_total', { topic: record.topic }, 1);
      const out: EchoOutput = {
        id: `echo:${event.id}`,
        sourceId: event.id,
        key: record.key,
        count,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        ...(table ? { table: table.values.get(key) ?? null } : {}),
        ...(options.instance ? { instance: options.instance } : {}),
      };
      return [{ topic: options.output, key: record.key, value: JSON.stringify(out) }];
    },
    ...(options.tick
      ? {
          tick(state, ctx): OutputRecord[] {
            return [
              {
                topic: options.output,
                key: `tick/${ctx.partition}`,
                value: JSON.stringify({
                  type: 'tick',
                  partition: ctx.partition,
                  entries: state.size(),
                  now: ctx.now,
                }),
              },
            ];
          },
        }
      : {}),
  };
}

/** Echo options from ECHO_* variables (ECHO_SERVICE, ECHO_INPUTS, ECHO_OUTPUT, ECHO_TABLE, ECHO_DELAY_MS, ECHO_FAIL_TITLE, ECHO_UNAVAILABLE_TITLE, ECHO_UNAVAILABLE_TIMES, ECHO_SLOW_TITLE, ECHO_SLOW_MS, ECHO_TICK, ECHO_INSTANCE). */
export function echoOptionsFromEnv(env: NodeJS.ProcessEnv): EchoOptions {
  const problems: string[] = [];
  const name = env['ECHO_SERVICE'] ?? 'echo';
  const inputs = (env['ECHO_INPUTS'] ?? '').split(',').filter((s) => s.length > 0);
  const output = env['ECHO_OUTPUT'] ?? '';
  if (inputs.length === 0) problems.push('ECHO_INPUTS: required (comma-separated topics)');
  if (!output) problems.push('ECHO_OUTPUT: required (topic)');
  const delayMs = Number(env['ECHO_DELAY_MS'] ?? '0');
  if (!Number.isFinite(delayMs) || delayMs < 0)
    problems.push('ECHO_DELAY_MS: must be a number ≥ 0');
  const slowMs = Number(env['ECHO_SLOW_MS'] ?? '0');
  if (!Number.isFinite(slowMs) || slowMs < 0) problems.push('ECHO_SLOW_MS: must be a number ≥ 0');
  if (problems.length > 0) throw new ConfigError('invalid echo service configuration', problems);
  return {
    name,
    inputs,
    output,
    delayMs,
    ...(env['ECHO_TABLE'] ? { table: env['ECHO_TABLE'] } : {}),
    ...(env['ECHO_FAIL_TITLE'] ? { failTitle: env['ECHO_FAIL_TITLE'] } : {}),
    ...(env['ECHO_UNAVAILABLE_TITLE']
      ? {
          unavailableTitle: env['ECHO_UNAVAILABLE_TITLE'],
          unavailableTimes: Number(env['ECHO_UNAVAILABLE_TIMES'] ?? '1'),
        }
      : {}),
    ...(env['ECHO_SLOW_TITLE'] ? { slowTitle: env['ECHO_SLOW_TITLE'], slowMs } : {}),
    tick: env['ECHO_TICK'] === 'true',
    ...(env['ECHO_INSTANCE'] ? { instance: env['ECHO_INSTANCE'] } : {}),
  };
}
