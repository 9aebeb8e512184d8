import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Partitioners, type Consumer, type Kafka } from 'kafkajs';
import {
  BROKER_RESTART_RETRY,
  createKafkaClient,
  createTopicsReady,
  type KafkaConnection,
} from '@tidemark/runtime';
import { DEFAULT_TOPICS, type Finding, type TopicCatalog } from '@tidemark/core';
import { silenceToRecord, type Silence } from '@tidemark/routing';
import { loadContractDir } from '@tidemark/contracts/node';
import {
  alignProfiles,
  defaultFaultPlan,
  failures,
  formatScorecard,
  score,
  simulate,
  type FaultPlan,
  type Scorecard,
  type SimulateOptions,
  type ScoreThresholds,
  type SimMeta,
  type TruthEntry,
} from '@tidemark/sim';
import { envelopeLine, produceAtRate, ProduceAborted as DemoAborted } from '../sim-io.js';
import { histogramSeries } from './prometheus.js';
import {
  DEMO_EVENT_SKEW_MS,
  demoLayout,
  demoTopicPlan,
  type DemoLayout,
  type DemoProcess,
} from './layout.js';
import { undecidableWindowFaults } from './sizing.js';
import { BacklogGate } from './backlog.js';
import { emptyCounters, histogramQuantile, renderFrame, type DemoCounters } from './view.js';

/** Options of a demo (or end-to-end) run. */
export interface DemoOptions {
  /** Repository root: where services/<name>/dist/main.js live. */
  root: string;
  brokers: string;
  /** TLS/SASL settings for the run's own clients. @default plaintext to `brokers` */
  connection?: KafkaConnection;
  /** KAFKA_* variables (TLS, SASL) handed to every service besides KAFKA_BROKERS. @default none */
  kafkaEnv?: Readonly<Record<string, string>>;
  contractsDir: string;
  /** Output folder for findings.jsonl, alerts.jsonl, tickets.jsonl, dlq.jsonl, events.jsonl, truth.json, logs/. */
  out: string;
  seed: number;
  docs: number;
  /** Simulated event time, in days (0.25 = 6 hours). */
  days: number;
  /** Seconds of simulated event time produced per second of wall time. */
  speed: number;
  /** Content changes per document per day (the simulator's rate). @default 1 */
  changesPerDocPerDay?: number;
  partitions: number;
  basePort: number;
  /** @default the simulator's default plan (every kind of fault) */
  faults?: FaultPlan;
  /** Delivery noise no check may flag (binary mode, duplicates, stale index events). @default DEMO_TRAFFIC.noise */
  noise?: SimulateOptions['noise'];
  /** Ids per inventory chunk: several chunks per snapshot, sent shuffled. @default DEMO_TRAFFIC.inventoryChunkSize */
  inventoryChunkSize?: number;
  /**
   * Silences put on the run's silences topic before any event, in event time (e.g. placed from the truth's fault
   * times); the alert-router applies them as it would a `tidemark silence add`. @default none
   */
  silences?: (run: { truth: readonly TruthEntry[]; meta: SimMeta }) => Silence[];
  /** Checks left out of the scorecard, with the reason printed in the notes. @default DEMO_UNSCORED */
  unscored?: Readonly<Record<string, string>>;
  /** Leave the run's topics and consumer groups on the broker (they are deleted at the end otherwise). */
  keepTopics?: boolean;
  runId: string;
  /** Redraw the live view in place (a TTY); else print a progress line now and then. */
  live: boolean;
  /** Services to start (by name); all five by default. */
  services?: readonly string[];
  /** How long to wait for the services to go quiet after the last event, ms. @default 90000 */
  settleMs?: number;
  thresholds?: ScoreThresholds;
  write: (text: string) => void;
  signal?: AbortSignal;
}

/** What a demo run produced. */
export interface DemoResult {
  layout: DemoLayout;
  scorecard: Scorecard;
  problems: string[];
  findings: Finding[];
  /** Every dead letter the services wrote: the original key and the headers (`tidemark.dlq.*` say who and why). */
  dlq: DeadLetter[];
  counters: DemoCounters;
  truth: TruthEntry[];
  meta: SimMeta;
  /** The silences the run started with (for a replay of the same input). */
  silences: Silence[];
  /** What the reader should know about the score: unscored checks, faults this run is too small to decide. */
  notes: string[];
  /** Required faults the sizing estimate says this run cannot decide (they still count as missed). */
  undecidable: TruthEntry[];
  out: string;
}

/**
 * Checks the demo does not score, and why. The demo runs no Schema Registry, so the services cannot decode the
 * Confluent-framed record of a `contract.schema` fault: they dead-letter it (an optional `envelope.invalid`
 * finding) instead of checking it against its registered schema.
 */
export const DEMO_UNSCORED: Readonly<Record<string, string>> = {
  'contract.schema':
    'not scored: the demo runs no Schema Registry, so the services dead-letter its Confluent-framed record (see dlq.jsonl) instead of checking it against the registered schema',
};

/**
 * The demo's traffic besides the faults: a quarter of the records in CloudEvents binary mode, 2 % delivered twice,
 * 5 % of documents with a stale index event delivered after a newer one, and inventories of about 1,000 ids per
 * system cut into chunks of 250 sent in a shuffled order. None of it may produce a finding.
 */
export const DEMO_TRAFFIC = {
  noise: { binaryShare: 0.25, duplicateShare: 0.02, staleShare: 0.05 },
  inventoryChunkSize: 250,
} as const;

/** A record of the run's DLQ topic. */
export interface DeadLetter {
  key: string;
  headers: Record<string, string>;
}

/** A part of the demo died while it ran (a service process, or the consumer reading the outputs). */
export class DemoComponentFailed extends Error {
  override readonly name = 'DemoComponentFailed';
  readonly retriable = false;
  constructor(
    readonly component: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${component} ${detail}`, options);
  }
}

/** Thrown when the user pressed Ctrl-C; everything started was stopped. */
export { ProduceAborted as DemoAborted } from '../sim-io.js';

/**
 * Runs the demo end to end on a real broker: creates the run's topics, starts every service as its own
 * process, produces the simulator's events live, shows the live view, waits for the services to settle,
 * and scores the findings against the simulator's ground truth.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const contracts = await loadContractDir(options.contractsDir);
  const full = demoLayout({
    runId: options.runId,
    brokers: options.brokers,
    contractsDir: options.contractsDir,
    basePort: options.basePort,
    ...(options.kafkaEnv ? { kafkaEnv: options.kafkaEnv } : {}),
  });
  const wanted = options.services;
  const layout = {
    ...full,
    processes: full.processes.filter((p) => !wanted || wanted.includes(p.service)),
  };
  for (const p of layout.processes) {
    const main = path.join(options.root, 'services', p.folder, 'dist', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  }
  mkdirSync(path.join(options.out, 'logs'), { recursive: true });
  const kafka = createKafkaClient({
    connection: options.connection ?? { brokers: options.brokers.split(','), ssl: false },
    clientId: `tidemark-demo-${options.runId}`,
    // The demo's producer and collector ride out a broker hiccup (a restart, a broker fenced on a loaded host)
    // as long as the services do.
    retry: BROKER_RESTART_RETRY,
  });

  // Simulated hours end within the last hour, so the run's timestamps look current. The start is a whole hour: the
  // initial load (at most an hour) then fills exactly the first hourly window. Split over two windows, it would give
  // the hourly volume baselines two similar outliers, and the first ordinary hour would look like a collapse.
  const dayMs = 86_400_000;
  const hourMs = 3_600_000;
  const start = Math.floor((started - options.days * dayMs) / hourMs) * hourMs;
  const profiles = alignProfiles(contracts);
  const changesPerDocPerDay = options.changesPerDocPerDay ?? 1;
  const sim = simulate({
    seed: options.seed,
    docs: options.docs,
    days: options.days,
    start,
    changesPerDocPerDay,
    faults: options.faults ?? defaultFaultPlan(),
    profiles,
    topics: layout.topics,
    noise: options.noise ?? DEMO_TRAFFIC.noise,
    inventoryChunkSize: options.inventoryChunkSize ?? DEMO_TRAFFIC.inventoryChunkSize,
    shuffleChunks: true,
  });
  const silences = options.silences?.({ truth: sim.truth, meta: sim.meta }) ?? [];
  const unscored = options.unscored ?? DEMO_UNSCORED;
  const thin = undecidableWindowFaults(contracts, profiles, sim.meta, sim.truth, {
    changesPerDocPerDay,
    skewMs: DEMO_EVENT_SKEW_MS,
  });
  const notes = [
    ...Object.entries(unscored)
      .filter(([check]) => sim.truth.some((t) => t.check === check))
      .map(([check, why]) => `${check}: ${why}`),
    ...sim.meta.warnings,
    ...thin.map(
      (t) => `too small to decide ${t.reason}; a larger run (--docs, --changes, --days) shows it`,
    ),
  ];
  let total = 0;
  let end = start;
  for (const rec of sim.events) {
    total++;
    end = rec.time;
  }
  const counters = emptyCounters(total, start, end);
  // Required faults in injection order, counted into the view as event time passes them.
  const pending = sim.truth
    .filter((t) => !t.optional && !(t.check in unscored))
    .map((t) => ({ check: t.check, at: Date.parse(t.injectedAt) }))
    .sort((a, b) => a.at - b.at);
  const draw = liveView(options, counters, started);
  for (const note of notes) options.write(`note: ${note}\n`);

  await createRunTopics(kafka, layout, options.partitions);
  if (silences.length > 0) await putSilences(kafka, layout.topics.silences, silences);
  const processes: Running[] = [];
  const stopAll = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  const collector = new OutputCollector(kafka, layout, counters, options.out);
  let ticker: ReturnType<typeof setInterval> | undefined;
  // Nobody restarts a service or the collector during a demo: when one dies, the run stops with its log.
  const checkAlive = () => {
    for (const p of processes) p.checkAlive();
    collector.checkAlive();
  };
  try {
    counters.phase = 'starting services';
    draw();
    for (const proc of layout.processes) processes.push(startService(options, proc));
    await Promise.all(processes.map((p) => p.ready(90_000, options.signal)));
    await collector.start();

    counters.phase = 'producing events';
    writeFileSync(path.join(options.out, 'truth.json'), `${JSON.stringify(sim.truth, null, 2)}\n`);
    const events = createWriteStream(path.join(options.out, 'events.jsonl'));
    // events.jsonl names the standard topics, so `tidemark replay --input events.jsonl` reads it as is.
    const canonical = new Map(
      (Object.keys(layout.topics) as Array<keyof TopicCatalog>).map((role) => [
        layout.topics[role],
        DEFAULT_TOPICS[role],
      ]),
    );
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const gateAdmin = kafka.admin();
    await gateAdmin.connect();
    const gate = new BacklogGate(
      gateAdmin,
      layout.processes.flatMap((p) => {
        const topics = serviceInputs(layout.topics)[p.service] ?? [];
        const produced = topics.filter((t) => t !== layout.topics.findings);
        return produced.length > 0 ? [{ groupId: p.env['KAFKA_GROUP_ID']!, topics: produced }] : [];
      }),
      options.partitions,
      DEMO_EVENT_SKEW_MS / 2,
    );
    ticker = setInterval(() => {
      counters.elapsedMs = Date.now() - started;
      void scrapeSyncLag(layout, counters).finally(draw);
    }, 250);
    let next = 0;
    try {
      await produceAtRate(producer, sim.events, {
        speed: options.speed,
        ...(options.signal ? { signal: options.signal } : {}),
        hold: async () => {
          const before = gate.heldMs;
          await gate.hold(options.signal, checkAlive);
          if (gate.heldMs - before > 500) counters.heldMs = gate.heldMs;
        },
        onRecord: (rec) => {
          gate.record(rec.topic, rec.key, rec.time);
          events.write(
            `${envelopeLine({ ...rec, topic: canonical.get(rec.topic) ?? rec.topic })}\n`,
          );
          counters.eventTime = rec.time;
          for (; next < pending.length && pending[next]!.at <= rec.time; next++) {
            const check = pending[next]!.check;
            counters.injected.set(check, (counters.injected.get(check) ?? 0) + 1);
          }
        },
        onProgress: (n) => {
          counters.produced = n;
        },
      });
    } finally {
      await gateAdmin.disconnect();
      await producer.disconnect();
      await new Promise<void>((resolve) => events.end(resolve));
    }

    counters.phase = 'waiting for the services to settle';
    await settle(kafka, layout, collector, options.settleMs ?? 90_000, checkAlive, options.signal);
    clearInterval(ticker);
    await scrapeSyncLag(layout, counters);
    counters.phase = 'done';
    counters.elapsedMs = Date.now() - started;
    draw();
  } finally {
    clearInterval(ticker);
    await collector.stop();
    await stopAll();
    if (!options.keepTopics) await deleteRunTopics(kafka, layout).catch(() => {});
  }

  const scorecard = score({
    truth: sim.truth,
    findings: collector.findings,
    ignoreChecks: Object.keys(unscored),
  });
  const problems = failures(scorecard, options.thresholds ?? {});
  collector.writeFiles();
  writeFileSync(path.join(options.out, 'scorecard.txt'), `${formatScorecard(scorecard)}\n`);
  writeFileSync(
    path.join(options.out, 'scorecard.json'),
    `${JSON.stringify(scorecard, null, 2)}\n`,
  );
  return {
    layout,
    scorecard,
    problems,
    findings: collector.findings,
    dlq: collector.dlq,
    counters,
    truth: sim.truth,
    meta: sim.meta,
    silences,
    notes,
    undecidable: thin.map((t) => t.entry),
    out: options.out,
  };
}

function liveView(options: DemoOptions, counters: DemoCounters, started: number): () => void {
  let lastLines = 0;
  let lastPrint = 0;
  return () => {
    counters.elapsedMs = Date.now() - started;
    const frame = renderFrame(counters);
    if (options.live) {
      // Move up over the previous frame and clear to the end of the screen, then draw.
      options.write(`${lastLines > 0 ? `\x1b[${lastLines}F\x1b[J` : ''}${frame.join('\n')}\n`);
      lastLines = frame.length;
    } else if (Date.now() - lastPrint > 10_000 || counters.phase === 'done') {
      lastPrint = Date.now();
      let firing = 0;
      for (const n of counters.findingsByCheck.values()) firing += n.firing;
      options.write(
        `${frame[0]} · ${frame[1]?.replace(/\s+/g, ' ')} · ${firing} findings firing, ${counters.dlq} dead letters\n`,
      );
    }
  };
}

async function createRunTopics(
  kafka: Kafka,
  layout: DemoLayout,
  partitions: number,
): Promise<void> {
  const plan = demoTopicPlan(layout, partitions);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      plan.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        configEntries: [{ name: 'cleanup.policy', value: t.cleanupPolicy }],
      })),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Writes silences to the run's silences topic, keyed by id, as `tidemark silence add` does. */
async function putSilences(
  kafka: Kafka,
  topic: string,
  silences: readonly Silence[],
): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: silences.map((s) => ({ key: s.id, value: JSON.stringify(silenceToRecord(s)) })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Deletes the run's topics (every name carries the run id) and its services' consumer groups. */
async function deleteRunTopics(kafka: Kafka, layout: DemoLayout): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.includes(layout.runId));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.includes(layout.runId));
    if (groups.length > 0) await admin.deleteGroups(groups);
  } finally {
    await admin.disconnect();
  }
}

interface Running {
  ready(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Throws DemoComponentFailed when the process has exited. */
  checkAlive(): void;
  stop(): Promise<void>;
}

function startService(options: DemoOptions, proc: DemoProcess): Running {
  const main = path.join(options.root, 'services', proc.folder, 'dist', 'main.js');
  const logFile = path.join(options.out, 'logs', `${proc.service}.log`);
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', '@tidemark/runtime/otel', main],
    {
      cwd: options.root,
      env: { PATH: process.env['PATH'] ?? '', ...proc.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, sig) => {
      exitCode = code ?? (sig ? 128 : 1);
      resolve();
    }),
  );
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  return {
    async ready(timeoutMs, signal) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal?.aborted) throw new DemoAborted('interrupted');
        if (exitCode !== null)
          throw new Error(
            `${proc.service} exited with ${exitCode} while starting; ${logFile}:\n${tail()}`,
          );
        try {
          const res = await fetch(`http://127.0.0.1:${proc.httpPort}/readyz`);
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(
            `${proc.service} not ready after ${timeoutMs / 1000}s; ${logFile}:\n${tail()}`,
          );
        await sleep(250);
      }
    },
    checkAlive() {
      if (exitCode !== null)
        throw new DemoComponentFailed(
          proc.service,
          `exited with ${exitCode} while the demo ran; ${logFile}:\n${tail()}`,
        );
    },
    async stop() {
      if (exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}

/** Waits until every service group has consumed its inputs to the end and no output arrived for a while. */
async function settle(
  kafka: Kafka,
  layout: DemoLayout,
  collector: OutputCollector,
  timeoutMs: number,
  checkAlive: () => void,
  signal?: AbortSignal,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (signal?.aborted) throw new DemoAborted('interrupted');
      checkAlive();
      // A transient admin error (the group coordinator moved, a broker hiccup) is a "not yet".
      const caughtUp = await allCaughtUp(admin, layout).catch(() => false);
      if (caughtUp && Date.now() - collector.lastOutputAt > 6000) return;
      if (Date.now() > deadline) return;
      await sleep(1000);
    }
  } finally {
    await admin.disconnect();
  }
}

/** The catalog topics each service consumes (besides its internal ones). */
function serviceInputs(t: TopicCatalog): Record<string, string[]> {
  return {
    'alert-router': [t.findings],
    'contract-checker': [t.contentChanges],
    'freshness-monitor': [t.contentChanges, t.syncEvents],
    'parity-verifier': [t.contentChanges, t.syncEvents, t.inventorySnapshots],
    'drift-detector': [t.contentChanges, t.syncEvents],
  };
}

async function allCaughtUp(
  admin: ReturnType<Kafka['admin']>,
  layout: DemoLayout,
): Promise<boolean> {
  const inputs = serviceInputs(layout.topics);
  for (const proc of layout.processes) {
    for (const topic of inputs[proc.service] ?? []) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({
        groupId: proc.env['KAFKA_GROUP_ID']!,
        topics: [topic],
      });
      for (const end of ends) {
        const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        if (end.high !== '0' && BigInt(c) < BigInt(end.high)) return false;
      }
    }
  }
  return true;
}

async function scrapeSyncLag(layout: DemoLayout, counters: DemoCounters): Promise<void> {
  const freshness = layout.processes.find((p) => p.service === 'freshness-monitor');
  if (!freshness) return;
  try {
    const text = await (await fetch(`http://127.0.0.1:${freshness.httpPort}/metrics`)).text();
    // Summed over every system/connector/class series: the demo shows one lag distribution.
    const merged = new Map<number, number>();
    let count = 0;
    for (const series of histogramSeries(text, 'tidemark_sync_lag_seconds')) {
      count += Number(series.count ?? 0);
      for (const [le, c] of Object.entries(series.buckets)) {
        const bound = le === '+Inf' ? Infinity : Number(le);
        merged.set(bound, (merged.get(bound) ?? 0) + Number(c));
      }
    }
    const buckets = [...merged].map(([le, c]) => ({ le, count: c }));
    if (count > 0) {
      counters.syncLag = {
        p50: histogramQuantile(0.5, buckets),
        p99: histogramQuantile(0.99, buckets),
        count,
      };
    }
  } catch {
    // the service may be stopping; keep the last numbers
  }
}

/** Reads the run's output topics from the start into counters and memory. */
class OutputCollector {
  readonly findings: Finding[] = [];
  readonly dlq: DeadLetter[] = [];
  lastOutputAt = Date.now();
  readonly #lines = new Map<string, string[]>();
  #consumer: Consumer | undefined;
  #crash: Error | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly layout: DemoLayout,
    private readonly counters: DemoCounters,
    private readonly out: string,
  ) {}

  async start(): Promise<void> {
    const t = this.layout.topics;
    const consumer = this.kafka.consumer({
      groupId: `tidemark-demo-view-${this.layout.runId}`,
      maxWaitTimeInMs: 250,
      // A restarted kafkajs consumer can be left dead in a live process (tulios/kafkajs#1529): fail the run instead.
      retry: { retries: 8, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.#crash = payload.error;
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [t.findings, t.alerts, t.tickets, t.dlq],
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        this.lastOutputAt = Date.now();
        const text = message.value?.toString() ?? '';
        const file =
          topic === t.findings
            ? 'findings'
            : topic === t.alerts
              ? 'alerts'
              : topic === t.tickets
                ? 'tickets'
                : 'dlq';
        if (file === 'dlq') {
          this.counters.dlq++;
          const headers = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? '']),
          );
          this.dlq.push({ key: message.key?.toString() ?? '', headers });
          this.#push(
            file,
            JSON.stringify({ key: message.key?.toString() ?? null, value: text, headers }),
          );
          return;
        }
        this.#push(file, text);
        const data = (JSON.parse(text) as { data: Record<string, unknown> }).data;
        if (file === 'findings') {
          const finding = data as unknown as Finding;
          this.findings.push(finding);
          const n = this.counters.findingsByCheck.get(finding.check) ?? { firing: 0, resolved: 0 };
          n[finding.status]++;
          this.counters.findingsByCheck.set(finding.check, n);
        } else if (file === 'alerts') {
          this.counters.alerts[data['status'] === 'resolved' ? 'resolved' : 'firing']++;
        } else {
          const action = data['action'] as 'open' | 'update' | 'resolve';
          this.counters.tickets[action]++;
        }
      },
    });
  }

  /** Throws DemoComponentFailed when the consumer crashed. */
  checkAlive(): void {
    if (this.#crash)
      throw new DemoComponentFailed(
        'the consumer of the output topics',
        `crashed: ${this.#crash.message}`,
        {
          cause: this.#crash,
        },
      );
  }

  #push(file: string, line: string): void {
    const lines = this.#lines.get(file) ?? [];
    lines.push(line);
    this.#lines.set(file, lines);
  }

  writeFiles(): void {
    for (const file of ['findings', 'alerts', 'tickets', 'dlq']) {
      const lines = this.#lines.get(file) ?? [];
      writeFileSync(
        path.join(this.out, `${file}.jsonl`),
        lines.length > 0 ? `${lines.join('\n')}\n` : '',
      );
    }
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
