// The host of one service definition from start to exit: start-up (HTTP, checks, changelog, producer, tables,
// group consumer, tick schedule, signals), graceful stop and fatal failure. It owns the clients and wires the
// concept modules together — topology.ts, changelog.ts, partitions.ts, group-consumer.ts, batch-loop.ts,
// output-producer.ts, event-time.ts, ticks.ts, dependency-waits.ts, probes.ts — each given its inputs
// explicitly. A little over 400 lines because that wiring (one constructor, one start) is all in one place.
import { ConfigError, stateTopic, systemClock } from '@tidemark/core';
import type { Clock, PartitionState, ServiceDefinition } from '@tidemark/core';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { BatchLoop } from './batch-loop.js';
import { ensureChangelog, restoreFromChangelog } from './changelog.js';
import type { RuntimeConfig } from './config.js';
import { DependencyWaits } from './dependency-waits.js';
import { EventTime } from './event-time.js';
import { GroupConsumer } from './group-consumer.js';
import type { HostStatus } from './host-status.js';
import { startHttpServer } from './http.js';
import type { HttpServer, Probe } from './http.js';
import { createKafka } from './kafka.js';
import { kafkaAccessError, verifyBrokerCertificate } from './kafka-client.js';
import { RuntimeMetrics } from './metrics.js';
import { OperationsMetrics } from './ops-metrics.js';
import { shutdownTelemetry } from './otel-handle.js';
import { OutputProducer, createSerialProducer } from './output-producer.js';
import { Partitions } from './partitions.js';
import { definitionStateFormat } from './state-format.js';
import { health, readiness } from './probes.js';
import type { HandlingContext } from './processing.js';
import type { SerialProducer } from './serial-producer.js';
import { TableFollower } from './tables.js';
import { Ticks } from './ticks.js';
import { adminCall, checkTopicAccess, checkTopics } from './topology.js';
import type { AdminCall } from './topology.js';

/** The runService options the host uses (see RunServiceOptions). */
export interface HostOptions {
  clock?: Clock;
  handleSignals?: boolean;
  exit?: (code: number) => void;
}

/** The running service's handle (ServiceHandle in service.ts). */
export interface HostHandle {
  readonly config: RuntimeConfig;
  readonly metrics: RuntimeMetrics;
  readonly httpPort: number;
  isReady(): boolean;
  stop(reason?: string): Promise<number>;
  readonly done: Promise<number>;
}

/** One hosted service; see the file comment. */
export class ServiceHost<S extends PartitionState, E> {
  /** The changelog state format written and read (the definition's topology). */
  readonly #stateFormat: number;
  readonly #definition: ServiceDefinition<S, E>;
  readonly #config: RuntimeConfig;
  readonly #logger: Logger;
  readonly #exit: (code: number) => void;
  readonly #handleSignals: boolean;
  readonly #metrics: RuntimeMetrics;
  readonly #ops: OperationsMetrics;
  readonly #changelog: string;
  readonly #status: HostStatus = {
    joined: false,
    rebalancing: false,
    stopping: false,
    fatal: undefined,
  };
  readonly #admin$: AdminCall;
  /**
   * TIDEMARK_CLOCK=event (set only then): each partition's `now` is its highest record timestamp, and ticks run
   * inline on event time — see event-time.ts.
   */
  readonly #eventTime: EventTime | undefined;
  readonly #waits: DependencyWaits;
  readonly #partitions: Partitions<S>;
  readonly #ticks: Ticks<S, E>;
  readonly #batches: BatchLoop<S, E>;
  #kafka!: Kafka;
  #admin: Admin | undefined;
  #producer: SerialProducer | undefined;
  #outputs: OutputProducer | undefined;
  #group: GroupConsumer<S> | undefined;
  #tables: TableFollower | undefined;
  #http: HttpServer | undefined;
  #partitionCount = 0;
  #resolveDone!: (code: number) => void;
  readonly #done = new Promise<number>((resolve) => (this.#resolveDone = resolve));
  #stopPromise: Promise<number> | undefined;
  readonly #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(
    definition: ServiceDefinition<S, E>,
    config: RuntimeConfig,
    logger: Logger,
    options: HostOptions,
  ) {
    this.#definition = definition;
    this.#config = config;
    this.#logger = logger;
    const eventTime = !options.clock && config.clock === 'event';
    const clock = options.clock ?? systemClock;
    this.#exit = options.exit ?? ((code) => process.exit(code));
    this.#handleSignals = options.handleSignals ?? true;
    this.#metrics = new RuntimeMetrics(definition.name, definition.metrics ?? []);
    this.#ops = new OperationsMetrics(this.#metrics.registry, {
      ready: () => this.#readiness().ok,
      restoringPartitions: () =>
        [...this.#partitions.slots.values()].filter((s) => !s.restored).length,
      // Record timestamps are wall-clock times, whatever clock the handlers see.
      nowMs: () => Date.now(),
    });
    this.#changelog = stateTopic(definition.name);
    // Checked here, before any I/O, like the rest of the definition (runService's checkDefinition).
    this.#stateFormat = definitionStateFormat(definition);
    this.#admin$ = adminCall(logger, () => this.#status.stopping);
    this.#eventTime = eventTime
      ? new EventTime({ eventIdleMs: config.eventIdleMs, eventSkewMs: config.eventSkewMs })
      : undefined;
    const fail = (error: unknown, what: string) => this.#fail(error, what);
    const common = { status: this.#status, fail, metrics: this.#metrics, logger };
    this.#waits = new DependencyWaits({
      consumer: () => this.#group?.current,
      retryMaxMs: config.reliability.dependencyRetryMaxMs,
      status: this.#status,
      logger,
    });
    this.#partitions = new Partitions<S>({
      ...common,
      definition,
      // Set by start() before the consumer joins; the changelog has as many partitions.
      partitionCount: () => this.#partitionCount,
      restore: (slots) =>
        restoreFromChangelog(
          {
            kafka: this.#kafka,
            admin: this.#admin!,
            sendBatch: (batch, what) =>
              this.#producer!.send(batch, {
                what,
                abortReason: () => (this.#status.stopping ? 'stopping' : undefined),
              }),
            topic: this.#changelog,
            groupId: config.kafka.groupId,
            inputs: definition.inputs,
            service: definition.name,
            stateFormat: this.#stateFormat,
            eventTime: this.#eventTime ? { startFrom: config.kafka.startFrom } : undefined,
            stopping: () => this.#status.stopping,
            onApplied: (n) => this.#metrics.restoredRecords.inc(n),
            logger,
          },
          slots,
        ),
      waits: this.#waits,
      ops: this.#ops,
    });
    const outputs = () => this.#outputs!;
    this.#ticks = new Ticks<S, E>({
      ...common,
      definition,
      config,
      clock,
      eventTime: this.#eventTime,
      partitions: this.#partitions,
      outputs,
    });
    const handling: HandlingContext<S, E> = {
      definition,
      topics: config.topics,
      clock,
      metrics: this.#metrics.sink,
      recordBudgetMs: config.reliability.recordTimeBudgetMs,
      dlqRestricted: config.dlqRestricted,
    };
    this.#batches = new BatchLoop<S, E>({
      ...common,
      handling,
      config,
      clock,
      eventTime: this.#eventTime,
      partitions: this.#partitions,
      waits: this.#waits,
      ticks: this.#ticks,
      outputs,
      ops: this.#ops,
    });
  }

  handle(): HostHandle {
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
      health: () => health(this.#status),
      ready: () => this.#readiness(),
      registry: this.#metrics.registry,
    });
    log.info({ port: this.#http.port }, 'http listening');
    await verifyBrokerCertificate(this.#config.kafka);
    this.#kafka = createKafka(this.#config, log);
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    this.#partitionCount = await checkTopics(
      this.#admin,
      this.#definition,
      this.#config.topics,
      this.#admin$,
    );
    await ensureChangelog(
      this.#admin,
      this.#changelog,
      this.#partitionCount,
      this.#definition.name,
      this.#admin$,
      log,
    );
    await checkTopicAccess(
      this.#kafka,
      this.#definition,
      this.#config,
      this.#changelog,
      this.#admin$,
      log,
    );

    this.#producer = createSerialProducer(this.#kafka, log);
    await this.#producer.connect();
    this.#outputs = new OutputProducer({
      producer: this.#producer,
      admin: this.#admin,
      service: this.#definition.name,
      changelog: this.#changelog,
      stateFormat: this.#stateFormat,
      eventTime: this.#eventTime !== undefined,
      config: this.#config,
      status: this.#status,
      fail: (error, what) => this.#fail(error, what),
      metrics: this.#metrics,
      ops: this.#ops,
      logger: log,
    });

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

    this.#group = new GroupConsumer({
      kafka: this.#kafka,
      config: kc,
      inputs: this.#definition.inputs,
      partitions: this.#partitions,
      eventTime: this.#eventTime,
      eachBatch: (payload) => this.#batches.eachBatch(payload),
      status: this.#status,
      fail: (error, what) => this.#fail(error, what),
      ops: this.#ops,
      logger: log,
    });
    await this.#group.run();

    this.#ticks.startSchedule();
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
    this.#status.stopping = true;
    this.#removeSignalHandlers();
    await this.#ticks.stopSchedule();
    await Promise.allSettled([
      this.#group?.current?.disconnect(),
      this.#tables?.stop(),
      this.#producer?.disconnect(),
      this.#admin?.disconnect(),
      this.#http?.close(),
    ]);
  }

  // ---------------------------------------------------------------- health, shutdown, failure

  #readiness(): Probe {
    return readiness({
      status: this.#status,
      slots: this.#partitions.slots.values(),
      tablesCaughtUp: this.#tables?.caughtUp ?? true,
      waitingOnDependency: this.#waits.keys(),
      stallTimeoutMs: this.#config.reliability.stallTimeoutMs,
    });
  }

  stop(reason: string): Promise<number> {
    if (this.#stopPromise) return this.#stopPromise;
    this.#status.stopping = true;
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
      await this.#ticks.stopSchedule();
      await this.#ticks.settled();
      // stop() lets the in-flight batches finish (deliver, commit) and then leaves the group.
      await this.#group?.current?.stop();
      await this.#group?.current?.disconnect();
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
    const status = this.#status;
    if (status.fatal !== undefined) return;
    // A refusal by the cluster (e.g. no WRITE ACL on an output topic) is a configuration problem: one line, exit 2.
    const access = kafkaAccessError(
      error,
      this.#config.kafka,
      `use a topic of ${this.#definition.name}`,
    );
    status.fatal = access ?? error ?? new Error(what);
    if (access) this.#logger.fatal({ kind: access.kind }, `${what}: ${access.message}; exiting`);
    else this.#logger.fatal({ err: error }, `${what}; exiting`);
    if (this.#stopPromise) return;
    status.stopping = true;
    // Configuration found wrong while running (a topic deleted, write access revoked) exits like it would at start.
    const code = access || error instanceof ConfigError ? 2 : 1;
    // No graceful path: nothing more may be committed. Leave the group though, so peers take over the
    // partitions at once instead of after a session timeout; give that, telemetry and the HTTP server a few
    // seconds (the consumer may be dead, tulios/kafkajs#1529), then exit non-zero.
    this.#stopPromise = Promise.race([
      Promise.allSettled([
        this.#ticks.stopSchedule(),
        this.#group?.current?.disconnect(),
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
