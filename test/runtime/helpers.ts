// The one helper module of the broker tests (test/**, against the broker test/setup/kafka.global.ts started or
// found): unique names, topics, a producer, readers (a collecting one and consumeAll), polling, and a built service
// run as a real process — by default the runtime's echo fixture (packages/runtime/dist/testing/echo-main.js, built
// by tsc --build). Every test makes its own topics and groups with unique(), so files can run in parallel.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopicsReady } from '@tidemark/runtime';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { afterAll, afterEach, onTestFailed } from 'vitest';
import type { Admin, Consumer, IHeaders, KafkaMessage, Message, Producer } from 'kafkajs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ECHO_MAIN = path.join(ROOT, 'packages/runtime/dist/testing/echo-main.js');
/** Broker list the tests use: KAFKA_BROKERS (set by the global setup), else 127.0.0.1:$KAFKA_PORT (9092). */
export const BROKERS = (
  process.env['KAFKA_BROKERS'] ?? `127.0.0.1:${process.env['KAFKA_PORT'] ?? '9092'}`
)
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');

export const kafka = new Kafka({
  clientId: 'runtime-tests',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
});

/** A name no other test (or earlier run against the same broker) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Runs fn with a connected admin client and disconnects it afterwards. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Thrown by createTopics when a topic already exists: with unique names that means a test bug. */
export class TopicExistsError extends Error {
  override readonly name = 'TopicExistsError';
  readonly retriable = false;
  constructor(readonly topics: readonly string[]) {
    super(`createTopics: some of these topics already exist: ${topics.join(', ')}`);
  }
}

/** Creates topics (`partitions` each, optionally compacted and with topic configs) and waits for their leaders. */
export async function createTopics(
  topics: readonly string[],
  partitions = 3,
  compact = false,
  config: Readonly<Record<string, string>> = {},
): Promise<void> {
  const entries = Object.entries({
    ...(compact ? { 'cleanup.policy': 'compact' } : {}),
    ...config,
  }).map(([name, value]) => ({ name, value }));
  const created = await withAdmin((admin) =>
    createTopicsReady(
      admin,
      topics.map((topic) => ({
        topic,
        numPartitions: partitions,
        ...(entries.length > 0 ? { configEntries: entries } : {}),
      })),
    ),
  );
  if (!created) throw new TopicExistsError(topics);
}

/** Unique names of one echo service and its topics (input, output, DLQ, findings), not created yet. */
export function echoTopicNames(prefix: string) {
  return {
    input: unique(`${prefix}-in`),
    output: unique(`${prefix}-out`),
    dlq: unique(`${prefix}-dlq`),
    findings: unique(`${prefix}-findings`),
    service: unique(prefix),
  };
}

/** Topics one echo service needs, created with `partitions` each. */
export async function echoTopics(prefix: string, partitions = 3) {
  const t = echoTopicNames(prefix);
  await createTopics([t.input, t.output, t.dlq, t.findings], partitions);
  return t;
}

let producer: Producer | undefined;
/** Produces messages (acks=all) with a shared idempotent test producer; a file closes it with closeProducer. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  if (!producer) {
    // Idempotent: a retried send must not put an input in twice (tests count outputs per input).
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
  }
  await producer.send({ topic, acks: -1, messages });
}

/** Disconnects the shared producer (afterAll). */
export async function closeProducer(): Promise<void> {
  await producer?.disconnect();
  producer = undefined;
}

/** A valid content.upserted CloudEvent for document `doc` of system `wiki`, keyed like the spec says. */
export function contentEvent(
  id: string,
  doc: string,
  extra: { title?: string; headers?: IHeaders } = {},
): Message {
  return {
    key: `wiki/${doc}`,
    value: JSON.stringify({
      specversion: '1.0',
      id,
      source: 'connector/test',
      type: 'content.upserted',
      time: '2026-01-01T00:00:00Z',
      subject: `wiki/${doc}`,
      data: {
        system: 'wiki',
        docId: doc,
        revision: 1,
        contentClass: 'policy',
        title: extra.title ?? 'a title',
      },
    }),
    ...(extra.headers ? { headers: extra.headers } : {}),
  };
}

/** One record as read back by a Collector. */
export interface Received {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads topics from the beginning into `records` until closed. */
export class Collector {
  readonly records: Received[] = [];
  #consumer: Consumer | undefined;

  static async start(topics: readonly string[]): Promise<Collector> {
    const c = new Collector();
    const consumer = kafka.consumer({ groupId: unique('collector'), maxWaitTimeInMs: 200 });
    c.#consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        c.records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: decodeHeaders(message, 'first'),
        });
      },
    });
    return c;
  }

  on(topic: string): Received[] {
    return this.records.filter((r) => r.topic === topic);
  }

  json<T>(topic: string): T[] {
    return this.on(topic).map((r) => JSON.parse(r.value!.toString()) as T);
  }

  async waitFor(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
    await waitUntil(what, predicate, timeoutMs);
  }

  async close(): Promise<void> {
    await this.#consumer?.disconnect();
  }
}

/** Headers as UTF-8 strings; of a repeated header, the first or the last value. */
function decodeHeaders(message: KafkaMessage, repeated: 'first' | 'last'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const one = Array.isArray(value) ? value[repeated === 'first' ? 0 : value.length - 1] : value;
    if (one !== undefined) headers[name] = one.toString();
  }
  return headers;
}

/** One record read back by consumeAll, with key, value and headers decoded as UTF-8. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  /** Decoded headers; when a key repeats, the last value wins (all are in message.headers). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
  /** The record as kafkajs returned it (original bytes). */
  readonly message: KafkaMessage;
}

/** When consumeAll stops reading. */
export interface ConsumeAllOptions {
  /**
   * A record count to wait for, or a predicate over the records read so far. @default the end
   * offsets of every partition at the time of the call (read what is there, then stop)
   */
  readonly until?: number | ((records: readonly ConsumedRecord[]) => boolean);
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** Consumer group to read with. @default a fresh unique('consume-all') */
  readonly groupId?: string;
}

/** Thrown by consumeAll when `until` is not reached in time; carries what was read. */
export class ConsumeTimeoutError extends Error {
  override readonly name = 'ConsumeTimeoutError';
  readonly retriable = false;
  constructor(
    readonly topic: string,
    readonly records: readonly ConsumedRecord[],
    readonly timeoutMs: number,
    wanted: string,
  ) {
    super(
      `consumeAll(${topic}): ${records.length} record(s) after ${timeoutMs} ms, wanted ${wanted}`,
    );
  }
}

/**
 * Reads a topic from the beginning into an array, ordered by partition then offset, and stops
 * when `until` holds (every record read by then is returned, possibly more than a count asked for).
 */
export async function consumeAll(
  topic: string,
  { until, timeoutMs = 30_000, groupId = unique('consume-all') }: ConsumeAllOptions = {},
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const reading = { topic, groupId, records, timeoutMs };
  let done: () => boolean;
  let wanted: string;
  if (until === undefined) {
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    const next = new Map<number, number>(ends.map((p) => [p.partition, Number(p.low)]));
    const high = new Map<number, number>(ends.map((p) => [p.partition, Number(p.high)]));
    // Offsets, not counts: compaction and transaction markers leave gaps.
    done = () => [...high].every(([p, h]) => (next.get(p) ?? 0) >= h);
    wanted = `the end offsets ${JSON.stringify(Object.fromEntries(high))}`;
    const track = (r: ConsumedRecord) => next.set(r.partition, Number(r.offset) + 1);
    if (done()) return records;
    return read({ ...reading, done, wanted, track });
  }
  if (typeof until === 'number') {
    done = () => records.length >= until;
    wanted = `${until}`;
  } else {
    done = () => until(records);
    wanted = 'the until() predicate to hold';
  }
  return read({ ...reading, done, wanted });
}

interface Reading {
  topic: string;
  groupId: string;
  records: ConsumedRecord[];
  timeoutMs: number;
  done: () => boolean;
  wanted: string;
  track?: (r: ConsumedRecord) => void;
}

async function read({
  topic,
  groupId,
  records,
  timeoutMs,
  done,
  wanted,
  track,
}: Reading): Promise<ConsumedRecord[]> {
  // A short fetch wait keeps the stop (disconnect) and any rebalance quick.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const record = toRecord(topic, batch.partition, message);
          records.push(record);
          track?.(record);
        }
        if (done()) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([finished.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout' && !done()) {
      throw new ConsumeTimeoutError(topic, sortRecords([...records]), timeoutMs, wanted);
    }
  } finally {
    await consumer.disconnect();
  }
  return sortRecords(records);
}

function toRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers: decodeHeaders(message, 'last'),
    timestamp: message.timestamp,
    message,
  };
}

function sortRecords(records: ConsumedRecord[]): ConsumedRecord[] {
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Polls until predicate holds, failing with `timed out after <ms> ms waiting for <what>`. */
export async function waitUntil(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Committed offsets of a group per partition of a topic ("-1" when none). */
export async function committedOffsets(
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  const [t] = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((t?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

/** High watermarks per partition of a topic. */
export async function endOffsets(topic: string): Promise<Map<number, string>> {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((p) => [p.partition, p.high]));
}

/** A parsed JSON log line of a service. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A built service (by default the echo fixture) running as a child process, with its JSON log lines. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #signal: NodeJS.Signals | null = null;

  constructor(env: Record<string, string>, nodeArgs: readonly string[] = [], main = ECHO_MAIN) {
    this.child = spawn(process.execPath, [...nodeArgs, main], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BROKERS: BROKERS.join(','),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT: '20s',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line, level: 'raw' });
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.#signal = signal;
        resolve(code);
      }),
    );
  }

  get exitSignal(): NodeJS.Signals | null {
    return this.#signal;
  }

  /** The HTTP port from the "http listening" log line. */
  async port(): Promise<number> {
    await waitUntil(
      'http listening',
      () => this.logs.some((l) => l.msg === 'http listening'),
      30_000,
    );
    return this.logs.find((l) => l.msg === 'http listening')!['port'] as number;
  }

  async get(pathname: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${await this.port()}${pathname}`);
    return { status: res.status, body: await res.text() };
  }

  /** Readiness detail from /readyz. */
  async readiness(): Promise<{ status: number; partitions: number[] }> {
    const { status, body } = await this.get('/readyz');
    return { status, partitions: (JSON.parse(body) as { partitions: number[] }).partitions };
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      `service ready (logs: ${this.logs
        .slice(-3)
        .map((l) => l.msg)
        .join(' | ')}; stderr: ${this.stderr.slice(-300)})`,
      async () => {
        if (this.child.exitCode !== null)
          throw new Error(`service exited ${this.child.exitCode}: ${this.stderr}`);
        return (await this.readiness().catch(() => ({ status: 0 }))).status === 200;
      },
      timeoutMs,
    );
  }

  /** Prints the service's logs (for a failed test). */
  dump(): void {
    console.log(
      `--- service pid ${this.child.pid} logs ---\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n--- stderr ---\n${this.stderr}`,
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then the exit code (at once when it has exited already). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Kills the process if still running (afterEach). */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.#signal === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Env for an echo service over the topics of echoTopics. */
export function echoEnv(
  t: Awaited<ReturnType<typeof echoTopics>>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ECHO_SERVICE: t.service,
    ECHO_INPUTS: t.input,
    ECHO_OUTPUT: t.output,
    TOPIC_DLQ: t.dlq,
    TOPIC_FINDINGS: t.findings,
    ...extra,
  };
}

/** Something a test started that must be stopped after it (a fake server, an extra process). */
export interface Disposable {
  dispose(): Promise<void>;
}

/** What a harness hands its test file: start a service, collect topics, track anything else to stop. */
export interface Harness<P extends ServiceProcess> {
  /** Spawns the service; its logs are dumped if the test fails. */
  start(env: Record<string, string>): P;
  /** A Collector reading `topics` from the beginning. */
  collect(topics: readonly string[]): Promise<Collector>;
  /** Stops `d` after the test, with the services and collectors. */
  track<D extends Disposable>(d: D): D;
}

/**
 * The per-file harness of the broker tests that run a built service: what `start`, `collect` and `track` hand out
 * is stopped after each test (tracked things last), the shared producer after all of the file's tests.
 */
export function serviceHarness<P extends ServiceProcess>(
  spawnService: (env: Record<string, string>) => P,
): Harness<P> {
  const running: Array<ServiceProcess | Collector> = [];
  const tracked: Disposable[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await (r instanceof Collector ? r.close() : r.dispose());
    for (const d of tracked.splice(0)) await d.dispose();
  });
  afterAll(closeProducer);
  return {
    start(env) {
      const s = spawnService(env);
      running.push(s);
      onTestFailed(() => s.dump());
      return s;
    },
    async collect(topics) {
      const c = await Collector.start(topics);
      running.push(c);
      return c;
    },
    track(d) {
      tracked.push(d);
      return d;
    },
  };
}

/** The harness of the echo-service tests: `start` spawns the runtime's echo fixture. */
export function echoHarness(): Harness<ServiceProcess> {
  return serviceHarness((env) => new ServiceProcess(env));
}
