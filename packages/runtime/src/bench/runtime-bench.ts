// npm run bench:runtime — throughput of the runtime against a raw kafkajs consumer on the local broker.
//
// Produces RECORDS (~1 KB CloudEvents) to a fresh topic, then reads them all four ways, each with a group
// of its own: (1) a raw kafkajs eachBatch consumer that only counts; (1b) the same consumer JSON.parsing every
// value — the floor for any decoder, shown so the parse is not mistaken for the runtime's overhead; (2)
// runService with a no-op handler and the default decode (core's envelope parser: JSON parse, limits, schema
// validation, freeze); (3) runService with a no-op handler and a pass-through decode, i.e. the runtime's own
// overhead. Rates are measured from the first record to the last (group joins and restore excluded), best of
// BENCH_ROUNDS alternating rounds, and printed with their ratio to (1) (and (2) also to (1b)).
import { randomBytes } from 'node:crypto';
import type { InputRecord, PartitionState, ServiceDefinition } from '@tidemark/core';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { runService } from '../service.js';
import { createTopicsReady } from '../topic-create.js';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 200_000);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 3);
const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const suffix = randomBytes(4).toString('hex');
const topic = `bench-runtime-${suffix}`;
const dlq = `bench-runtime-dlq-${suffix}`;
const findings = `bench-runtime-findings-${suffix}`;
const kafka = new Kafka({
  clientId: 'tidemark-bench',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
});

function event(i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      specversion: '1.0',
      id: `bench-${i}`,
      source: 'connector/bench',
      type: 'content.upserted',
      time: '2026-01-01T00:00:00Z',
      subject: `wiki/doc-${i}`,
      data: {
        system: 'wiki',
        docId: `doc-${i}`,
        revision: i,
        contentClass: 'policy',
        title: `Document ${i}`.padEnd(100, '.'),
        owner: 'steward@example.com',
        attributes: { pad: 'y'.repeat(650) },
      },
    }),
  );
}

async function prepare(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(
    admin,
    [topic, dlq, findings].map((t) => ({ topic: t, numPartitions: PARTITIONS })),
  );
  await admin.disconnect();
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  let bytes = 0;
  const chunk = 2000;
  for (let i = 0; i < RECORDS; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(RECORDS, i + chunk); j++) {
      const value = event(j);
      bytes += value.length;
      messages.push({ key: `wiki/doc-${j}`, value });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  return bytes / RECORDS;
}

/** Records per second between the first and the last record seen. */
class Meter {
  count = 0;
  #first = 0;
  #last = 0;
  #done!: () => void;
  readonly done = new Promise<void>((resolve) => (this.#done = resolve));

  add(n: number): void {
    const now = performance.now();
    if (this.count === 0) this.#first = now;
    this.count += n;
    this.#last = now;
    if (this.count >= RECORDS) this.#done();
  }

  rate(): number {
    return (this.count / (this.#last - this.#first)) * 1000;
  }
}

/** A raw kafkajs consumer that only counts, or (`parse`) also JSON.parses every value: the least any decoder does. */
async function raw(round: number, parse = false): Promise<number> {
  const meter = new Meter();
  const consumer = kafka.consumer({
    groupId: `bench-raw${parse ? '-parse' : ''}-${suffix}-${round}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let parsed = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (parse)
        for (const m of batch.messages)
          if ((JSON.parse(m.value!.toString('utf8')) as { id?: string }).id) parsed++;
      meter.add(batch.messages.length);
    },
  });
  await meter.done;
  await consumer.disconnect();
  if (parse && parsed !== RECORDS)
    throw new Error(`raw + JSON.parse saw ${parsed} of ${RECORDS} events`);
  return meter.rate();
}

async function runtime(name: string, decode?: (record: InputRecord) => unknown): Promise<number> {
  const meter = new Meter();
  const definition: ServiceDefinition<PartitionState, unknown> = {
    name,
    inputs: [topic],
    createState: () => ({ restore: () => undefined, drainChanges: () => [], size: () => 0 }),
    ...(decode ? { decode } : {}),
    handle: () => {
      meter.add(1);
      return [];
    },
  };
  let exitCode: number | undefined;
  const service = await runService(definition, {
    env: {
      KAFKA_BROKERS: BROKERS.join(','),
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      TOPIC_DLQ: dlq,
      TOPIC_FINDINGS: findings,
    },
    handleSignals: false,
    exit: (code) => (exitCode = code),
  });
  await meter.done;
  await service.stop('benchmark done');
  if (exitCode !== 0) throw new Error(`runtime ${name} stopped with ${exitCode}`);
  const dead = (await service.metrics.deadLetters.get()).values.reduce((a, v) => a + v.value, 0);
  if (dead > 0) throw new Error(`runtime ${name}: ${dead} records went to the DLQ`);
  return meter.rate();
}

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const avgBytes = await prepare();
console.log(
  `topic ${topic}: ${RECORDS} records of ~${Math.round(avgBytes)} B in ${PARTITIONS} partitions; best of ${ROUNDS} rounds (alternating)`,
);
// Rounds alternate the three readers so a burst of load on a shared machine hits all of them alike.
const best = { raw: 0, rawParse: 0, full: 0, pass: 0 };
const services: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  best.raw = Math.max(best.raw, await raw(round));
  best.rawParse = Math.max(best.rawParse, await raw(round, true));
  services.push(`bench-default-${suffix}-${round}`, `bench-pass-${suffix}-${round}`);
  best.full = Math.max(best.full, await runtime(`bench-default-${suffix}-${round}`));
  best.pass = Math.max(
    best.pass,
    await runtime(`bench-pass-${suffix}-${round}`, (record) => record),
  );
}
const line = (label: string, rate: number) =>
  `${label.padEnd(46)}${Math.round(rate).toLocaleString('en').padStart(9)} records/s`;
console.log(line('raw kafkajs eachBatch (count only):', best.raw));
console.log(
  `${line('raw kafkajs eachBatch + JSON.parse:', best.rawParse)}  ratio ${(best.rawParse / best.raw).toFixed(2)}`,
);
// The second ratio is against the parse alone: what validation, limits, freezing and the host add to it.
console.log(
  `${line('runtime, no-op handler, default decode:', best.full)}  ratio ${(best.full / best.raw).toFixed(2)}` +
    `  (vs raw + JSON.parse ${(best.full / best.rawParse).toFixed(2)})`,
);
console.log(
  `${line('runtime, no-op handler, pass-through decode:', best.pass)}  ratio ${(best.pass / best.raw).toFixed(2)}`,
);
// Clean up (best effort: the broker may still be settling a topic).
const admin = kafka.admin();
await admin.connect();
for (const name of [
  topic,
  dlq,
  findings,
  ...services.map((service) => `tidemark.${service}.state`),
]) {
  await admin
    .deleteTopics({ topics: [name] })
    .catch((error: unknown) => console.warn(`could not delete ${name}: ${String(error)}`));
}
await admin.disconnect();
