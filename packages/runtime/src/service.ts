import {
  ConfigError,
  describeError,
  outputDlqRecord,
  safeErrorText,
  stateTopic,
  systemClock,
} from '@tidemark/core';
import type {
  Clock,
  TidemarkError,
  HandlerContext,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
} from '@tidemark/core';
import { SpanStatusCode } from '@opentelemetry/api';
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { coPartitionedAssigner } from './assigner.js';
import { loadRuntimeConfig } from './config.js';
import type { RuntimeConfig } from './config.js';
import {
  DeliveryAbortedError,
  DeliveryError,
  OutputRejectedError,
  isRebalanceError,
  isRecordRejection,
  kafkaErrorType,
  backoffDelay,
  retryTransient,
} from './delivery.js';
import { startHttpServer } from './http.js';
import type { HttpServer, Probe } from './http.js';
import { createKafka } from './kafka.js';
import { isBrokerOutage } from './broker-outage.js';
import { kafkaAccessError, verifyBrokerCertificate } from './kafka-client.js';
import { createLogger } from './logger.js';
import { RuntimeMetrics } from './metrics.js';
import { OperationsMetrics } from './ops-metrics.js';
import { shutdownTelemetry } from './otel-handle.js';
import { changelogRecords, handleRecord, isPromiseLike } from './processing.js';
import type { FutureLimit, HandlingContext } from './processing.js';
import {
  groupByTopic,
  nextOffset,
  offsetBefore,
  toInputRecord,
  toKafkaMessage,
} from './records.js';
import { messageBytes, planBatches } from './produce-batches.js';
import type { Addressed } from './produce-batches.js';
import { stalledPartitions } from './progress.js';
import { restorePartitions } from './restore.js';
import { definitionStateFormat } from './state-format.js';
import { SerialProducer, stablePartitioner } from './serial-producer.js';
import { TableFollower } from './tables.js';
import { createTopicsReady } from './topic-create.js';
import { describeTopicAccess, missingTopicAccess, topicAccessError } from './topic-access.js';
import type { TopicRequirement } from './topic-access.js';
import { recordTraceFields, startTickSpan, withContext } from './tracing.js';

/** Options of runService; everything has a production default. */
export interface RunServiceOptions {
  /** Where configuration is read from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Source of `now` for handlers and ticks. @default systemClock */
  clock?: Clock;
  /** Logger to use instead of the one built from LOG_LEVEL (tests, embedding). */
  logger?: Logger;
  /** Stop gracefully on SIGTERM/SIGINT. @default true */
  handleSignals?: boolean;
  /**
   * Called with the exit code once the service has stopped (0 after a clean stop, 1 after a fatal error or
   * a missed shutdown deadline). @default process.exit
   */
  exit?: (code: number) => void;
}

/** A running service. */
export interface ServiceHandle {
  readonly config: RuntimeConfig;
  readonly metrics: RuntimeMetrics;
  /** Port the HTTP endpoints listen on (useful with HTTP_PORT=0). */
  readonly httpPort: number;
  /** Whether /readyz answers 200. */
  isReady(): boolean;
  /** Stops gracefully (see README "Shutdown"); resolves with the exit code. */
  stop(reason?: string): Promise<number>;
  /** Resolves with the exit code once the service stopped for any reason. */
  readonly done: Promise<number>;
}

/** State and bookkeeping of one owned partition number (shared by all co-partitioned inputs). */
interface Slot<S extends PartitionState> {
  partition: number;
  state: S;
  /** Next input offset per topic already reflected in `state` (restored from the changelog). */
  marker: Map<string, string>;
  ready: Promise<void>;
  restored: boolean;
  /** Set when the partition was revoked or its state can no longer be trusted; work on it stops. */
  dropped: boolean;
  /** TIDEMARK_CLOCK=event: the highest record timestamp of this partition, and its next tick on event time. */
  watermark: number;
  nextTick: number | undefined;
  /**
   * Event-time mode: per input topic, the highest timestamp read, whether it was read to its end, and since when
   * (host ms; EVENT_IDLE_TIMEOUT after that it no longer holds ticks back).
   */
  topicTime: Map<string, TopicTime>;
  /** Readiness (PARTITION_STALL_TIMEOUT): since when a batch is in hand, and each topic's last commit and lag. */
  busySince: number | undefined;
  progress: Map<string, { at: number; lag: bigint }>;
}

/** Runs one async job per key at a time, in call order; different keys run concurrently. */
export class KeyedSerializer<K> {
  readonly #tails = new Map<K, Promise<unknown>>();

  /** Queues fn behind every earlier job of the same key. */
  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when every job queued so far for key has finished. */
  idle(key: K): Promise<void> {
    return (this.#tails.get(key) ?? Promise.resolve()).then(() => undefined);
  }
}

const HEARTBEAT_EVERY_MS = 3000;

/**
 * Awaits one record's handling while heartbeating, so a record slower than the session timeout (up to
 * RECORD_TIME_BUDGET) does not get its member dropped from the group. A failed heartbeat (a rebalance) is
 * left to the commit after the batch, which handles it.
 */
async function heartbeatWhile<T>(
  handling: Promise<T>,
  heartbeat: () => Promise<void>,
  logger: Logger,
): Promise<T> {
  const timer = setInterval(() => {
    heartbeat().catch((err: unknown) =>
      logger.debug({ err }, 'heartbeat during a slow record failed'),
    );
  }, HEARTBEAT_EVERY_MS);
  try {
    return await handling;
  } finally {
    clearInterval(timer);
  }
}
// A produce pending this long makes the runtime check that its topics still exist (kafkajs retries an unknown
// topic for ever, so a deleted output topic would otherwise stall the service silently).
const PRODUCE_TOPIC_CHECK_MS = 10_000;
// Broker refusals that no retry or other record can fix: the service stops (exit 2) with the topic named.
const AUTHORIZATION_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/** What #processBatch got through: the last offset handled or skipped, and the record it stopped at, if any. */
interface Processed {
  last: string | undefined;
  blocked?:
    | { offset: string; error: TidemarkError; trace: { trace_id?: string; span_id?: string } }
    | undefined;
}

/** How long a crashed consumer's replacement keeps trying to rejoin before the service gives up (exit 1). */
const CONSUMER_REPLACE_MAX_MS = 5 * 60_000;

/** Event time of one input topic of a partition (event-time mode). */
interface TopicTime {
  time: number;
  /** Read to the high watermark its last batch reported, and no record since. */
  caughtUp: boolean;
  /** Host ms the topic was caught up (or its hold re-armed). */
  caughtUpAt: number;
  /** The consumer's fetch rounds per broker node then (see #isIdle). */
  caughtUpRounds: ReadonlyMap<number, number>;
}

/** A topic's time before its first batch, or at start-up with records not read yet (−∞). */
function unreadTopic(time: number): TopicTime {
  return { time, caughtUp: false, caughtUpAt: 0, caughtUpRounds: new Map() };
}

/** A topic-partition paused because a dependency of its handler is unavailable. */
interface DependencyWait {
  /** The record to try again. */
  offset: string;
  attempt: number;
  since: number;
  timer: NodeJS.Timeout;
}

/** An output refused by the broker, with why. */
interface Rejected {
  item: Addressed;
  error: unknown;
}

/**
 * Hosts a service definition on Kafka: reads config from the environment (throws ConfigError on bad config:
 * exit 2), restores partition state, consumes the inputs, runs the handler, produces outputs and state
 * changes, commits, ticks, serves /healthz, /readyz and /metrics, and stops on SIGTERM/SIGINT.
 */
export async function runService<S extends PartitionState, E>(
  definition: ServiceDefinition<S, E>,
  options: RunServiceOptions = {},
): Promise<ServiceHandle> {
  const env = options.env ?? process.env;
  const config = loadRuntimeConfig(env, definition.name);
  checkDefinition(definition);
  const logger =
    options.logger ?? createLogger({ service: definition.name, level: config.logLevel });
  const host = new ServiceHost(definition, config, logger, options);
  try {
    await host.start();
  } catch (error) {
    await host.abortStart();
    // Wrong credentials, an untrusted certificate or a missing ACL: one clear line and exit 2, not a stack.
    throw kafkaAccessError(error, config.kafka) ?? error;
  }
  return host.handle();
}

function checkDefinition(definition: ServiceDefinition<PartitionState, unknown>): void {
  const problems: string[] = [];
  if (definition.inputs.length === 0) problems.push('inputs: at least one input topic is required');
  if (new Set(definition.inputs).size !== definition.inputs.length)
    problems.push('inputs: a topic is listed twice');
  for (const t of definition.tables ?? []) {
    if (definition.inputs.includes(t.topic)) problems.push(`tables: ${t.topic} is also an input`);
  }
  if (problems.length > 0)
    throw new ConfigError(`invalid service definition ${definition.name}`, problems);
}

class ServiceHost<S extends PartitionState, E> {
  readonly #definition: ServiceDefinition<S, E>;
  readonly #config: RuntimeConfig;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #exit: (code: number) => void;
  readonly #handleSignals: boolean;
  readonly #metrics: RuntimeMetrics;
  readonly #ops: OperationsMetrics;
  readonly #changelog: string;
  readonly #slots = new Map<number, Slot<S>>();
  readonly #locks = new KeyedSerializer<number>();
  /** Per `topic:partition`, a record waiting for a dependency to come back (see #pauseForRetry). */
  readonly #dependencyWaits = new Map<string, DependencyWait>();
  readonly #handling: HandlingContext<S, E>;
  #kafka!: Kafka;
  #admin: Admin | undefined;
  #producer: SerialProducer | undefined;
  #consumer: Consumer | undefined;
  /**
   * Fetches started per broker node. kafkajs fetches from a node, hands every batch of the response to the
   * handler and only then fetches again: a new round means the previous response was handled in full.
   */
  readonly #fetchRounds = new Map<number, number>();
  #tables: TableFollower | undefined;
  #http: HttpServer | undefined;
  #tickTask: ScheduledTask | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #partitionCount = 0;
  #joined = false;
  #rebalancing = false;
  #stopping = false;
  #fatal: unknown;
  #resolveDone!: (code: number) => void;
  readonly #done = new Promise<number>((resolve) => (this.#resolveDone = resolve));
  #stopPromise: Promise<number> | undefined;
  readonly #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  /**
   * TIDEMARK_CLOCK=event: each partition's `now` is its highest record timestamp, and ticks run inline on event
   * time (every EVENT_TICK of it) — the replay semantics, live. A clock shared by partitions would let one
   * partition's fast-forward fire another's deadlines before its records were read.
   */
  readonly #eventTime: boolean;

  constructor(
    definition: ServiceDefinition<S, E>,
    config: RuntimeConfig,
    logger: Logger,
    options: RunServiceOptions,
  ) {
    this.#definition = definition;
    this.#config = config;
    this.#logger = logger;
    this.#eventTime = !options.clock && config.clock === 'event';
    this.#clock = options.clock ?? systemClock;
    this.#exit = options.exit ?? ((code) => process.exit(code));
    this.#handleSignals = options.handleSignals ?? true;
    this.#metrics = new RuntimeMetrics(definition.name, definition.metrics ?? []);
    this.#ops = new OperationsMetrics(this.#metrics.registry, {
      ready: () => this.#readiness().ok,
      restoringPartitions: () => [...this.#slots.values()].filter((s) => !s.restored).length,
      // Record timestamps are wall-clock times, whatever clock the handlers see.
      nowMs: () => Date.now(),
    });
    this.#changelog = stateTopic(definition.name);
    this.#handling = {
      definition,
      topics: config.topics,
      clock: this.#clock,
      metrics: this.#metrics.sink,
      recordBudgetMs: config.reliability.recordTimeBudgetMs,
      dlqRestricted: config.dlqRestricted,
    };
  }

  handle(): ServiceHandle {
    return {
      config: this.#config,
      metrics: this.#metrics,
      httpPort: this.#http?.port ?? 0,
      isReady: () => this.#readiness().ok,
      stop: (reason) => this.stop(reason ?? 'stop requested'),
      done: this.#done,
    };
  }

  async start(): Promise<void> {
    const { kafka: kc, http } = this.#config;
    const log = this.#logger;
    log.info(
      {
        inputs: this.#definition.inputs,
        tables: (this.#definition.tables ?? []).map((t) => t.topic),
        brokers: kc.brokers,
        groupId: kc.groupId,
        changelog: this.#changelog,
      },
      'starting',
    );
    this.#http = await startHttpServer(http.host, http.port, {
      health: () => this.#health(),
      ready: () => this.#readiness(),
      registry: this.#metrics.registry,
    });
    log.info({ port: this.#http.port }, 'http listening');
    await verifyBrokerCertificate(this.#config.kafka);
    this.#kafka = createKafka(this.#config, log);
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    this.#partitionCount = await this.#checkTopics(this.#admin);
    await this.#ensureChangelog(this.#admin);
    await this.#checkTopicAccess(this.#kafka);

    // One batch at a time, replaced on OUT_OF_ORDER_SEQUENCE_NUMBER: see SerialProducer for why.
    this.#producer = new SerialProducer({
      create: () =>
        this.#kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          createPartitioner: stablePartitioner,
          // kafkajs keeps idempotence only while it retries on its own (it warns otherwise); transient errors are
          // retried in there with backoff up to 30 s apart, so a broker outage delays outputs and never drops them.
          retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 30_000 },
        }),
      logger: log.child({ component: 'producer' }),
    });
    await this.#producer.connect();

    if (this.#definition.tables?.length) {
      this.#tables = new TableFollower({
        kafka: this.#kafka,
        admin: this.#admin,
        tables: this.#definition.tables,
        groupId: kc.groupId,
        logger: log.child({ component: 'tables' }),
        onFatal: (error) => this.#fail(error, 'global table reader crashed'),
        // A refusal by the cluster stays one; anything else (the broker restarted, killed, frozen) reconnects.
        isFatal: (error) => kafkaAccessError(error, this.#config.kafka) !== undefined,
      });
      await this.#tables.start();
    }

    // On a fresh cluster the group's coordinator answers "the coordinator is loading" for a while, and kafkajs
    // does not retry that while joining (it crashes the consumer, exit 1). Wait for the coordinator here; a
    // principal without DESCRIBE on its group is refused here too, as a one-line exit 2.
    await this.#admin$(
      () => this.#admin!.describeGroups([kc.groupId]),
      'reach the group coordinator',
    );

    await this.#runConsumer();

    // In event-time mode ticks run inline with the records; the schedule only ticks partitions without any.
    if (this.#definition.tick) {
      this.#tickTask = cron.schedule(this.#config.tickSchedule, () => this.#scheduleTicks(), {
        name: `${this.#definition.name}-tick`,
        noOverlap: true,
      });
    }
    // Installed last: a signal during start-up just ends the process (nothing was processed or committed).
    if (this.#handleSignals) {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const handler = () => void this.stop(`received ${signal}`);
        process.on(signal, handler);
        this.#signalHandlers.push([signal, handler]);
      }
    }
    log.info('started');
  }

  /** Creates the group consumer, joins and runs it (at start, and in place of one a broker outage crashed). */
  async #runConsumer(): Promise<void> {
    const kc = this.#config.kafka;
    const consumer = this.#kafka.consumer({
      groupId: kc.groupId,
      partitionAssigners: [coPartitionedAssigner(() => [...this.#slots.keys()])],
      sessionTimeout: kc.sessionTimeoutMs,
      rebalanceTimeout: Math.max(60_000, kc.sessionTimeoutMs),
      heartbeatInterval: Math.min(3000, Math.floor(kc.sessionTimeoutMs / 3)),
      maxBytesPerPartition: kc.maxBytesPerPartition,
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
      // kafkajs must never restart itself: a crashed consumer in a live process is the failure mode of
      // tulios/kafkajs#1529. The runtime exits instead and the orchestrator restarts it. Retries as the
      // client's (kafka.ts): they ride out about two minutes of broker outage first.
      retry: { restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#ops.rebalances.inc();
      this.#onAssignment(payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.#rebalancing = true;
    });
    consumer.on(consumer.events.FETCH_START, ({ payload }) => {
      if (this.#consumer !== consumer) return;
      this.#fetchRounds.set(payload.nodeId, (this.#fetchRounds.get(payload.nodeId) ?? 0) + 1);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.#consumer !== consumer) return;
      if (isBrokerOutage(payload.error) && this.#fatal === undefined && !this.#stopping)
        void this.#replaceConsumer(consumer, payload.error);
      else this.#fail(payload.error, 'kafka consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...this.#definition.inputs],
      fromBeginning: kc.startFrom === 'earliest',
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: kc.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  /**
   * kafkajs crashes its consumer when a broker outage outlasts its retries — or at once, when a rejoin finds no
   * broker in the metadata (KafkaJSNoBrokerAvailableError): a clean broker restart can do that. Restarting the
   * same consumer object is what tulios/kafkajs#1529 warns against; instead every partition is dropped (as in a
   * rebalance that revokes all: uncommitted records come again, state restores from the changelog) and a new
   * consumer joins the group, retried with backoff while the broker stays away (not ready meanwhile).
   */
  async #replaceConsumer(crashed: Consumer, error: unknown): Promise<void> {
    this.#logger.warn(
      { err: error },
      'kafka consumer crashed on a broker outage; replacing it (its partitions restore again)',
    );
    this.#joined = false;
    this.#rebalancing = true;
    for (const p of [...this.#slots.keys()]) this.#dropSlot(p, 'consumer replaced');
    await crashed.disconnect().catch(() => undefined);
    const deadline = Date.now() + CONSUMER_REPLACE_MAX_MS;
    for (let attempt = 0; ; attempt++) {
      if (this.#stopping || this.#fatal !== undefined) return;
      try {
        await this.#runConsumer();
        return;
      } catch (retry) {
        await this.#consumer?.disconnect().catch(() => undefined);
        if (!isBrokerOutage(retry) || Date.now() > deadline) {
          this.#fail(retry, 'kafka consumer could not rejoin after a broker outage');
          return;
        }
        const delayMs = backoffDelay(attempt, { initialMs: 1000, maxMs: 15_000 });
        this.#logger.warn({ err: retry, delayMs }, 'kafka consumer rejoin failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  /** Cleans up whatever start() got to before it failed. */
  async abortStart(): Promise<void> {
    this.#stopping = true;
    this.#removeSignalHandlers();
    await this.#tickTask?.destroy();
    await Promise.allSettled([
      this.#consumer?.disconnect(),
      this.#tables?.stop(),
      this.#producer?.disconnect(),
      this.#admin?.disconnect(),
      this.#http?.close(),
    ]);
  }

  // ---------------------------------------------------------------- startup checks

  /** An admin call retried through transient broker errors (bounded by kafkajs' and our retries). */
  #admin$<T>(call: () => Promise<T>, what: string): Promise<T> {
    return retryTransient(call, {
      what,
      maxMs: 2000,
      abortReason: () => (this.#stopping ? 'stopping' : undefined),
      onRetry: (error, attempt) => this.#logger.warn({ err: error, attempt }, `${what}: retrying`),
    });
  }

  async #checkTopics(admin: Admin): Promise<number> {
    const { topics } = this.#config;
    const existing = new Set(await this.#admin$(() => admin.listTopics(), 'list topics'));
    const problems: string[] = [];
    const required = [
      ...this.#definition.inputs.map((t) => [t, 'input'] as const),
      ...(this.#definition.tables ?? []).map((t) => [t.topic, 'table'] as const),
      [topics.dlq, 'dead-letter (TOPIC_DLQ)'] as const,
      [topics.findings, 'findings (TOPIC_FINDINGS)'] as const,
      ...(this.#definition.outputs ?? []).map((t) => [t, 'output'] as const),
    ];
    for (const [topic, role] of required) {
      if (!existing.has(topic))
        problems.push(
          `${role} topic ${topic} does not exist (create it with "tidemark topics create")`,
        );
    }
    if (problems.length > 0)
      throw new ConfigError(`cannot start ${this.#definition.name}`, problems);
    const { topics: metadata } = await this.#admin$(
      () =>
        admin.fetchTopicMetadata({
          topics: [...this.#definition.inputs],
        }),
      'read input metadata',
    );
    const byName = new Map(metadata.map((m) => [m.name, m.partitions.length]));
    const counts = this.#definition.inputs.map((topic) => ({
      topic,
      partitions: byName.get(topic) ?? 0,
    }));
    const first = counts[0]!.partitions;
    if (counts.some((c) => c.partitions !== first)) {
      throw new ConfigError(`cannot start ${this.#definition.name}`, [
        `inputs must be co-partitioned (same partition count): ${counts.map((c) => `${c.topic} has ${c.partitions}`).join(', ')}`,
      ]);
    }
    return first;
  }

  /** Exit 2 at start, naming topic and operation, when the principal may not read an input or write an output. */
  async #checkTopicAccess(kafka: Kafka): Promise<void> {
    const { topics } = this.#config;
    const read = (topic: string, role: string): TopicRequirement => ({
      topic,
      operation: 'READ',
      role,
    });
    const write = (topic: string, role: string): TopicRequirement => ({
      topic,
      operation: 'WRITE',
      role,
    });
    const required = [
      ...this.#definition.inputs.map((t) => read(t, 'input')),
      ...(this.#definition.tables ?? []).map((t) => read(t.topic, 'table')),
      write(topics.dlq, 'dead-letter, TOPIC_DLQ'),
      write(topics.findings, 'findings, TOPIC_FINDINGS'),
      ...(this.#definition.outputs ?? []).map((t) => write(t, 'output')),
      read(this.#changelog, 'state changelog'),
      write(this.#changelog, 'state changelog'),
    ];
    const access = await this.#admin$(
      () => describeTopicAccess(kafka, [...new Set(required.map((r) => r.topic))]),
      'read topic ACLs',
    );
    if (!access) {
      this.#logger.warn(
        'the broker cannot report topic ACLs (Metadata v8, Kafka 2.3+): a missing one shows at first use',
      );
      return;
    }
    const missing = missingTopicAccess(access, required);
    if (missing.length > 0) throw topicAccessError(missing, this.#config.kafka);
  }

  async #ensureChangelog(admin: Admin): Promise<void> {
    const topic = this.#changelog;
    const created = await this.#admin$(
      () =>
        createTopicsReady(admin, [
          {
            topic,
            numPartitions: this.#partitionCount,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ]),
      `create ${topic}`,
    );
    if (created) {
      this.#logger.info({ topic, partitions: this.#partitionCount }, 'changelog topic created');
      return;
    }
    const { topics } = await this.#admin$(
      () => admin.fetchTopicMetadata({ topics: [topic] }),
      'read changelog metadata',
    );
    const partitions = topics[0]?.partitions.length ?? 0;
    const problems: string[] = [];
    if (partitions !== this.#partitionCount) {
      problems.push(
        `changelog topic ${topic} has ${partitions} partitions but the inputs have ${this.#partitionCount}; state of partition p lives in changelog partition p`,
      );
    }
    const described = await this.#admin$(
      () =>
        admin.describeConfigs({
          includeSynonyms: false,
          resources: [
            {
              type: 2 /* ConfigResourceTypes.TOPIC */,
              name: topic,
              configNames: ['cleanup.policy'],
            },
          ],
        }),
      'read changelog config',
    );
    const policy = described.resources[0]?.configEntries.find(
      (e) => e.configName === 'cleanup.policy',
    )?.configValue;
    // compact,delete would delete old state by age (retention.ms) — state lost as surely as without compact.
    if (policy !== undefined && policy.replace(/\s/g, '') !== 'compact') {
      problems.push(
        `changelog topic ${topic} has cleanup.policy=${policy}; it must be exactly compact (with delete, state older than retention.ms is lost)`,
      );
    }
    if (problems.length > 0)
      throw new ConfigError(`cannot start ${this.#definition.name}`, problems);
  }

  // ---------------------------------------------------------------- assignment and restore

  #onAssignment(memberAssignment: Record<string, number[]>): void {
    const assigned = new Set<number>();
    for (const topic of this.#definition.inputs)
      for (const p of memberAssignment[topic] ?? []) assigned.add(p);
    const beyond = [...assigned].filter((p) => p >= this.#partitionCount);
    if (beyond.length > 0) {
      // Partitions were added to the inputs while running; the changelog has only #partitionCount. Exit;
      // the start-up checks then say what to fix.
      this.#fail(
        new Error(
          `assigned partitions ${beyond.join(', ')} but the inputs had ${this.#partitionCount} at start`,
        ),
        'input partition count changed',
      );
      return;
    }
    const revoked = [...this.#slots.keys()].filter((p) => !assigned.has(p));
    for (const p of revoked) this.#dropSlot(p, 'revoked');
    const fresh = [...assigned].filter((p) => !this.#slots.has(p)).sort((a, b) => a - b);
    this.#createSlots(fresh);
    this.#joined = true;
    this.#rebalancing = false;
    this.#logger.info(
      { partitions: [...assigned].sort((a, b) => a - b), revoked, restoring: fresh },
      'partitions assigned',
    );
  }

  #dropSlot(partition: number, why: string): void {
    const slot = this.#slots.get(partition);
    if (!slot) return;
    slot.dropped = true;
    this.#slots.delete(partition);
    for (const [key, wait] of this.#dependencyWaits) {
      const [topic, p] = [key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1)];
      if (Number(p) !== partition) continue;
      clearTimeout(wait.timer);
      this.#dependencyWaits.delete(key);
      // Whoever owns the partition next (maybe this instance again) must find it fetching.
      this.#consumer?.resume([{ topic, partitions: [partition] }]);
    }
    this.#metrics.forgetPartition(partition, this.#definition.inputs);
    this.#ops.forgetPartition(partition, this.#definition.inputs);
    this.#logger.info({ partition, why }, 'partition state dropped');
  }

  #createSlots(partitions: readonly number[]): void {
    if (partitions.length === 0) return;
    const slots = partitions.map((partition) => {
      const slot: Slot<S> = {
        partition,
        state: this.#definition.createState(partition),
        marker: new Map(),
        ready: Promise.resolve(),
        restored: false,
        dropped: false,
        watermark: 0,
        nextTick: undefined,
        topicTime: new Map(),
        busySince: undefined,
        progress: new Map(),
      };
      this.#slots.set(partition, slot);
      return slot;
    });
    const restoring = (async () => {
      // Work still running on these partitions (from before a revoke) finishes before the barrier is written.
      await Promise.all(partitions.map((p) => this.#locks.idle(p)));
      await restorePartitions({
        kafka: this.#kafka,
        admin: this.#admin!,
        // Barriers queue behind (and ahead of) output batches like any other batch (see SerialProducer).
        producer: {
          sendBatch: (batch) =>
            this.#producer!.send(batch, {
              what: `write restore barriers to ${this.#changelog}`,
              abortReason: () => (this.#stopping ? 'stopping' : undefined),
            }),
        },
        topic: this.#changelog,
        groupId: this.#config.kafka.groupId,
        targets: slots,
        logger: this.#logger.child({ component: 'restore' }),
        onApplied: (n) => this.#metrics.restoredRecords.inc(n),
        abortReason: () => (this.#stopping ? 'stopping' : undefined),
        inputs: this.#definition.inputs,
        service: this.#definition.name,
        stateFormat: definitionStateFormat(this.#definition),
      });
      if (this.#eventTime) {
        await this.#markUnreadTopics(slots).catch((error: unknown) =>
          this.#logger.warn(
            { err: error },
            'could not read input offsets; unread topics will not hold ticks back',
          ),
        );
      }
      for (const slot of slots) {
        slot.restored = true;
        this.#metrics.stateEntries.set({ partition: String(slot.partition) }, slot.state.size());
      }
    })();
    // A failed restore leaves the instance unable to process those partitions correctly: stop.
    restoring.catch((error: unknown) => {
      if (!this.#stopping) this.#fail(error, 'state restore failed');
    });
    for (const slot of slots) slot.ready = restoring;
  }

  #slotFor(partition: number): Slot<S> {
    // GROUP_JOIN precedes every fetch, so this only creates a slot after a state was invalidated.
    if (!this.#slots.has(partition)) this.#createSlots([partition]);
    return this.#slots.get(partition)!;
  }

  // ---------------------------------------------------------------- consuming

  async #eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (this.#fatal !== undefined) return;
    const slot = this.#slotFor(batch.partition);
    await waitWithHeartbeat(slot.ready, heartbeat);
    if (slot.dropped || isStale()) return;
    await this.#locks.run(batch.partition, async () => {
      if (slot.dropped) return;
      slot.busySince = Date.now();
      try {
        await this.#handleBatch(slot, batch, resolveOffset, heartbeat, commitOffsetsIfNecessary);
      } finally {
        slot.busySince = undefined;
      }
    });
  }

  /** Processes a batch, pauses its partition if a record waits for a dependency, and commits what got done. */
  async #handleBatch(
    slot: Slot<S>,
    batch: Batch,
    resolveOffset: EachBatchPayload['resolveOffset'],
    heartbeat: EachBatchPayload['heartbeat'],
    commitOffsetsIfNecessary: EachBatchPayload['commitOffsetsIfNecessary'],
  ): Promise<void> {
    let processed: Processed;
    try {
      processed = await this.#processBatch(slot, batch, heartbeat);
    } catch (error) {
      // In-memory state may now hold changes that never reached the changelog: rebuild it before reuse.
      this.#dropSlot(slot.partition, 'batch failed');
      if (error instanceof DeliveryError || error instanceof ConfigError)
        this.#fail(error, 'delivery failed permanently');
      throw error;
    }
    if (processed.blocked) this.#pauseForRetry(slot, batch.topic, processed.blocked);
    if (processed.last === undefined) return;
    const next = nextOffset(processed.last);
    resolveOffset(processed.last);
    const commitTimer = this.#ops.commitSeconds.startTimer();
    try {
      await retryTransient(
        () =>
          commitOffsetsIfNecessary({
            topics: [
              { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] },
            ],
          }),
        {
          what: `commit ${batch.topic}[${batch.partition}]@${next}`,
          abortReason: () => (slot.dropped ? 'partition revoked' : undefined),
          // Keep the membership while the coordinator is away; a failed heartbeat is the next attempt's problem.
          onRetry: () => void heartbeat().catch(() => undefined),
        },
      );
    } catch (error) {
      if (isRebalanceError(error) || error instanceof DeliveryAbortedError) {
        this.#logger.warn(
          { err: error, topic: batch.topic, partition: batch.partition, offset: next },
          'offset commit lost to a rebalance; the records will be redelivered (the offsets marker skips them where state already has them)',
        );
        return;
      }
      throw error;
    }
    commitTimer();
    const lag = BigInt(batch.highWatermark) - BigInt(next);
    slot.progress.set(batch.topic, { at: Date.now(), lag: lag > 0n ? lag : 0n });
    const lagRecords = Number(lag > 0n ? lag : 0n);
    this.#metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      lagRecords,
    );
    const lastTimestamp = Number(
      batch.messages.find((m) => m.offset === processed.last)?.timestamp ?? Number.NaN,
    );
    if (Number.isFinite(lastTimestamp))
      this.#ops.recordProgress(batch.topic, batch.partition, lastTimestamp, lagRecords);
  }

  /**
   * A record's handler found a dependency unavailable: pause its topic-partition, and after a backoff (capped
   * at DEPENDENCY_RETRY_MAX) seek back to the record and resume, so the same record is tried again. Readiness is
   * false meanwhile; nothing is dead-lettered and no finding is written.
   */
  #pauseForRetry(slot: Slot<S>, topic: string, blocked: NonNullable<Processed['blocked']>): void {
    const key = `${topic}:${slot.partition}`;
    const previous = this.#dependencyWaits.get(key);
    const attempt = previous && previous.offset === blocked.offset ? previous.attempt + 1 : 0;
    const delayMs = backoffDelay(attempt, {
      initialMs: 500,
      maxMs: this.#config.reliability.dependencyRetryMaxMs,
    });
    const { errorClass, message } = describeError(blocked.error);
    this.#logger.warn(
      {
        topic,
        partition: slot.partition,
        offset: blocked.offset,
        ...blocked.trace,
        attempt,
        delayMs,
        errorClass,
        error: message,
        ...(blocked.error.context['dependency'] === undefined
          ? {}
          : { dependency: blocked.error.context['dependency'] }),
      },
      'dependency unavailable; partition paused, the record will be retried',
    );
    const target = [{ topic, partitions: [slot.partition] }];
    this.#consumer!.pause(target);
    const timer = setTimeout(() => {
      const wait = this.#dependencyWaits.get(key);
      if (wait?.timer !== timer) return;
      if (slot.dropped || this.#stopping || this.#fatal !== undefined) {
        this.#dependencyWaits.delete(key);
        return;
      }
      this.#consumer!.seek({ topic, partition: slot.partition, offset: blocked.offset });
      this.#consumer!.resume(target);
    }, delayMs);
    timer.unref();
    this.#dependencyWaits.set(key, {
      offset: blocked.offset,
      attempt,
      since: previous?.since ?? Date.now(),
      timer,
    });
  }

  async #processBatch(
    slot: Slot<S>,
    batch: Batch,
    heartbeat: () => Promise<void>,
  ): Promise<Processed> {
    const { topic, partition } = batch;
    const skipBefore = slot.marker.get(topic);
    const outputs: OutputRecord[] = [];
    const metrics = this.#metrics;
    const handlerSeconds = metrics.handlerSeconds.labels({ topic });
    const waitKey = `${topic}:${partition}`;
    let handled = 0;
    let skipped = 0;
    let deadLetters = 0;
    let last: string | undefined;
    let blocked: Processed['blocked'];
    let lastBeat = performance.now();
    const handlingContext = this.#eventTime
      ? { ...this.#handling, clock: { now: () => slot.watermark } }
      : this.#handling;
    for (const message of batch.messages) {
      if (skipBefore !== undefined && offsetBefore(message.offset, skipBefore)) {
        skipped++;
        last = message.offset;
        continue;
      }
      const future = this.#futureLimit(slot);
      const timestamp = Number(message.timestamp);
      // A record dated too far ahead never moves the partition's event time; handleRecord dead-letters it.
      if (this.#eventTime && !(timestamp > future.reference + future.skewMs))
        this.#advanceEventTime(slot, topic, timestamp, outputs);
      const started = performance.now();
      const input = toInputRecord(topic, partition, message);
      const handling = handleRecord(handlingContext, slot.state, input, future);
      const result = isPromiseLike(handling)
        ? await heartbeatWhile(handling, heartbeat, this.#logger)
        : handling;
      const finished = performance.now();
      if (result.retry !== undefined) {
        // Stop here: what came before is delivered and committed, this record is tried again later.
        blocked = { offset: message.offset, error: result.retry, trace: recordTraceFields(input) };
        break;
      }
      if (this.#dependencyWaits.has(waitKey)) this.#endDependencyWait(waitKey);
      handlerSeconds.observe((finished - started) / 1000);
      handled++;
      last = message.offset;
      for (const o of result.outputs) outputs.push(o);
      if (result.deadLetter !== undefined) {
        deadLetters++;
        // Never the record, and only error text that cannot quote it (safeErrorText).
        const { errorClass } = describeError(result.deadLetter);
        const reason = safeErrorText(result.deadLetter);
        this.#logger.warn(
          {
            errorClass,
            error: reason,
            topic,
            partition,
            offset: message.offset,
            ...recordTraceFields(input),
          },
          'record sent to the dead-letter topic',
        );
      }
      // A slow handler over a whole batch could outlast the session timeout.
      if (finished - lastBeat > HEARTBEAT_EVERY_MS) {
        await heartbeat();
        lastBeat = performance.now();
      }
    }
    metrics.recordsIn.inc({ topic }, handled + skipped);
    if (skipped > 0) metrics.recordsSkipped.inc({ topic }, skipped);
    if (deadLetters > 0) metrics.deadLetters.inc({ topic }, deadLetters);
    if (this.#eventTime && last !== undefined && blocked === undefined) {
      const read = slot.topicTime.get(topic);
      if (read && BigInt(nextOffset(last)) >= BigInt(batch.highWatermark)) {
        read.caughtUp = true;
        this.#holdFromNow(read, Date.now());
      }
    }
    if (last !== undefined || outputs.length > 0)
      await this.#flush(
        slot,
        outputs,
        last === undefined ? undefined : { topic, next: nextOffset(last) },
        heartbeat,
      );
    return { last, blocked };
  }

  /**
   * The latest time a record of this partition may carry (MAX_FUTURE_SKEW): ahead of the host clock in wall-clock
   * mode; in event-time mode ahead of the partition's watermark — or of the host clock where that is later (the
   * first record of a partition, or replayed history: a quiet spell in old traffic is no reason to reject).
   */
  #futureLimit(slot: Slot<S>): FutureLimit {
    const skewMs = this.#config.reliability.maxFutureSkewMs;
    const host = this.#clock.now();
    if (this.#eventTime && slot.watermark > host)
      return { reference: slot.watermark, referenceName: 'partition watermark', skewMs };
    return { reference: host, referenceName: 'host clock', skewMs };
  }

  #endDependencyWait(key: string): void {
    const wait = this.#dependencyWaits.get(key);
    if (!wait) return;
    clearTimeout(wait.timer);
    this.#dependencyWaits.delete(key);
    this.#logger.info(
      { partition: key, waitedMs: Date.now() - wait.since, attempts: wait.attempt + 1 },
      'dependency available again; partition resumed',
    );
  }

  /**
   * Delivers a partition's outputs, then its state changes with the input offsets marker, each awaited
   * (acks=all). Outputs go first so the marker never claims records whose outputs could still be lost.
   */
  async #flush(
    slot: Slot<S>,
    outputs: readonly OutputRecord[],
    advance?: { topic: string; next: string },
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    if (outputs.length > 0) {
      // In event-time mode outputs carry the partition's event time, so a service reading them (the router, or
      // this service's own internal topics) stays on the same clock instead of jumping to the wall clock.
      const timestamp = this.#eventTime && slot.watermark > 0 ? String(slot.watermark) : undefined;
      await this.#send(
        slot,
        outputs.map((o) => {
          const message = toKafkaMessage(o);
          if (timestamp !== undefined) message.timestamp = timestamp;
          return { topic: o.topic, message };
        }),
        heartbeat,
      );
    }
    const changes = slot.state.drainChanges();
    if (changes.length > 0) {
      if (advance) slot.marker.set(advance.topic, advance.next);
      const records = changelogRecords(
        this.#changelog,
        changes,
        slot.marker,
        definitionStateFormat(this.#definition),
      );
      await this.#send(
        slot,
        records.map((r) => ({ topic: r.topic, message: toKafkaMessage(r, slot.partition) })),
        heartbeat,
      );
    }
    this.#metrics.stateEntries.set({ partition: String(slot.partition) }, slot.state.size());
  }

  /**
   * Produces messages in batches under the broker's size limit (KAFKA_MAX_REQUEST_BYTES). An output the
   * broker will never take (too large, invalid) is dead-lettered with the reason — its DLQ copy cut to fit —
   * and the rest goes on; only transient errors are retried (for as long as it takes).
   */
  async #send(
    slot: Slot<S>,
    messages: Addressed[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    const rejected: Rejected[] = [];
    await this.#sendAll(slot, messages, rejected, heartbeat);
    if (rejected.length === 0) return;
    const { topics, reliability } = this.#config;
    const copies = rejected.map(({ item, error }) => {
      const { errorClass, message } = describeError(error);
      this.#logger.error(
        { topic: item.topic, partition: slot.partition, errorClass, error: message },
        'output can never be produced; sent to the dead-letter topic instead',
      );
      this.#metrics.deadLetters.inc({ topic: item.topic });
      const m = item.message;
      const dlq = outputDlqRecord({
        output: {
          topic: item.topic,
          key: m.key === undefined || m.key === null ? null : m.key.toString(),
          value: m.value ?? null,
          headers: Object.fromEntries(
            Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]),
          ),
        },
        error,
        service: this.#definition.name,
        topics,
        // The copy's headers are counted generously; leave room for the batch framing too.
        maxBytes: reliability.maxRequestBytes - 1024,
      });
      return { topic: dlq.topic, message: toKafkaMessage(dlq) };
    });
    const lost: Rejected[] = [];
    await this.#sendAll(slot, copies, lost, heartbeat);
    // A dead letter refused in turn is not retried again: that would be the crash loop this avoids.
    for (const { item, error } of lost)
      this.#logger.error(
        { err: error, topic: item.topic, partition: slot.partition },
        'dead-letter copy of an output refused by the broker too; dropped',
      );
  }

  /** Sends messages in size-bounded batches, collecting the ones the broker will never accept. */
  async #sendAll(
    slot: Slot<S>,
    messages: Addressed[],
    rejected: Rejected[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    const limit = this.#config.reliability.maxRequestBytes;
    const { batches, tooLarge } = planBatches(messages, limit);
    for (const item of tooLarge) {
      rejected.push({
        item,
        error: new OutputRejectedError(
          `output to ${item.topic} is about ${messageBytes(item.message)} bytes, over the produce limit of ${limit} (KAFKA_MAX_REQUEST_BYTES)`,
        ),
      });
    }
    for (const batch of batches) await this.#sendSplitting(slot, batch, rejected, heartbeat);
  }

  /** Sends one batch; when the broker refuses records of it, halves it until the refused ones are alone. */
  async #sendSplitting(
    slot: Slot<S>,
    batch: Addressed[],
    rejected: Rejected[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    try {
      await this.#produce(slot, batch, heartbeat);
    } catch (error) {
      if (!isRecordRejection(error)) {
        const type = kafkaErrorType(error);
        if (type !== undefined && AUTHORIZATION_ERRORS.has(type)) {
          const names = [...new Set(batch.map((b) => b.topic))].join(', ');
          throw new ConfigError(
            `cannot run ${this.#definition.name}`,
            [
              `the broker refused to let this service write to ${names} (${type}): grant it write access`,
            ],
            { cause: error },
          );
        }
        throw error;
      }
      if (batch.length === 1) {
        rejected.push({ item: batch[0]!, error });
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.#sendSplitting(slot, batch.slice(0, half), rejected, heartbeat);
      await this.#sendSplitting(slot, batch.slice(half), rejected, heartbeat);
    }
  }

  /**
   * One sendBatch (acks=all), retried through transient errors. While it is pending the group is heartbeated
   * (when called from a batch) and, past PRODUCE_TOPIC_CHECK_MS, the topics are checked to still exist.
   */
  async #produce(
    slot: Slot<S>,
    messages: Addressed[],
    heartbeat?: () => Promise<void>,
  ): Promise<void> {
    const topicMessages = groupByTopic(messages);
    const produceTimer = this.#ops.produceSeconds.startTimer();
    const sending = this.#producer!.send(
      { acks: -1, topicMessages },
      {
        what: `produce ${messages.length} records`,
        abortReason: () => (this.#fatal !== undefined ? 'service failed' : undefined),
        onRetry: (error, attempt, delayMs) => {
          this.#metrics.deliveryRetries.inc();
          this.#logger.warn(
            { err: error, attempt, delayMs, partition: slot.partition },
            'produce failed; retrying',
          );
        },
      },
    );
    const started = performance.now();
    let checked = started;
    await waitWithHeartbeat(
      sending.then(() => undefined),
      async () => {
        if (heartbeat) await heartbeat().catch(() => undefined);
        if (performance.now() - checked >= PRODUCE_TOPIC_CHECK_MS) {
          checked = performance.now();
          await this.#checkOutputTopics(topicMessages.map((t) => t.topic));
        }
      },
    );
    produceTimer();
    for (const t of topicMessages)
      this.#metrics.recordsOut.inc({ topic: t.topic }, t.messages.length);
  }

  /** Stops the service (exit 2) when an output topic no longer exists; an admin error leaves it to later. */
  async #checkOutputTopics(names: readonly string[]): Promise<void> {
    let existing: Set<string>;
    try {
      existing = new Set(await this.#admin!.listTopics());
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not list topics while a produce is pending');
      return;
    }
    const missing = [...new Set(names)].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    this.#fail(
      new ConfigError(
        `cannot run ${this.#definition.name}`,
        missing.map(
          (t) =>
            `output topic ${t} does not exist (deleted while running?); create it with "tidemark topics create"`,
        ),
      ),
      'output topic missing',
    );
  }

  // ---------------------------------------------------------------- ticks

  /**
   * Event-time mode: records `timestamp` for `topic`, runs the partition's ticks now due, and moves its watermark.
   * Ticks go only as far as the slowest co-partitioned topic that still has records to read (minus the allowed
   * skew): the content and sync halves of a partition arrive in separate batches, and a consumer catching up
   * may read hours of one before the other — an index event not yet read must not make its change look late.
   * A topic read to its end does not hold ticks back (an inventory topic may stay quiet for hours).
   */
  #advanceEventTime(
    slot: Slot<S>,
    topic: string,
    timestamp: number,
    outputs: OutputRecord[],
  ): void {
    if (!Number.isFinite(timestamp)) return;
    const hostNow = Date.now();
    const read = slot.topicTime.get(topic);
    // A topic that had gone idle gets records again: traffic resumes after a lull (a paused producer, a quiet
    // night), and the other idle topics' next records may be in the same fetch, behind this batch. They hold
    // ticks back for another EVENT_IDLE_TIMEOUT instead of letting this topic tick past them at once.
    if (read && this.#isIdle(read, hostNow)) {
      for (const [other, t] of slot.topicTime)
        if (other !== topic && t.caughtUp) this.#holdFromNow(t, hostNow);
    }
    if (read) {
      read.time = Math.max(read.time, timestamp);
      read.caughtUp = false;
    } else slot.topicTime.set(topic, unreadTopic(timestamp));
    if (timestamp > slot.watermark) slot.watermark = timestamp;
    this.#runEventTicks(slot, this.#eventTickBound(slot, hostNow), outputs);
  }

  /** Starts a caught-up topic's hold over again: EVENT_IDLE_TIMEOUT and two fetch rounds from now. */
  #holdFromNow(t: TopicTime, hostNow: number): void {
    t.caughtUpAt = hostNow;
    t.caughtUpRounds = new Map(this.#fetchRounds);
  }

  /**
   * A topic no longer holds ticks back once it was read to its end, EVENT_IDLE_TIMEOUT passed, and a fetch round
   * that began after that was handled in full (two rounds started since) with no record of it. Host time alone
   * is not enough on a loaded host: one round can take longer than the timeout, and its response may hold this
   * topic's next records behind another topic's batch.
   */
  #isIdle(t: TopicTime, hostNow: number): boolean {
    if (!t.caughtUp || hostNow - t.caughtUpAt < this.#config.eventIdleMs) return false;
    for (const [node, rounds] of t.caughtUpRounds)
      if ((this.#fetchRounds.get(node) ?? 0) < rounds + 2) return false;
    return true;
  }

  /**
   * How far a partition's event-time ticks may run: the slowest of its input topics that still has records to
   * read — or was read to its end less than EVENT_IDLE_TIMEOUT ago (its next batch may be on its way, behind
   * another topic's fetch: a deadline must not fire before the event that meets it is read) — minus EVENT_SKEW.
   * With every topic idle, the partition's watermark.
   */
  #eventTickBound(slot: Slot<S>, hostNow: number): number {
    let bound = Infinity;
    for (const t of slot.topicTime.values()) {
      if (!this.#isIdle(t, hostNow) && t.time < bound) bound = t.time;
    }
    if (bound === Infinity) bound = slot.watermark;
    return bound - this.#config.eventSkewMs;
  }

  /**
   * Runs the partition's ticks due up to `tickUpTo` (event time), every EVENT_TICK. Nothing runs while that is
   * not a finite time — a co-partitioned topic with records not read yet holds the partition's ticks back.
   */
  #runEventTicks(slot: Slot<S>, tickUpTo: number, outputs: OutputRecord[]): void {
    const tick = this.#definition.tick;
    const step = this.#config.eventTickMs;
    if (tick && Number.isFinite(tickUpTo)) {
      slot.nextTick ??= Math.floor(tickUpTo / step) * step + step;
      // A gap of more than 1000 steps is crossed in one tick at its end: deadlines inside it fire then.
      if ((tickUpTo - slot.nextTick) / step > 1000)
        slot.nextTick = Math.floor(tickUpTo / step) * step;
      while (slot.nextTick <= tickUpTo) {
        const ctx: HandlerContext = {
          now: slot.nextTick,
          partition: slot.partition,
          service: this.#definition.name,
          topics: this.#config.topics,
          metrics: this.#metrics.sink,
        };
        try {
          for (const o of tick.call(this.#definition, slot.state, ctx)) outputs.push(o);
        } catch (error) {
          this.#logger.error({ err: error, partition: slot.partition }, 'tick failed');
        }
        this.#metrics.ticks.inc({ partition: String(slot.partition) });
        slot.nextTick += step;
      }
    }
  }

  /**
   * Event-time mode: the topics of partitions that have records this instance has not read yet (from the
   * group's committed offsets, or the start of the log, up to the high watermark). They start at time −∞, so
   * the partition's ticks wait until their first records are read — after a restart with a backlog on both
   * topics, content must not tick past sync events still unread.
   */
  async #markUnreadTopics(slots: readonly Slot<S>[]): Promise<void> {
    const admin = this.#admin!;
    const inputs = this.#definition.inputs;
    const committed = await admin.fetchOffsets({
      groupId: this.#config.kafka.groupId,
      topics: [...inputs],
    });
    for (const topic of inputs) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const slot of slots) {
        const log = offsets.find((o) => o.partition === slot.partition);
        if (!log) continue;
        const position = done.find((d) => d.partition === slot.partition)?.offset ?? '-1';
        const from =
          BigInt(position) >= 0n
            ? BigInt(position)
            : this.#config.kafka.startFrom === 'earliest'
              ? BigInt(log.low)
              : BigInt(log.high);
        if (BigInt(log.high) > from && !slot.topicTime.has(topic)) {
          slot.topicTime.set(topic, unreadTopic(-Infinity));
          this.#logger.debug(
            { topic, partition: slot.partition, from: String(from), high: log.high },
            'records not read yet hold ticks back',
          );
        }
      }
    }
  }

  /**
   * Event-time mode, on TICK_SCHEDULE: partitions that have no records of their own yet tick from the slowest
   * input topic's event time on this instance (each topic's highest time over the partitions that read it,
   * then the lowest of those, minus EVENT_SKEW), so deadlines of an idle partition still fire.
   */
  async #runIdleEventTicks(): Promise<void> {
    if (!this.#definition.tick) return;
    await this.#runEventTicksOfIdleTopics();
    const latest = new Map<string, number>();
    for (const slot of this.#slots.values())
      for (const [topic, t] of slot.topicTime)
        latest.set(topic, Math.max(latest.get(topic) ?? -Infinity, t.time));
    if (latest.size === 0) return;
    // A topic with records not read yet (−∞) holds idle partitions back too.
    const tickUpTo = Math.min(...latest.values()) - this.#config.eventSkewMs;
    if (!Number.isFinite(tickUpTo)) return;
    for (const slot of [...this.#slots.values()].sort((a, b) => a.partition - b.partition)) {
      if (this.#stopping || this.#rebalancing || this.#fatal !== undefined) return;
      if (!slot.restored || slot.topicTime.size > 0) continue;
      await this.#locks.run(slot.partition, async () => {
        if (slot.dropped || slot.topicTime.size > 0) return;
        const outputs: OutputRecord[] = [];
        // No record will move this partition's time later: its first tick is the step boundary reached now.
        const step = this.#config.eventTickMs;
        slot.nextTick ??= Math.floor(tickUpTo / step) * step;
        this.#runEventTicks(slot, tickUpTo, outputs);
        if (outputs.length === 0) return;
        if (tickUpTo > slot.watermark) slot.watermark = tickUpTo;
        try {
          await this.#flush(slot, outputs);
        } catch (error) {
          this.#dropSlot(slot.partition, 'tick delivery failed');
          throw error;
        }
      });
    }
  }

  /**
   * Event-time mode, on TICK_SCHEDULE: a partition whose topics went idle (read to their end more than
   * EVENT_IDLE_TIMEOUT ago) runs the ticks its last records allow — no record may arrive to trigger them.
   */
  async #runEventTicksOfIdleTopics(): Promise<void> {
    for (const slot of [...this.#slots.values()].sort((a, b) => a.partition - b.partition)) {
      if (this.#stopping || this.#rebalancing || this.#fatal !== undefined) return;
      if (!slot.restored || slot.topicTime.size === 0) continue;
      await this.#locks.run(slot.partition, async () => {
        if (slot.dropped) return;
        const outputs: OutputRecord[] = [];
        this.#runEventTicks(slot, this.#eventTickBound(slot, Date.now()), outputs);
        if (outputs.length === 0) return;
        try {
          await this.#flush(slot, outputs);
        } catch (error) {
          this.#dropSlot(slot.partition, 'tick delivery failed');
          throw error;
        }
      });
    }
  }

  #scheduleTicks(): Promise<void> {
    this.#ticking = this.#runTicks().catch((error: unknown) => {
      if (error instanceof DeliveryError || error instanceof ConfigError)
        this.#fail(error, 'tick delivery failed permanently');
      else this.#logger.error({ err: error }, 'tick round failed');
    });
    return this.#ticking;
  }

  async #runTicks(): Promise<void> {
    const tick = this.#definition.tick;
    if (!tick) return;
    if (this.#eventTime) return this.#runIdleEventTicks();
    for (const partition of [...this.#slots.keys()].sort((a, b) => a - b)) {
      if (this.#stopping || this.#rebalancing || this.#fatal !== undefined) return;
      const slot = this.#slots.get(partition);
      if (!slot?.restored) continue;
      await this.#locks.run(partition, async () => {
        if (slot.dropped) return;
        const ts = startTickSpan(this.#definition.name, partition);
        const ctx: HandlerContext = {
          now: this.#clock.now(),
          partition,
          service: this.#definition.name,
          topics: this.#config.topics,
          metrics: this.#metrics.sink,
          ...(ts.traceparent === undefined ? {} : { traceparent: ts.traceparent }),
        };
        let outputs: OutputRecord[] = [];
        try {
          outputs = withContext(ts.context, () => tick.call(this.#definition, slot.state, ctx));
        } catch (error) {
          ts.span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          this.#logger.error({ err: error, partition }, 'tick failed');
        } finally {
          ts.span.end();
        }
        this.#metrics.ticks.inc({ partition: String(partition) });
        try {
          await this.#flush(slot, outputs);
        } catch (error) {
          this.#dropSlot(partition, 'tick delivery failed');
          throw error;
        }
      });
    }
  }

  // ---------------------------------------------------------------- health, shutdown, failure

  #health(): Probe {
    return {
      ok: this.#fatal === undefined,
      detail:
        this.#fatal === undefined
          ? {}
          : // Anyone who can reach the port reads this: no text that could quote a record.
            { error: safeErrorText(this.#fatal) },
    };
  }

  #readiness(): Probe {
    const partitions = [...this.#slots.values()];
    const restoring = partitions.filter((s) => !s.restored).map((s) => s.partition);
    const tablesCaughtUp = this.#tables?.caughtUp ?? true;
    const waitingOnDependency = [...this.#dependencyWaits.keys()].sort();
    const stalled = stalledPartitions(
      partitions
        .filter((s) => s.restored)
        .map((s) => ({ partition: s.partition, busySince: s.busySince, topics: s.progress })),
      Date.now(),
      this.#config.reliability.stallTimeoutMs,
    );
    const ok =
      this.#fatal === undefined &&
      !this.#stopping &&
      this.#joined &&
      !this.#rebalancing &&
      restoring.length === 0 &&
      tablesCaughtUp &&
      waitingOnDependency.length === 0 &&
      stalled.length === 0;
    return {
      ok,
      detail: {
        joined: this.#joined,
        rebalancing: this.#rebalancing,
        stopping: this.#stopping,
        partitions: partitions.map((s) => s.partition).sort((a, b) => a - b),
        restoring,
        tablesCaughtUp,
        waitingOnDependency,
        stalled,
      },
    };
  }

  stop(reason: string): Promise<number> {
    if (this.#stopPromise) return this.#stopPromise;
    this.#stopping = true;
    const deadlineMs = this.#config.shutdownTimeoutMs;
    this.#logger.info({ reason, deadlineMs }, 'stopping');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.#logger.error(
          { deadlineMs },
          'shutdown deadline passed; exiting without a clean stop',
        );
        resolve(1);
      }, deadlineMs);
      timer.unref();
    });
    const graceful = (async () => {
      await this.#tickTask?.destroy();
      await this.#ticking;
      // stop() lets the in-flight batches finish (deliver, commit) and then leaves the group.
      await this.#consumer?.stop();
      await this.#consumer?.disconnect();
      await this.#tables?.stop();
      await this.#producer?.disconnect();
      await this.#admin?.disconnect();
      await this.#http?.close();
      await shutdownTelemetry();
      return 0;
    })().catch((error: unknown) => {
      this.#logger.error({ err: error }, 'error while stopping');
      return 1;
    });
    this.#stopPromise = Promise.race([graceful, deadline]).then((code) => {
      clearTimeout(timer);
      this.#removeSignalHandlers();
      this.#logger.info({ code }, 'stopped');
      this.#finish(code);
      return code;
    });
    return this.#stopPromise;
  }

  #fail(error: unknown, what: string): void {
    if (this.#fatal !== undefined) return;
    // A refusal by the cluster (e.g. no WRITE ACL on an output topic) is a configuration problem: one line, exit 2.
    const access = kafkaAccessError(
      error,
      this.#config.kafka,
      `use a topic of ${this.#definition.name}`,
    );
    this.#fatal = access ?? error ?? new Error(what);
    if (access) this.#logger.fatal({ kind: access.kind }, `${what}: ${access.message}; exiting`);
    else this.#logger.fatal({ err: error }, `${what}; exiting`);
    if (this.#stopPromise) return;
    this.#stopping = true;
    // Configuration found wrong while running (a topic deleted, write access revoked) exits like it would at start.
    const code = access || error instanceof ConfigError ? 2 : 1;
    // No graceful path: nothing more may be committed. Leave the group though, so peers take over the
    // partitions at once instead of after a session timeout; give that, telemetry and the HTTP server a few
    // seconds (the consumer may be dead, tulios/kafkajs#1529), then exit non-zero.
    this.#stopPromise = Promise.race([
      Promise.allSettled([
        this.#tickTask?.destroy(),
        this.#consumer?.disconnect(),
        this.#http?.close(),
        shutdownTelemetry(),
      ]),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]).then(() => {
      this.#removeSignalHandlers();
      this.#finish(code);
      return code;
    });
  }

  #finish(code: number): void {
    this.#resolveDone(code);
    this.#logger.flush?.();
    this.#exit(code);
  }

  #removeSignalHandlers(): void {
    for (const [signal, handler] of this.#signalHandlers.splice(0)) process.off(signal, handler);
  }
}

/** Awaits a promise while heartbeating the group, so a long restore does not cost the membership. */
async function waitWithHeartbeat(
  promise: Promise<void>,
  heartbeat: () => Promise<void>,
): Promise<void> {
  let settled = false;
  const done = promise.finally(() => {
    settled = true;
  });
  while (!settled) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, HEARTBEAT_EVERY_MS))),
    ]);
    clearTimeout(timer);
    if (!settled) await heartbeat();
  }
  await done;
}
