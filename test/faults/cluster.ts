// Kafka clients of one fault test, bound to its own broker: topics, a producer that rides out an outage,
// a collector that follows output topics, and reads of a topic from the beginning to its end offsets (the
// final accounting reads with a fresh consumer, never trusting what a collector saw during the fault).
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, IHeaders, Message, Producer } from 'kafkajs';
import { createTopicsReady } from '@tidemark/runtime';
import { registerCodecs } from '../../packages/runtime/src/codecs.js';
import { unique, waitUntil } from '../runtime/helpers.js';

// The test's own readers must decode what the services read (lz4, zstd, snappy input rows).
registerCodecs();

/** One record as read back, headers decoded (the first value of a repeated header). */
export interface Read {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

function toRead(
  topic: string,
  partition: number,
  m: {
    offset: string;
    key: Buffer | null;
    value: Buffer | null;
    headers?: IHeaders;
    timestamp: string;
  },
): Read {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)!.toString();
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key?.toString() ?? null,
    value: m.value,
    headers,
    timestamp: m.timestamp,
  };
}

/** Topic to create: name, partitions (default 3), compaction, other topic configs. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions?: number;
  readonly compacted?: boolean;
  /** e.g. `{ 'compression.type': 'lz4' }` */
  readonly config?: Readonly<Record<string, string>>;
}

/** The clients of one test against one broker; close() at the end. */
export class Cluster {
  readonly kafka: Kafka;
  #producer: Producer | undefined;
  readonly #closers: Array<() => Promise<void>> = [];

  constructor(readonly brokers: readonly string[]) {
    this.kafka = new Kafka({
      clientId: 'tidemark-faults',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
      // The test's own clients must outlast every fault it causes (a frozen broker for 30 s included).
      retry: { initialRetryTime: 200, retries: 30, maxRetryTime: 5_000 },
    });
  }

  #admin: Promise<Admin> | undefined;

  /** Runs fn with the test's admin client (one, kept connected: polls call this many times a second). */
  async admin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    this.#admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    try {
      return await fn(await this.#admin);
    } catch (error) {
      // After a broker fault the client may hold dead connections: the next call starts afresh.
      const stale = this.#admin;
      this.#admin = undefined;
      await stale?.then((a) => a.disconnect()).catch(() => {});
      throw error;
    }
  }

  async createTopics(specs: ReadonlyArray<string | TopicSpec>): Promise<void> {
    const topics = specs.map((s) => (typeof s === 'string' ? { topic: s } : s));
    await this.admin(async (admin) => {
      await createTopicsReady(
        admin,
        topics.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions ?? 3,
          configEntries: Object.entries({
            ...t.config,
            ...(t.compacted ? { 'cleanup.policy': 'compact' } : {}),
          }).map(([name, value]) => ({ name, value })),
        })),
        { timeoutMs: 60_000 },
      );
    });
  }

  /** High watermarks per partition. */
  endOffsets(topic: string): Promise<Map<number, bigint>> {
    return this.admin(async (admin) => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    });
  }

  /** Committed offsets of a group per partition (-1n when none). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
    return this.admin(async (admin) => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    });
  }

  /** True when the group has committed every partition of `topic` up to its end. */
  async consumedAll(groupId: string, topic: string): Promise<boolean> {
    const [ends, committed] = await Promise.all([
      this.endOffsets(topic),
      this.committedOffsets(groupId, topic),
    ]);
    return [...ends].every(([p, high]) => high === 0n || committed.get(p) === high);
  }

  /**
   * Sends with an idempotent producer (acks=all); a failed send is retried until `timeoutMs`, since a
   * producer outside the broker's outage is not what a fault test examines. A send retried after a lost
   * acknowledgement can put a record in twice: the accounting reads the input topic, not this list.
   */
  async produce(topic: string, messages: Message[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (!this.#producer) {
          this.#producer = this.kafka.producer({
            createPartitioner: Partitioners.DefaultPartitioner,
            idempotent: true,
            maxInFlightRequests: 1,
          });
          await this.#producer.connect();
        }
        await this.#producer.send({ topic, acks: -1, messages });
        return;
      } catch (error) {
        // A producer that failed mid-outage may hold a stale sequence: start a new one.
        await this.#producer?.disconnect().catch(() => {});
        this.#producer = undefined;
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Every record of `topic` from the beginning to the end offsets it has now, by partition and offset. */
  async readAll(topic: string, timeoutMs = 60_000): Promise<Read[]> {
    const ends = await this.endOffsets(topic);
    const wanted = [...ends].filter(([, high]) => high > 0n);
    const records: Read[] = [];
    if (wanted.length === 0) return records;
    const next = new Map<number, bigint>();
    const consumer = this.kafka.consumer({
      groupId: unique('faults-read'),
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (BigInt(m.offset) < (ends.get(batch.partition) ?? 0n))
              records.push(toRead(topic, batch.partition, m));
            next.set(batch.partition, BigInt(m.offset) + 1n);
          }
        },
      });
      // Offsets, not counts: transaction markers and compaction leave gaps.
      await waitUntil(
        `${topic} read to ${JSON.stringify(Object.fromEntries([...ends].map(([p, h]) => [p, String(h)])))}`,
        () => wanted.every(([p, high]) => (next.get(p) ?? 0n) >= high),
        timeoutMs,
      );
    } finally {
      await consumer.disconnect();
    }
    return records.sort(
      (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
    );
  }

  /** A consumer following `topics` from the beginning into memory (for waiting; it may miss nothing but can repeat). */
  async follow(topics: readonly string[]): Promise<Follower> {
    const follower = new Follower();
    const consumer = this.kafka.consumer({
      groupId: unique('faults-follow'),
      maxWaitTimeInMs: 200,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        follower.add(toRead(topic, partition, message));
      },
    });
    this.#closers.push(() => consumer.disconnect());
    return follower;
  }

  async close(): Promise<void> {
    for (const close of this.#closers.splice(0)) await close().catch(() => {});
    await this.#admin?.then((a) => a.disconnect()).catch(() => {});
    this.#admin = undefined;
    await this.#producer?.disconnect().catch(() => {});
    this.#producer = undefined;
  }
}

/** Polls `predicate` every `intervalMs` (for predicates that ask the broker) until it holds or time is up. */
export async function poll(
  what: string,
  predicate: () => Promise<boolean>,
  timeoutMs = 60_000,
  intervalMs = 1_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** What a followed topic delivered so far (a redelivery after a rebalance appears once). */
export class Follower {
  readonly #seen = new Set<string>();
  readonly records: Read[] = [];

  add(r: Read): void {
    const at = `${r.topic}/${r.partition}/${r.offset}`;
    if (this.#seen.has(at)) return;
    this.#seen.add(at);
    this.records.push(r);
  }

  on(topic: string): Read[] {
    return this.records.filter((r) => r.topic === topic);
  }

  waitFor(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
    return waitUntil(what, predicate, timeoutMs);
  }
}
