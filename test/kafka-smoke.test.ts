// The real broker, through kafkajs, does what every Tidemark service relies on: an idempotent
// acks=all producer, a consumer group reading with eachBatch and committing offsets by hand, and a
// rebalance that splits the partitions between two members of one group.
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import {
  BROKERS,
  ConsumeTimeoutError,
  TopicExistsError,
  closeProducer,
  consumeAll,
  createTopics,
  kafka,
  produce,
  unique,
  waitUntil,
  withAdmin,
} from './runtime/helpers.js';

const consumers: Consumer[] = [];

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
});
afterAll(closeProducer);

/** A group member that records what it reads and which partitions it owns, committing after each batch. */
async function member(groupId: string, topic: string) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, heartbeatInterval: 300 });
  consumers.push(consumer);
  const seen: { partition: number; offset: string; key: string }[] = [];
  const owned: { partitions: number[] } = { partitions: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    owned.partitions = [...(e.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
      for (const m of batch.messages) {
        seen.push({ partition: batch.partition, offset: m.offset, key: m.key!.toString() });
        resolveOffset(m.offset);
      }
      await heartbeat();
      // The runtime's pattern: commit explicitly, after the batch's work is done (autoCommit off).
      const next = String(Number(batch.lastOffset()) + 1);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: next },
      ]);
    },
  });
  return { consumer, seen, owned };
}

describe('kafka smoke (real broker)', () => {
  it('the global setup provided the broker list the helpers use', () => {
    expect(inject('kafkaBrokers')).toBe(BROKERS.join(','));
  });

  it('produces idempotently, consumes with a group, commits, and a restarted member resumes after the commit', async () => {
    const topic = unique('smoke-commit');
    const groupId = unique('smoke-group');
    await createTopics([topic], 3);
    const keys = Array.from({ length: 30 }, (_, i) => `doc-${i}`);
    await produce(
      topic,
      keys.map((key) => ({ key, value: JSON.stringify({ key }) })),
    );

    const first = await member(groupId, topic);
    await waitUntil('30 records read by the group', () => first.seen.length === 30);
    expect(first.seen.map((s) => s.key).sort()).toEqual([...keys].sort());

    // Committed offsets equal the end offsets of every partition.
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    await waitUntil('offsets committed up to the end', async () => {
      const [committed] = await withAdmin((admin) =>
        admin.fetchOffsets({ groupId, topics: [topic] }),
      );
      const byPartition = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
      return ends.every((e) => byPartition.get(e.partition) === e.high);
    });
    await first.consumer.disconnect();
    consumers.splice(consumers.indexOf(first.consumer), 1);

    // A new member of the same group starts from the committed offsets: it sees only the new record.
    await produce(topic, [{ key: 'doc-late', value: '{}' }]);
    const second = await member(groupId, topic);
    await waitUntil('the late record', () => second.seen.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a wrongly re-read record to show up
    expect(second.seen.map((s) => s.key)).toEqual(['doc-late']);

    // The same key always lands in the same partition, and consumeAll reads everything back in order.
    const all = await consumeAll(topic);
    expect(all).toHaveLength(31);
    const partitionOf = new Map(first.seen.map((s) => [s.key, s.partition]));
    for (const r of all.filter((r) => r.key !== 'doc-late')) {
      expect(r.partition).toBe(partitionOf.get(r.key!));
    }
    expect(all.map((r) => `${r.partition}:${r.offset}`)).toEqual(
      [...all]
        .sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
        .map((r) => `${r.partition}:${r.offset}`),
    );
  });

  it('a second member joining the group takes over some partitions; leaving hands them back', async () => {
    const topic = unique('smoke-rebalance');
    const groupId = unique('smoke-group');
    await createTopics([topic], 4);

    const a = await member(groupId, topic);
    await waitUntil('a owns all 4 partitions', () => a.owned.partitions.length === 4);
    const b = await member(groupId, topic);
    await waitUntil(
      'a and b split the partitions',
      () =>
        a.owned.partitions.length > 0 &&
        b.owned.partitions.length > 0 &&
        a.owned.partitions.length + b.owned.partitions.length === 4,
    );
    expect([...a.owned.partitions, ...b.owned.partitions].sort((x, y) => x - y)).toEqual([
      0, 1, 2, 3,
    ]);

    // One record per partition: each is read by the member that owns that partition, exactly once.
    await produce(
      topic,
      [0, 1, 2, 3].map((partition) => ({ partition, key: `p${partition}`, value: 'x' })),
    );
    await waitUntil('4 records read', () => a.seen.length + b.seen.length === 4);
    expect(a.seen.map((s) => s.partition).sort((x, y) => x - y)).toEqual(a.owned.partitions);
    expect(b.seen.map((s) => s.partition).sort((x, y) => x - y)).toEqual(b.owned.partitions);

    await b.consumer.disconnect();
    consumers.splice(consumers.indexOf(b.consumer), 1);
    await waitUntil('a owns all 4 partitions again', () => a.owned.partitions.length === 4);
    await produce(topic, [{ partition: b.owned.partitions[0]!, key: 'after', value: 'x' }]);
    await waitUntil('a reads a record of a partition b had', () =>
      a.seen.some((s) => s.key === 'after'),
    );
  });

  it('createTopics refuses a topic that exists; consumeAll times out with what it read', async () => {
    const topic = unique('smoke-helpers');
    await createTopics([topic]);
    await expect(createTopics([topic])).rejects.toThrow(new TopicExistsError([topic]));
    await produce(topic, [{ key: 'k', value: 'v', headers: { h: 'one' } }]);

    const [record] = await consumeAll(topic, { until: 1 });
    expect(record).toMatchObject({ key: 'k', value: 'v', headers: { h: 'one' } });

    const err = await consumeAll(topic, { until: 2, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsumeTimeoutError);
    expect((err as ConsumeTimeoutError).message).toBe(
      `consumeAll(${topic}): 1 record(s) after 1500 ms, wanted 2`,
    );
    expect((err as ConsumeTimeoutError).records).toHaveLength(1);
  });
});
