// Helpers for integration tests against the real broker that test/setup/kafka.global.ts started or
// found. Every test makes its own topics and groups with uniqueName(), so files can run in parallel.
import { randomBytes } from 'node:crypto';
import { createTopicsReady } from '@tidemark/runtime';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, ITopicConfig, KafkaConfig, KafkaMessage, Message } from 'kafkajs';

/** Broker list the tests use: KAFKA_BROKERS (set by the global setup), else 127.0.0.1:9092. */
export function brokers(): string[] {
  const raw = process.env['KAFKA_BROKERS'] ?? `127.0.0.1:${process.env['KAFKA_PORT'] ?? '9092'}`;
  return raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
}

/** A kafkajs client for the test broker; kafkajs' own logging is off unless you pass `logLevel`. */
export function createKafka(clientId = 'tidemark-test', config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING, ...config });
}

/** A topic or group name no other test (or earlier run against the same broker) uses: `<prefix>-<16 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(16)}${randomBytes(3).toString('hex')}`;
}

/** A topic to create: name plus optional partition count (broker default 3), compaction and configs. */
export interface TopicSpec {
  readonly topic: string;
  /** @default 3 (the broker's num.partitions) */
  readonly partitions?: number;
  /** Sets cleanup.policy=compact. @default false */
  readonly compacted?: boolean;
  /** Extra topic configs, e.g. `{ 'retention.ms': '60000' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

/** Thrown by createTopics when a topic already exists: with unique names that means a test bug. */
export class TopicExistsError extends Error {
  override readonly name = 'TopicExistsError';
  readonly retriable = false;
  constructor(readonly topics: readonly string[]) {
    super(`createTopics: some of these topics already exist: ${topics.join(', ')}`);
  }
}

/** Creates the topics and waits until every partition has a leader; returns the topic names. */
export async function createTopics(
  admin: Admin,
  topics: ReadonlyArray<string | TopicSpec>,
): Promise<string[]> {
  const specs: ITopicConfig[] = topics.map((t) => {
    const spec: TopicSpec = typeof t === 'string' ? { topic: t } : t;
    const config: Record<string, string> = { ...spec.config };
    if (spec.compacted) config['cleanup.policy'] = 'compact';
    return {
      topic: spec.topic,
      numPartitions: spec.partitions ?? 3,
      configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
    };
  });
  const created = await createTopicsReady(admin, specs);
  const names = specs.map((s) => s.topic);
  if (!created) throw new TopicExistsError(names);
  return names;
}

/** Runs fn with a connected admin client and disconnects it afterwards. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka('tidemark-test-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Sends messages with an idempotent producer and acks from all in-sync replicas, then disconnects. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = createKafka('tidemark-test-producer').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
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
  /** Consumer group to read with. @default a fresh uniqueName('consume-all') */
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
  { until, timeoutMs = 30_000, groupId = uniqueName('consume-all') }: ConsumeAllOptions = {},
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
  const consumer = createKafka('tidemark-test-consume-all').consumer({
    groupId,
    maxWaitTimeInMs: 100,
  });
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
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) headers[name] = last.toString();
  }
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers,
    timestamp: message.timestamp,
    message,
  };
}

function sortRecords(records: ConsumedRecord[]): ConsumedRecord[] {
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Polls until predicate holds; throws `timed out after <ms> ms waiting for <what>` otherwise. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
