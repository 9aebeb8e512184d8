#!/usr/bin/env node
// Checks that kafkajs (the version installed in node_modules) works against the running broker:
// every Kafka API Tidemark relies on, one step at a time, failing loudly with the step's name.
// Run it after changing kafka.version in pom.xml:  npm run kafka:up && node deploy/kafka/compat-check.mjs
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS || `127.0.0.1:${process.env.KAFKA_PORT || 9092}`).split(
  ',',
);
const kafkajsVersion = createRequire(import.meta.url)('kafkajs/package.json').version;
const suffix = randomBytes(4).toString('hex');
const topic = `compat-${suffix}`;
const compacted = `compat-compacted-${suffix}`;
const groupId = `compat-group-${suffix}`;
const kafka = new Kafka({ clientId: 'tidemark-compat-check', brokers, logLevel: logLevel.WARN });
const admin = kafka.admin();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let failed = false;
async function step(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)${detail ? ` — ${detail}` : ''}`);
  } catch (err) {
    failed = true;
    console.log(`FAIL ${name}: ${err?.name ?? 'Error'}: ${err?.message ?? err}`);
    if (err?.type) console.log(`     kafka error type ${err.type}, code ${err.code}`);
    throw err;
  }
}

async function waitFor(what, predicate, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const consumers = [];
let producer;
try {
  await step('admin.connect + describeCluster (Metadata, ApiVersions)', async () => {
    await admin.connect();
    const c = await admin.describeCluster();
    return `cluster ${c.clusterId}, ${c.brokers.length} broker(s), controller ${c.controller}`;
  });

  await step('admin.createTopics (CreateTopics, waitForLeaders)', async () => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 3 },
        {
          topic: compacted,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.ms', value: '100' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '100' },
          ],
        },
      ],
    });
    if (!created) throw new Error('createTopics returned false (topic existed)');
  });

  await step('admin.fetchTopicMetadata', async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic, compacted] });
    const counts = topics.map((t) => `${t.name}:${t.partitions.length}`).join(', ');
    if (topics.find((t) => t.name === topic)?.partitions.length !== 3)
      throw new Error(`expected 3 partitions, got ${counts}`);
    return counts;
  });

  await step('admin.describeConfigs (DescribeConfigs) shows cleanup.policy=compact', async () => {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* TOPIC */, name: compacted, configNames: ['cleanup.policy'] }],
    });
    const value = res.resources[0].configEntries[0].configValue;
    if (value !== 'compact') throw new Error(`cleanup.policy is ${value}`);
  });

  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await step('idempotent producer: connect + send acks=-1 (InitProducerId, Produce)', async () => {
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 10}`, value: `v${i}` }));
    const res = await producer.send({ topic, acks: -1, messages });
    return `${res.length} partition(s) acked`;
  });

  const seen = [];
  const assigned = new Map();
  const makeConsumer = async (name) => {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
    consumers.push(consumer);
    assigned.set(name, []);
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned.set(name, e.payload.memberAssignment[topic] ?? []);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        for (const m of batch.messages) {
          seen.push({
            consumer: name,
            partition: batch.partition,
            offset: m.offset,
            value: m.value.toString(),
          });
          resolveOffset(m.offset);
        }
        await heartbeat();
        await commitOffsetsIfNecessary();
      },
    });
    return consumer;
  };

  let first;
  await step(
    'consumer group: join + eachBatch reads all 30 (FindCoordinator, JoinGroup, SyncGroup, Fetch)',
    async () => {
      first = await makeConsumer('a');
      await waitFor('30 records', () => seen.length >= 30);
      return `assigned partitions ${JSON.stringify(assigned.get('a'))}`;
    },
  );

  await step(
    'consumer.commitOffsets + admin.fetchOffsets (OffsetCommit, OffsetFetch)',
    async () => {
      const high = await admin.fetchTopicOffsets(topic);
      await first.commitOffsets(
        high.map((p) => ({ topic, partition: p.partition, offset: p.high })),
      );
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const sum = committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0);
      if (sum !== 30) throw new Error(`committed offsets sum to ${sum}, expected 30`);
      return 'committed offsets sum to 30';
    },
  );

  await step(
    'second consumer joins the group: rebalance splits the 3 partitions (Heartbeat REBALANCE_IN_PROGRESS)',
    async () => {
      await makeConsumer('b');
      await waitFor(
        'both members assigned',
        () =>
          assigned.get('a').length > 0 &&
          assigned.get('b').length > 0 &&
          assigned.get('a').length + assigned.get('b').length === 3,
      );
      const described = await admin.describeGroups([groupId]);
      const g = described.groups[0];
      if (g.members.length !== 2) throw new Error(`group has ${g.members.length} members`);
      return `a=${JSON.stringify(assigned.get('a'))} b=${JSON.stringify(assigned.get('b'))}, state ${g.state}`;
    },
  );

  await step('after the rebalance new records reach both members', async () => {
    const before = seen.length;
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `n${i}`, value: `n${i}` })),
    });
    await waitFor('30 more records', () => seen.length >= before + 30);
    const by = new Set(seen.slice(before).map((s) => s.consumer));
    if (by.size !== 2) throw new Error(`only ${[...by]} received records`);
    return 'both a and b received records';
  });

  // Reads the whole topic with a fresh group; returns how many records came back and the last value per key.
  const readCompacted = async () => {
    const high = await admin.fetchTopicOffsets(compacted);
    const end = Number(high[0].high);
    const reader = kafka.consumer({
      groupId: `${groupId}-compacted-${randomBytes(3).toString('hex')}`,
      maxWaitTimeInMs: 200,
    });
    consumers.push(reader);
    const latest = new Map();
    let count = 0;
    let next = 0;
    await reader.connect();
    await reader.subscribe({ topic: compacted, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        count++;
        next = Number(message.offset) + 1;
        latest.set(message.key.toString(), message.value?.toString() ?? null);
      },
    });
    await waitFor(`offset ${end} of ${compacted}`, () => next >= end);
    await reader.disconnect();
    consumers.splice(consumers.indexOf(reader), 1);
    return { count, latest, end };
  };

  await step(
    'compacted topic: the cleaner compacts it and a reader skips the offset gaps',
    async () => {
      for (let round = 0; round < 5; round++) {
        await producer.send({
          topic: compacted,
          acks: -1,
          messages: ['x', 'y', 'z'].map((k) => ({ key: k, value: `${k}${round}` })),
        });
        await sleep(150); // segment.ms=100 rolls segments so the cleaner has something to clean
      }
      await producer.send({ topic: compacted, acks: -1, messages: [{ key: 'z', value: null }] });
      let result;
      const deadline = Date.now() + 60_000;
      do {
        result = await readCompacted();
        if (result.count < result.end) break;
        await sleep(1000);
      } while (Date.now() < deadline);
      const { count, latest, end } = result;
      if (count >= end)
        throw new Error(`no compaction within 60 s: read ${count} of ${end} records`);
      if (latest.get('x') !== 'x4' || latest.get('y') !== 'y4' || latest.get('z') !== null) {
        throw new Error(`latest values ${JSON.stringify([...latest])}`);
      }
      return `read ${count} of ${end} offsets after compaction; latest x=x4 y=y4 z=<tombstone>`;
    },
  );

  await step('admin.deleteTopics (DeleteTopics)', async () => {
    for (const c of consumers.splice(0)) await c.disconnect();
    await admin.deleteTopics({ topics: [topic, compacted] });
  });
} catch {
  // step() printed the failure.
} finally {
  for (const c of consumers) await c.disconnect().catch(() => {});
  await producer?.disconnect().catch(() => {});
  await admin.disconnect().catch(() => {});
}
console.log(
  failed
    ? `kafkajs ${kafkajsVersion}: FAILED against ${brokers}`
    : `kafkajs ${kafkajsVersion}: all checks passed against ${brokers}`,
);
process.exitCode = failed ? 1 : 0;
