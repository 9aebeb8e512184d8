import type { GlobalTable } from '@tidemark/core';
import type { Admin, Kafka } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { TableFollower } from './tables.js';

type Handler = (event: { payload: Record<string, unknown> }) => void;
type Batch = { topic: string; partition: number; messages: Message[] };
type Message = { offset: string; key: Buffer | null; value: Buffer | null };

/** A kafkajs consumer stand-in: the test delivers batches and crashes it by hand. */
class FakeConsumer {
  readonly events = { END_BATCH_PROCESS: 'end-batch', CRASH: 'crash' };
  readonly seeks: Array<{ topic: string; partition: number; offset: string }> = [];
  disconnected = false;
  readonly #handlers = new Map<string, Handler[]>();
  #eachBatch: ((p: { batch: Batch }) => Promise<void>) | undefined;

  on(event: string, handler: Handler): void {
    this.#handlers.set(event, [...(this.#handlers.get(event) ?? []), handler]);
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run({ eachBatch }: { eachBatch: (p: { batch: Batch }) => Promise<void> }): Promise<void> {
    this.#eachBatch = eachBatch;
  }
  seek(at: { topic: string; partition: number; offset: string }): void {
    this.seeks.push(at);
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }

  /** Delivers records `[offset, key, value]` of one partition, then reports the batch as processed. */
  async deliver(topic: string, partition: number, records: Array<[number, string, string | null]>) {
    const messages = records.map(([offset, key, value]) => ({
      offset: String(offset),
      key: Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
    }));
    await this.#eachBatch!({ batch: { topic, partition, messages } });
    this.#emit('end-batch', { topic, partition, lastOffset: messages.at(-1)!.offset });
  }

  crash(error: Error): void {
    this.#emit('crash', { error });
  }

  #emit(event: string, payload: Record<string, unknown>): void {
    for (const h of this.#handlers.get(event) ?? []) h({ payload });
  }
}

/** A table that records every apply, in order. */
class RecordingTable implements GlobalTable {
  readonly applied: Array<[string, string | null]> = [];
  apply(key: string, value: Buffer | null): void {
    this.applied.push([key, value === null ? null : value.toString()]);
  }
}

const SILENCES = 'silences';

function setup(options: { isFatal?: (e: unknown) => boolean } = {}) {
  const consumers: FakeConsumer[] = [];
  /** High watermark of each partition of the table topic (two partitions, low 0). */
  const highs = [2, 1];
  let adminDown = 0;
  const admin = {
    fetchTopicOffsets: async () => {
      if (adminDown > 0) {
        adminDown--;
        throw Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
          name: 'KafkaJSConnectionError',
        });
      }
      return highs.map((high, partition) => ({
        partition,
        offset: String(high),
        high: String(high),
        low: '0',
      }));
    },
  } as unknown as Admin;
  const kafka = {
    consumer: () => {
      const c = new FakeConsumer();
      consumers.push(c);
      return c;
    },
  } as unknown as Kafka;
  const table = new RecordingTable();
  const onFatal = vi.fn();
  const follower = new TableFollower({
    kafka,
    admin,
    tables: [{ topic: SILENCES, table }],
    groupId: 'ar',
    logger: pino({ level: 'silent' }),
    onFatal,
    ...(options.isFatal ? { isFatal: options.isFatal } : {}),
    sleep: async () => {},
  });
  return {
    consumers,
    highs,
    table,
    onFatal,
    follower,
    failAdmin: (times: number) => (adminDown = times),
  };
}

/** Starts the follower and feeds the first reader every record up to the high watermarks. */
async function started(env: ReturnType<typeof setup>): Promise<FakeConsumer> {
  const starting = env.follower.start();
  await vi.waitFor(() => expect(env.consumers).toHaveLength(1));
  const first = env.consumers[0]!;
  await first.deliver(SILENCES, 0, [
    [0, 's1', 'v1'],
    [1, 's2', 'v1'],
  ]);
  await first.deliver(SILENCES, 1, [[0, 's3', 'v1']]);
  await starting;
  return first;
}

const brokerGone = () =>
  Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
    name: 'KafkaJSNumberOfRetriesExceeded',
  });

describe('TableFollower', () => {
  it('is caught up once every partition reached the high watermark it had at start', async () => {
    const env = setup();
    const starting = env.follower.start();
    await vi.waitFor(() => expect(env.consumers).toHaveLength(1));
    await env.consumers[0]!.deliver(SILENCES, 0, [
      [0, 's1', 'v1'],
      [1, 's2', 'v1'],
    ]);
    expect(env.follower.caughtUp).toBe(false);
    await env.consumers[0]!.deliver(SILENCES, 1, [[0, 's3', 'v1']]);
    await starting;
    expect(env.follower.caughtUp).toBe(true);
  });

  it('reconnects after losing the broker, resumes at the offsets reached, and applies nothing twice', async () => {
    const env = setup();
    const first = await started(env);
    env.highs[0] = 3; // one more record arrived while the broker was away
    first.crash(brokerGone());
    expect(env.follower.caughtUp).toBe(false);
    await vi.waitFor(() => expect(env.consumers).toHaveLength(2));
    const second = env.consumers[1]!;
    expect(first.disconnected).toBe(true);
    await vi.waitFor(() =>
      expect(second.seeks).toEqual([
        { topic: SILENCES, partition: 0, offset: '2' },
        { topic: SILENCES, partition: 1, offset: '1' },
      ]),
    );
    // A fetch that starts before the seek lands repeats old records: they are skipped.
    await second.deliver(SILENCES, 0, [
      [1, 's2', 'v1'],
      [2, 's1', null],
    ]);
    await vi.waitFor(() => expect(env.follower.caughtUp).toBe(true));
    expect(env.table.applied).toEqual([
      ['s1', 'v1'],
      ['s2', 'v1'],
      ['s3', 'v1'],
      ['s1', null],
    ]);
    expect(env.onFatal).not.toHaveBeenCalled();
  });

  it('keeps retrying while the broker stays away', async () => {
    const env = setup();
    const first = await started(env);
    env.failAdmin(3);
    first.crash(brokerGone());
    // Three failed reconnects (the high watermarks could not be read), then a reader that is caught up at once.
    await vi.waitFor(() => expect(env.follower.caughtUp).toBe(true));
    expect(env.consumers).toHaveLength(2);
    expect(env.onFatal).not.toHaveBeenCalled();
  });

  it('reconnects again when the new reader crashes too', async () => {
    const env = setup();
    const first = await started(env);
    first.crash(brokerGone());
    await vi.waitFor(() => expect(env.follower.caughtUp).toBe(true));
    env.consumers[1]!.crash(brokerGone());
    expect(env.follower.caughtUp).toBe(false);
    await vi.waitFor(() => expect(env.consumers).toHaveLength(3));
    await vi.waitFor(() => expect(env.follower.caughtUp).toBe(true));
  });

  it('reports a crash it cannot mend (access refused) as fatal and does not reconnect', async () => {
    const refused = Object.assign(new Error('Not authorized to access group'), {
      type: 'GROUP_AUTHORIZATION_FAILED',
    });
    const env = setup({ isFatal: (e) => e === refused });
    const first = await started(env);
    first.crash(refused);
    expect(env.onFatal).toHaveBeenCalledWith(refused);
    expect(env.follower.caughtUp).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(env.consumers).toHaveLength(1);
  });

  it('fails the start when the first reader crashes before catching up', async () => {
    const env = setup();
    const starting = env.follower.start();
    await vi.waitFor(() => expect(env.consumers).toHaveLength(1));
    env.consumers[0]!.crash(brokerGone());
    await expect(starting).rejects.toThrow('ECONNREFUSED');
    expect(env.consumers).toHaveLength(1);
  });

  it('stops at once when stopped while a reconnect waits to catch up', async () => {
    const env = setup();
    const first = await started(env);
    env.highs[1] = 5; // the reconnect has records to read that will never come
    first.crash(brokerGone());
    await vi.waitFor(() => expect(env.consumers).toHaveLength(2));
    await env.follower.stop();
    expect(env.consumers[1]!.disconnected).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(env.consumers).toHaveLength(2);
    expect(env.follower.caughtUp).toBe(false);
  });

  it('stops reconnecting once stopped', async () => {
    const env = setup();
    const first = await started(env);
    env.failAdmin(Number.MAX_SAFE_INTEGER);
    first.crash(brokerGone());
    await env.follower.stop();
    expect(env.follower.caughtUp).toBe(false);
    expect(env.consumers).toHaveLength(1);
  });
});
