import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { BROKER_RESTART_RETRY, createKafkaClient, type KafkaConnection } from '@tidemark/runtime';
import { DEFAULT_TOPICS, type Finding, type TopicCatalog } from '@tidemark/core';
import type { Silence } from '@tidemark/routing';
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
import { envelopeLine, produceAtRate } from '../sim-io.js';
import { OutputCollector, type DeadLetter } from './collector.js';
import { DEMO_EVENT_SKEW_MS, demoLayout, type DemoLayout } from './layout.js';
import { DemoComponentFailed, startService, type Running } from './processes.js';
import { scrapeSyncLag, serviceInputs, settle } from './progress.js';
import { undecidableWindowFaults } from './sizing.js';
import { BacklogGate } from './backlog.js';
import { createRunTopics, deleteRunTopics, putSilences } from './topics.js';
import { emptyCounters, renderFrame, type DemoCounters } from './view.js';

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

export { DemoComponentFailed, type DeadLetter };

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
