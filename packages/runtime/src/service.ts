import { ConfigError, describeError, stateTopic, systemClock } from '@tidemark/core';
import type {
  Clock,
  HandlerContext,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
} from '@tidemark/core';
import { SpanStatusCode } from '@opentelemetry/api';
import { Partitioners } from 'kafkajs';
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { coPartitionedAssigner } from './assigner.js';
import { loadRuntimeConfig } from './config.js';
import type { RuntimeConfig } from './config.js';
import { DeliveryAbortedError, DeliveryError, retryTransient } from './delivery.js';
import { startHttpServer } from './http.js';
import type { HttpServer, Probe } from './http.js';
import { createKafka } from './kafka.js';
import { createLogger } from './logger.js';
import { RuntimeMetrics } from './metrics.js';
import { OperationsMetrics } from './ops-metrics.js';
import { shutdownTelemetry } from './otel-handle.js';
import { changelogRecords, handleRecord, isPromiseLike } from './processing.js';
import type { HandlingContext } from './processing.js';
import {
  groupByTopic,
  nextOffset,
  offsetBefore,
  toInputRecord,
  toKafkaMessage,
} from './records.js';
import type { OutgoingMessage } from './records.js';
import { restorePartitions } from './restore.js';
import { TableFollower } from './tables.js';
import { startTickSpan, withContext } from './tracing.js';

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
  /** Event-time mode: per input topic, the highest timestamp read and whether it was read to its end. */
  topicTime: Map<string, { time: number; caughtUp: boolean }>;
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

// Kafka error types after which a commit cannot succeed in this generation: the records are redelivered to
// whoever owns the partition next (and skipped there by the offsets marker where state already has them).
const REBALANCE_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR',
  'FENCED_INSTANCE_ID',
]);

function isRebalanceError(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' && REBALANCE_ERRORS.has(type);
}

const HEARTBEAT_EVERY_MS = 3000;

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
    throw error;
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
  readonly #handling: HandlingContext<S, E>;
  #kafka!: Kafka;
  #admin: Admin | undefined;
  #producer: Producer | undefined;
  #consumer: Consumer | undefined;
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
    this.#kafka = createKafka(this.#config, log);
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    this.#partitionCount = await this.#checkTopics(this.#admin);
    await this.#ensureChangelog(this.#admin);

    this.#producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs keeps idempotence only while it retries on its own (it warns otherwise); transient errors are
      // retried in there with backoff up to 30 s apart, so a broker outage delays outputs and never drops them.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 30_000 },
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
      });
      await this.#tables.start();
    }

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
      // tulios/kafkajs#1529. The runtime exits instead and the orchestrator restarts it.
      retry: { retries: 8, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#ops.rebalances.inc();
      this.#onAssignment(payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.#rebalancing = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      this.#fail(payload.error, 'kafka consumer crashed'),
    );
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

    if (this.#definition.tick && !this.#eventTime) {
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

  async #ensureChangelog(admin: Admin): Promise<void> {
    const topic = this.#changelog;
    // A topic just created can be briefly unknown to the metadata that waitForLeaders reads (KRaft
    // propagation); trying again then finds it existing, and the checks below run.
    const created = await this.#admin$(
      () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: this.#partitionCount,
              configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
            },
          ],
        }),
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
    if (policy !== undefined && !policy.split(',').includes('compact')) {
      problems.push(
        `changelog topic ${topic} has cleanup.policy=${policy}; it must include compact or state is lost`,
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
        producer: this.#producer!,
        topic: this.#changelog,
        groupId: this.#config.kafka.groupId,
        targets: slots,
        logger: this.#logger.child({ component: 'restore' }),
        onApplied: (n) => this.#metrics.restoredRecords.inc(n),
        abortReason: () => (this.#stopping ? 'stopping' : undefined),
      });
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
      try {
        await this.#processBatch(slot, batch, heartbeat);
      } catch (error) {
        // In-memory state may now hold changes that never reached the changelog: rebuild it before reuse.
        this.#dropSlot(slot.partition, 'batch failed');
        if (error instanceof DeliveryError) this.#fail(error, 'delivery failed permanently');
        throw error;
      }
      const last = batch.messages[batch.messages.length - 1]!.offset;
      const next = nextOffset(last);
      resolveOffset(last);
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
      const lagRecords = Number(lag > 0n ? lag : 0n);
      this.#metrics.consumerLag.set(
        { topic: batch.topic, partition: String(batch.partition) },
        lagRecords,
      );
      const lastTimestamp = Number(batch.messages[batch.messages.length - 1]!.timestamp);
      this.#ops.recordProgress(batch.topic, batch.partition, lastTimestamp, lagRecords);
    });
  }

  async #processBatch(slot: Slot<S>, batch: Batch, heartbeat: () => Promise<void>): Promise<void> {
    const { topic, partition } = batch;
    const skipBefore = slot.marker.get(topic);
    const outputs: OutputRecord[] = [];
    const metrics = this.#metrics;
    const handlerSeconds = metrics.handlerSeconds.labels({ topic });
    let handled = 0;
    let skipped = 0;
    let deadLetters = 0;
    let lastBeat = performance.now();
    const handlingContext = this.#eventTime
      ? { ...this.#handling, clock: { now: () => slot.watermark } }
      : this.#handling;
    for (const message of batch.messages) {
      if (skipBefore !== undefined && offsetBefore(message.offset, skipBefore)) {
        skipped++;
        continue;
      }
      if (this.#eventTime) this.#advanceEventTime(slot, topic, Number(message.timestamp), outputs);
      const started = performance.now();
      const handling = handleRecord(
        handlingContext,
        slot.state,
        toInputRecord(topic, partition, message),
      );
      const result = isPromiseLike(handling) ? await handling : handling;
      const finished = performance.now();
      handlerSeconds.observe((finished - started) / 1000);
      handled++;
      for (const o of result.outputs) outputs.push(o);
      if (result.deadLetter !== undefined) {
        deadLetters++;
        const { errorClass, message: reason } = describeError(result.deadLetter);
        this.#logger.warn(
          { errorClass, error: reason, topic, partition, offset: message.offset },
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
    const last = batch.messages[batch.messages.length - 1]!.offset;
    if (this.#eventTime) {
      const read = slot.topicTime.get(topic);
      if (read) read.caughtUp = BigInt(nextOffset(last)) >= BigInt(batch.highWatermark);
    }
    await this.#flush(slot, outputs, { topic, next: nextOffset(last) });
  }

  /**
   * Delivers a partition's outputs, then its state changes with the input offsets marker, each awaited
   * (acks=all). Outputs go first so the marker never claims records whose outputs could still be lost.
   */
  async #flush(
    slot: Slot<S>,
    outputs: readonly OutputRecord[],
    advance?: { topic: string; next: string },
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
      );
    }
    const changes = slot.state.drainChanges();
    if (changes.length > 0) {
      if (advance) slot.marker.set(advance.topic, advance.next);
      const records = changelogRecords(this.#changelog, changes, slot.marker);
      await this.#send(
        slot,
        records.map((r) => ({ topic: r.topic, message: toKafkaMessage(r, slot.partition) })),
      );
    }
    this.#metrics.stateEntries.set({ partition: String(slot.partition) }, slot.state.size());
  }

  async #send(
    slot: Slot<S>,
    messages: Array<{ topic: string; message: OutgoingMessage }>,
  ): Promise<void> {
    const topicMessages = groupByTopic(messages);
    const produceTimer = this.#ops.produceSeconds.startTimer();
    await retryTransient(() => this.#producer!.sendBatch({ acks: -1, topicMessages }), {
      what: `produce ${messages.length} records`,
      abortReason: () => (this.#fatal !== undefined ? 'service failed' : undefined),
      onRetry: (error, attempt, delayMs) => {
        this.#metrics.deliveryRetries.inc();
        this.#logger.warn(
          { err: error, attempt, delayMs, partition: slot.partition },
          'produce failed; retrying',
        );
      },
    });
    produceTimer();
    for (const t of topicMessages)
      this.#metrics.recordsOut.inc({ topic: t.topic }, t.messages.length);
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
    const read = slot.topicTime.get(topic);
    if (read) {
      read.time = Math.max(read.time, timestamp);
      read.caughtUp = false;
    } else slot.topicTime.set(topic, { time: timestamp, caughtUp: false });
    if (timestamp > slot.watermark) slot.watermark = timestamp;
    let bound = Infinity;
    for (const t of slot.topicTime.values()) if (!t.caughtUp && t.time < bound) bound = t.time;
    const tick = this.#definition.tick;
    const step = this.#config.eventTickMs;
    // The allowed skew covers records of a topic read to its end whose next batch is still on its way.
    const tickUpTo = bound - this.#config.eventSkewMs;
    if (tick) {
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

  #scheduleTicks(): Promise<void> {
    this.#ticking = this.#runTicks().catch((error: unknown) => {
      if (error instanceof DeliveryError) this.#fail(error, 'tick delivery failed permanently');
      else this.#logger.error({ err: error }, 'tick round failed');
    });
    return this.#ticking;
  }

  async #runTicks(): Promise<void> {
    const tick = this.#definition.tick;
    if (!tick) return;
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
          : { error: String((this.#fatal as Error)?.message ?? this.#fatal) },
    };
  }

  #readiness(): Probe {
    const partitions = [...this.#slots.values()];
    const restoring = partitions.filter((s) => !s.restored).map((s) => s.partition);
    const tablesCaughtUp = this.#tables?.caughtUp ?? true;
    const ok =
      this.#fatal === undefined &&
      !this.#stopping &&
      this.#joined &&
      !this.#rebalancing &&
      restoring.length === 0 &&
      tablesCaughtUp;
    return {
      ok,
      detail: {
        joined: this.#joined,
        rebalancing: this.#rebalancing,
        stopping: this.#stopping,
        partitions: partitions.map((s) => s.partition).sort((a, b) => a - b),
        restoring,
        tablesCaughtUp,
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
    this.#fatal = error ?? new Error(what);
    this.#logger.fatal({ err: error }, `${what}; exiting`);
    if (this.#stopPromise) return;
    this.#stopping = true;
    // No graceful path: the consumer may be dead (tulios/kafkajs#1529) and nothing more may be committed.
    // Give telemetry and the HTTP server a moment, then exit non-zero so the orchestrator restarts us.
    this.#stopPromise = Promise.race([
      Promise.allSettled([this.#tickTask?.destroy(), this.#http?.close(), shutdownTelemetry()]),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]).then(() => {
      this.#removeSignalHandlers();
      this.#finish(1);
      return 1;
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
