// Helpers for the runtime's broker tests: unique topics, a producer, a collecting reader, and the echo
// fixture service run as a real process (packages/runtime/dist/testing/echo-main.js, built by tsc --build).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopicsReady } from '@tidemark/runtime';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { afterAll, afterEach, onTestFailed } from 'vitest';
import type { Consumer, IHeaders, Message, Producer } from 'kafkajs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ECHO_MAIN = path.join(ROOT, 'packages/runtime/dist/testing/echo-main.js');
export const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');

export const kafka = new Kafka({
  clientId: 'runtime-tests',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
});

/** A name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
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
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      topics.map((topic) => ({
        topic,
        numPartitions: partitions,
        ...(entries.length > 0 ? { configEntries: entries } : {}),
      })),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Topics one echo service needs: input, output, DLQ, findings. */
export async function echoTopics(prefix: string, partitions = 3) {
  const t = {
    input: unique(`${prefix}-in`),
    output: unique(`${prefix}-out`),
    dlq: unique(`${prefix}-dlq`),
    findings: unique(`${prefix}-findings`),
    service: unique(prefix),
  };
  await createTopics([t.input, t.output, t.dlq, t.findings], partitions);
  return t;
}

let producer: Producer | undefined;
/** Produces messages (acks=all) with a shared test producer. */
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

/** One record as read back. */
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
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)!.toString();
        }
        c.records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers,
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

/** Polls until predicate holds, failing with `what` after timeoutMs. */
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
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** High watermarks per partition of a topic. */
export async function endOffsets(topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
  } finally {
    await admin.disconnect();
  }
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

/**
 * The per-file harness of the echo-service tests: `start` spawns the echo service (its logs dumped if the test
 * fails), `collect` reads topics from the beginning; both are stopped after each test, the producer after all.
 */
export function echoHarness(): {
  start(env: Record<string, string>): ServiceProcess;
  collect(topics: readonly string[]): Promise<Collector>;
} {
  const running: Array<ServiceProcess | Collector> = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await (r instanceof Collector ? r.close() : r.dispose());
  });
  afterAll(closeProducer);
  return {
    start(env) {
      const s = new ServiceProcess(env);
      running.push(s);
      onTestFailed(() => s.dump());
      return s;
    },
    async collect(topics) {
      const c = await Collector.start(topics);
      running.push(c);
      return c;
    },
  };
}
