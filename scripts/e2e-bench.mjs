// npm run bench:e2e — all five services (built, as child processes) on the local broker, on the wall clock, fed
// 5,000 events/s for 60 s; reports input → finding latency (p50/p99/max, from Kafka record timestamps) and
// records/s per service. Not part of CI (a minute of full load on a shared machine).
//
// Input: content.upserted events of the confluence contract (contracts/) and, for 40% of them, the index event of
// the same change. Every 50th content event lacks the required `owner`: the contract-checker reports
// contract.required for it at once, and its latency is the finding record's timestamp minus the input record's.
// Options (env): BENCH_RATE (events/s, 5000), BENCH_SECONDS (60), BENCH_PARTITIONS (3), BENCH_BASE_PORT (25100),
// KAFKA_BROKERS (127.0.0.1:9092), BENCH_PROFILE_DIR (write a V8 CPU profile of each service to
// <dir>/<service>/ when it stops: where its time goes under this load). Requires `npm run build` and a broker
// (`npm run kafka:up`).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { demoLayout, demoTopicPlan } from '@tidemark/cli';
import { createTopicsReady } from '@tidemark/runtime';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = Number(process.env['BENCH_RATE'] ?? 5000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 3);
const BASE_PORT = Number(process.env['BENCH_BASE_PORT'] ?? 25100);
const BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const PROFILE_DIR = process.env['BENCH_PROFILE_DIR'];
const FAULT_EVERY = 50;
const SYNC_SHARE = 0.4;

const runId = `e2e${randomUUID().slice(0, 6)}`;
const layout = demoLayout({
  runId,
  brokers: BROKERS,
  contractsDir: join(root, 'contracts'),
  basePort: BASE_PORT,
});
const kafka = new Kafka({
  clientId: `tidemark-bench-${runId}`,
  brokers: BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const log = (s) => process.stderr.write(`${s}\n`);

async function createTopics() {
  const plan = demoTopicPlan(layout, PARTITIONS);
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(
    admin,
    plan.map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      configEntries: [{ name: 'cleanup.policy', value: t.cleanupPolicy }],
    })),
  );
  await admin.disconnect();
}

async function deleteTopics() {
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.includes(runId));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
}

function startService(p) {
  const env = {
    ...p.env,
    PATH: process.env['PATH'] ?? '',
    TIDEMARK_CLOCK: 'wall',
    TICK_SCHEDULE: '*/5 * * * * *',
    LOG_LEVEL: 'warn',
  };
  delete env['EVENT_SKEW'];
  const child = spawn(
    process.execPath,
    [
      ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, p.service)}`] : []),
      '--import',
      '@tidemark/runtime/otel',
      join(root, 'services', p.folder, 'dist', 'main.js'),
    ],
    { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { p, child, exited, stderr: () => stderr };
}

async function get(port, path) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
  return res ? { status: res.status, text: await res.text() } : { status: 0, text: '' };
}

async function waitReady(s) {
  const deadline = Date.now() + 120_000;
  while ((await get(s.p.httpPort, '/readyz')).status !== 200) {
    if (s.child.exitCode !== null)
      throw new Error(`${s.p.service} exited ${s.child.exitCode}: ${s.stderr().slice(-800)}`);
    if (Date.now() > deadline) throw new Error(`${s.p.service} not ready after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Records read (sum of tidemark_records_in_total) and CPU seconds used (process_cpu_seconds_total) by one service;
 * NaN when its /metrics does not answer.
 */
async function usage(s) {
  const { status, text } = await get(s.p.httpPort, '/metrics');
  // A scrape that fails (an overloaded service can time out) is "unknown", never 0 records.
  if (status !== 200) return { records: NaN, cpu: NaN };
  let records = 0;
  let cpu = NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('tidemark_records_in_total{')) records += Number(line.split(' ').pop());
    // prom-client's default metric, with the service's default label.
    if (/^process_cpu_seconds_total[ {]/.test(line)) cpu = Number(line.split(' ').pop());
  }
  return { records, cpu };
}

/** A CloudEvent record keyed by document, in the shape the simulator writes. */
function cloudEvent(docId, at, idSuffix, source, type, data) {
  return {
    key: `confluence/${docId}`,
    timestamp: String(at),
    value: JSON.stringify({
      specversion: '1.0',
      id: `${docId}-${idSuffix}`,
      source,
      type,
      time: new Date(at).toISOString(),
      subject: `confluence/${docId}`,
      data: { system: 'confluence', docId, revision: 1, ...data },
    }),
  };
}

function content(docId, at, withOwner) {
  return cloudEvent(docId, at, 'c', 'source/confluence', 'content.upserted', {
    contentClass: 'policy',
    title: `Policy ${docId}`,
    ...(withOwner ? { owner: 'alice@example.com' } : {}),
    classification: 'internal',
    // A policy also requires these two (contracts/confluence.yaml): without them every event fired two findings,
    // and the run measured a finding storm (60,000 findings for 30,000 events) instead of a clean stream.
    effectiveDate: '2026-01-01',
    reviewedAt: new Date(at - 30 * 86_400_000).toISOString(),
    language: 'en',
    sizeBytes: 2048,
    attributes: { space: 'POL' },
  });
}

function indexed(docId, at) {
  return cloudEvent(docId, at, 'i', 'connector/confluence-prod', 'index.upserted', {
    connector: 'confluence-prod',
    sourceTime: new Date(at).toISOString(),
  });
}

const quantile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function main() {
  await createTopics();
  const services = layout.processes.map(startService);
  try {
    for (const s of services) await waitReady(s);
    log(
      `${services.length} services ready; producing ${RATE} events/s for ${SECONDS} s (run ${runId})`,
    );
    const inputAt = new Map();
    const latencies = [];
    const collector = kafka.consumer({ groupId: `bench-${runId}` });
    await collector.connect();
    await collector.subscribe({ topic: layout.topics.findings, fromBeginning: true });
    await collector.run({
      eachMessage: async ({ message }) => {
        const finding = JSON.parse(String(message.value)).data;
        if (finding?.check !== 'contract.required' || finding.status !== 'firing') return;
        const at = inputAt.get(finding.subject?.docId);
        if (at === undefined) return;
        inputAt.delete(finding.subject.docId);
        latencies.push(Number(message.timestamp) - at);
      },
    });
    const before = await Promise.all(services.map(usage));
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const started = Date.now();
    let sent = 0;
    let faults = 0;
    let seq = 0;
    const tickMs = 100;
    for (let tick = 0; tick < (SECONDS * 1000) / tickMs; tick++) {
      const due = started + tick * tickMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const now = Date.now();
      const contentMsgs = [];
      const syncMsgs = [];
      const n = Math.round((RATE * tickMs) / 1000);
      const nSync = Math.round(n * SYNC_SHARE);
      for (let i = 0; i < n - nSync; i++) {
        const docId = `P${runId}-${seq++}`;
        const fault = seq % FAULT_EVERY === 0;
        if (fault) {
          inputAt.set(docId, now);
          faults++;
        }
        contentMsgs.push(content(docId, now, !fault));
        // 40% of the events are the index applying one of this tick's changes.
        if (i < nSync) syncMsgs.push(indexed(docId, now));
      }
      await producer.sendBatch({
        acks: 1,
        compression: CompressionTypes.None,
        topicMessages: [
          { topic: layout.topics.contentChanges, messages: contentMsgs },
          { topic: layout.topics.syncEvents, messages: syncMsgs },
        ],
      });
      sent += contentMsgs.length + syncMsgs.length;
    }
    const produceSeconds = (Date.now() - started) / 1000;
    log(
      `produced ${sent} events in ${produceSeconds.toFixed(1)} s (${Math.round(sent / produceSeconds)}/s); ${faults} faults`,
    );
    // Drain: until every fault's finding arrived, or 60 s without one.
    let last = latencies.length;
    let lastChange = Date.now();
    while (latencies.length < faults && Date.now() - lastChange < 60_000) {
      await new Promise((r) => setTimeout(r, 500));
      if (latencies.length !== last) {
        last = latencies.length;
        lastChange = Date.now();
      }
    }
    const elapsed = (Date.now() - started) / 1000;
    const after = await Promise.all(services.map(usage));
    await producer.disconnect();
    await collector.disconnect();
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `\nend-to-end benchmark — node ${process.version}, ${RATE} events/s for ${SECONDS} s, ${PARTITIONS} partitions`,
    );
    console.log(
      `  produced                 ${sent} events (${Math.round(sent / produceSeconds)}/s achieved)`,
    );
    console.log(
      `  input → finding latency  p50 ${quantile(sorted, 0.5)} ms, p99 ${quantile(sorted, 0.99)} ms, max ${sorted.at(-1)} ms (${sorted.length}/${faults} contract.required findings; goal p99 ≤ 500 ms)`,
    );
    // CPU seconds per service say where the two cores went: at saturation latency is queueing, not work.
    for (const [i, s] of services.entries()) {
      const n = after[i].records - before[i].records;
      if (Number.isNaN(n)) {
        console.log(`  ${s.p.service.padEnd(22)}   n/a (its /metrics did not answer)`);
        continue;
      }
      const cpu = after[i].cpu - before[i].cpu;
      console.log(
        `  ${s.p.service.padEnd(22)}   ${Math.round(n / elapsed)
          .toLocaleString('en')
          .padStart(
            7,
          )} records/s (${n} records in ${elapsed.toFixed(0)} s incl. drain); CPU ${cpu.toFixed(1)} s` +
          (n > 0 ? ` (${Math.round((cpu * 1e6) / n)} µs per record)` : ''),
      );
    }
    if (sorted.length < faults) process.exitCode = 1;
  } finally {
    for (const s of services) s.child.kill('SIGTERM');
    await Promise.all(
      services.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 25_000))])),
    );
    for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await deleteTopics();
  }
}

await main();
