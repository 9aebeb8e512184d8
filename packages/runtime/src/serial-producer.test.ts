import { Partitioners } from 'kafkajs';
import type { Message, PartitionMetadata, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.js';
import { SerialProducer, stablePartitioner } from './serial-producer.js';

type Outcome = 'ok' | Error | Promise<void>;

/** kafkajs producers stand-ins: each sendBatch takes the next scripted outcome; every call is logged. */
function setup(script: Outcome[], connects: Array<'ok' | Error> = []) {
  const calls: Array<{ producer: number; topic: string }> = [];
  const disconnected: number[] = [];
  let created = 0;
  const create = () => {
    const id = ++created;
    return {
      connect: async () => {
        const c = connects.shift() ?? 'ok';
        if (c !== 'ok') throw c;
      },
      disconnect: async () => void disconnected.push(id),
      sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
        calls.push({ producer: id, topic: batch.topicMessages![0]!.topic });
        const outcome = script.shift() ?? 'ok';
        if (outcome instanceof Error) throw outcome;
        if (outcome !== 'ok') await outcome;
        return [];
      },
    } as unknown as Producer;
  };
  const producer = new SerialProducer({ create, logger: pino({ level: 'silent' }) });
  return { producer, calls, disconnected, created: () => created };
}

const batch = (topic: string): ProducerBatch => ({
  acks: -1,
  topicMessages: [{ topic, messages: [{ key: 'k', value: 'v' }] }],
});
const retry = { what: 'produce', sleep: async () => {} };

const timeout = () =>
  Object.assign(new Error('Request Produce(key: 0, version: 7) timed out'), {
    name: 'KafkaJSRequestTimeoutError',
    retriable: true,
  });
const outOfOrder = () =>
  Object.assign(new Error('The broker received an out of order sequence number'), {
    name: 'KafkaJSProtocolError',
    type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    retriable: false,
  });
const tooLarge = () =>
  Object.assign(new Error('The request included a message larger than the max message size'), {
    name: 'KafkaJSProtocolError',
    type: 'MESSAGE_TOO_LARGE',
    retriable: false,
  });

describe('SerialProducer', () => {
  it('sends a batch only once the one before it succeeded, retries included', async () => {
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const env = setup([timeout(), timeout(), hung, 'ok']);
    await env.producer.connect();
    const a = env.producer.send(batch('a'), retry);
    const b = env.producer.send(batch('b'), retry);
    await new Promise((r) => setTimeout(r, 20));
    // Two timed-out attempts of a, then the third hangs: b has not been sent in between.
    expect(env.calls.map((c) => c.topic)).toEqual(['a', 'a', 'a']);
    release();
    await Promise.all([a, b]);
    expect(env.calls.map((c) => c.topic)).toEqual(['a', 'a', 'a', 'b']);
  });

  it('replaces the producer on OUT_OF_ORDER_SEQUENCE_NUMBER and sends the batch again', async () => {
    const env = setup([outOfOrder(), 'ok', 'ok']);
    await env.producer.connect();
    await env.producer.send(batch('a'), retry);
    await env.producer.send(batch('b'), retry);
    expect(env.calls).toEqual([
      { producer: 1, topic: 'a' },
      { producer: 2, topic: 'a' },
      { producer: 2, topic: 'b' },
    ]);
    expect(env.disconnected).toEqual([1]);
    expect(env.producer.replaced).toBe(1);
  });

  it('retries a replacement whose connect fails while the broker is away', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
    });
    const env = setup([outOfOrder(), 'ok'], ['ok', refused, refused]);
    await env.producer.connect();
    await env.producer.send(batch('a'), retry);
    expect(env.created()).toBe(4);
    expect(env.calls).toEqual([
      { producer: 1, topic: 'a' },
      { producer: 4, topic: 'a' },
    ]);
  });

  it('fails a batch refused for good with DeliveryError, and the next batch still goes', async () => {
    const env = setup([tooLarge(), 'ok']);
    await env.producer.connect();
    const a = env.producer.send(batch('a'), retry);
    const b = env.producer.send(batch('b'), retry);
    await expect(a).rejects.toThrow(DeliveryError);
    await expect(a).rejects.toThrow(
      'produce failed permanently: The request included a message larger than the max message size',
    );
    await b;
    expect(env.calls.map((c) => c.topic)).toEqual(['a', 'b']);
    expect(env.producer.replaced).toBe(0);
  });
});

describe('stablePartitioner', () => {
  const partitionMetadata = [0, 1, 2].map(
    (partitionId) => ({ partitionId, leader: 1 }) as PartitionMetadata,
  );
  /** The partitions `n` sends of the same message go to, one partitioner as in a producer. */
  const partitionsOf = (create: typeof stablePartitioner, message: Message, n = 12) => {
    const partition = create();
    return new Set(
      Array.from({ length: n }, () => partition({ topic: 't', partitionMetadata, message })),
    );
  };

  it.each([
    ['an explicit partition', { partition: 2, key: 'k', value: 'v' }, new Set([2])],
    ['a key (hashed like the default)', { key: 'doc-1', value: 'v' }, 'default'],
    ['neither: by a hash of the value', { key: null, value: 'not json' }, 'one'],
    ['neither, no value', { value: null }, 'one'],
  ] as const)('sends a record with %s to the same partition every time', (_, message, want) => {
    const got = partitionsOf(stablePartitioner, message as Message);
    if (want === 'default')
      expect(got).toEqual(partitionsOf(Partitioners.DefaultPartitioner, message as Message));
    else if (want === 'one') expect(got.size).toBe(1);
    else expect(got).toEqual(want);
  });

  it("differs from kafkajs' default, which sends a record without a key round-robin", () => {
    expect(
      partitionsOf(Partitioners.DefaultPartitioner, { key: null, value: 'not json' }).size,
    ).toBeGreaterThan(1);
  });
});
