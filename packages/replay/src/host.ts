// One file because it is one deterministic schedule (ReplayHost): its clock, per-partition queues, ticks and
// output feedback share ordering invariants that a split would scatter; backtest.ts and the CLI only drive it.
import {
  checkOutputs,
  isPromiseLike,
  processRecord,
  stateTopic,
  type GlobalTable,
  type Handled,
  type HandlerContext,
  type InputRecord,
  type MetricsSink,
  type OutputRecord,
  type PartitionState,
  type RecordHeaders,
  type RecordProcessing,
  type ServiceDefinition,
  type TopicCatalog,
} from '@tidemark/core';
import { createPartitioner, DEFAULT_PARTITIONS, type Partitioner } from './partitioner.js';

/**
 * A service definition of any state and event type, as the replay host runs it. One that declares `nextTick` is
 * ticked only when it is due, and the host jumps over tick boundaries at which no service is due; one that does not
 * is ticked at every boundary.
 */
export type ReplayService = ServiceDefinition<PartitionState, unknown>;

/** Default tick period in event time: the live services' schedule (`*\/10 * * * * *`). */
export const DEFAULT_TICK_MS = 10_000;
/** Input records between drains of the states whose changelog no table reads (they only bound memory). */
const DRAIN_ALL_EVERY = 10_000;
/** Default number of input records between changelog drains (the live host drains per consumed batch). */
export const DEFAULT_COMMIT_EVERY = 100;

/** Where the host hands every output record it produces, with the input line whose processing led to it. */
export type OutputSink = (record: OutputRecord, line: number | undefined) => void;

/** Options of ReplayHost. */
export interface ReplayHostOptions {
  /** The services, in the fixed order every record and tick visits them. */
  services: readonly ReplayService[];
  topics: TopicCatalog;
  /** Partitions of every topic (they are co-partitioned). @default 3 */
  partitions?: number;
  /** Event-time period of ticks. @default 10000 */
  tickMs?: number;
  /**
   * How far ticks trail the clock, in event time: the live event-time mode's EVENT_SKEW, for inputs whose topics are
   * interleaved only roughly in time (e.g. dumped from separate topics). @default 0
   */
  tickLagMs?: number;
  /** Input records between changelog drains (changelog-fed tables see state changes at these points). @default 100 */
  commitEvery?: number;
  /**
   * Skip tick rounds (and ticks of a service) that services declaring `nextTick` say have nothing due, so cost
   * follows events and deadlines rather than the span of event time. Outputs are the same either way. @default true
   */
  skipIdleTicks?: boolean;
  metrics: MetricsSink;
  /** Receives every output record (findings, alerts, tickets, dead letters, internal records). */
  sink: OutputSink;
}

/** Counters of what the host did. */
export interface HostStats {
  /** Records handed to services (input and internal), per service delivery. */
  deliveries: number;
  /** Tick calls (service × partition × tick round). */
  ticks: number;
  /** Ticks that threw (logged live; counted here). */
  tickErrors: number;
  /** Records that went to a dead letter in a service (decode or handler error). */
  deadLetters: number;
}

interface Slot {
  partition: number;
  state: PartitionState;
  /**
   * The service's `nextTick` of this state, while nothing that can change it has happened since: a record delivered
   * to it, a tick of it, or a change to a table the service reads. undefined: to be asked again.
   */
  due: number | undefined;
}

interface Queued {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers: RecordHeaders;
  timestamp: number | undefined;
}

/**
 * Hosts ServiceDefinitions in process on event time, as the Kafka runtime hosts them live: records are partitioned
 * by key like the producer does, every service reading a topic gets each record with its partition's state, decode
 * or handler errors become a dead letter plus an `envelope.invalid` finding, and outputs on a topic that is some
 * service's input (or a global table's) are fed back in production order. The clock is the highest event time seen;
 * before a record moves it, every tick boundary it passes is run for every service partition, so deadlines fire at
 * the event times they would live. Single-threaded and deterministic: services, partitions and queued records are
 * always visited in the same order, and nothing reads the wall clock.
 */
export class ReplayHost {
  readonly #services: readonly ReplayService[];
  readonly #topics: TopicCatalog;
  readonly #partitions: number;
  readonly #tickMs: number;
  readonly #tickLagMs: number;
  readonly #commitEvery: number;
  readonly #skipIdle: boolean;
  readonly #metrics: MetricsSink;
  readonly #sink: OutputSink;
  readonly #partitioner: Partitioner;
  readonly #slots = new Map<ReplayService, Slot[]>();
  readonly #consumers = new Map<string, ReplayService[]>();
  readonly #tables = new Map<string, GlobalTable[]>();
  /** How each service's records are processed (core's kernel; built once). */
  readonly #processing = new Map<ReplayService, RecordProcessing<PartitionState, unknown>>();
  /** Services by the topic of a table they read: a change there may change their `nextTick`. */
  readonly #tableReaders = new Map<string, ReplayService[]>();
  /** Services whose changelog feeds a global table (e.g. parity's recent changes). */
  readonly #changelogTables = new Map<ReplayService, GlobalTable[]>();
  /** Next offset per topic and partition. */
  readonly #offsets = new Map<string, number[]>();
  readonly #queue: Queued[] = [];
  #clock: number | undefined;
  #lastTick = 0;
  #line: number | undefined;
  #sinceCommit = 0;
  #sinceDrainAll = 0;
  readonly stats: HostStats = { deliveries: 0, ticks: 0, tickErrors: 0, deadLetters: 0 };

  constructor(options: ReplayHostOptions) {
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    const commitEvery = options.commitEvery ?? DEFAULT_COMMIT_EVERY;
    if (!Number.isInteger(tickMs) || tickMs < 1) {
      throw new RangeError(`tickMs must be a positive integer, got ${String(tickMs)}`);
    }
    const tickLagMs = options.tickLagMs ?? 0;
    if (!Number.isFinite(tickLagMs) || tickLagMs < 0) {
      throw new RangeError(`tickLagMs must be a non-negative number, got ${String(tickLagMs)}`);
    }
    this.#tickLagMs = tickLagMs;
    if (!Number.isInteger(commitEvery) || commitEvery < 1) {
      throw new RangeError(`commitEvery must be a positive integer, got ${String(commitEvery)}`);
    }
    this.#services = options.services;
    this.#topics = options.topics;
    this.#partitions = options.partitions ?? DEFAULT_PARTITIONS;
    this.#partitioner = createPartitioner(this.#partitions);
    this.#tickMs = tickMs;
    this.#commitEvery = commitEvery;
    this.#skipIdle = options.skipIdleTicks ?? true;
    this.#metrics = options.metrics;
    this.#sink = options.sink;
    const names = new Set<string>();
    for (const service of this.#services) {
      if (names.has(service.name)) throw new RangeError(`two services are named ${service.name}`);
      names.add(service.name);
      this.#slots.set(
        service,
        Array.from({ length: this.#partitions }, (_, partition) => ({
          partition,
          state: service.createState(partition),
          due: undefined,
        })),
      );
      this.#processing.set(service, {
        definition: service,
        topics: this.#topics,
        metrics: this.#metrics,
        retry: false,
      });
      for (const topic of service.inputs) {
        const list = this.#consumers.get(topic) ?? [];
        list.push(service);
        this.#consumers.set(topic, list);
      }
      for (const { topic, table } of service.tables ?? []) {
        const list = this.#tables.get(topic) ?? [];
        list.push(table);
        this.#tables.set(topic, list);
        const readers = this.#tableReaders.get(topic) ?? [];
        if (!readers.includes(service)) readers.push(service);
        this.#tableReaders.set(topic, readers);
      }
    }
    for (const service of this.#services) {
      const tables = this.#tables.get(stateTopic(service.name));
      if (tables) this.#changelogTables.set(service, tables);
    }
  }

  /** The replay clock: the highest event time seen (or ticked to); undefined before the first timed record. */
  get clock(): number | undefined {
    return this.#clock;
  }

  /** Whether some service reads `topic` or some global table follows it. */
  consumes(topic: string): boolean {
    return this.#consumers.has(topic) || this.#tables.has(topic);
  }

  /**
   * Runs one input record: ticks due before its time, then every service that reads its topic, then everything
   * their outputs feed. `line` labels the dead letters it causes.
   */
  async push(
    record: Omit<Queued, 'timestamp'> & { time: number | undefined },
    line?: number,
  ): Promise<void> {
    if (record.time !== undefined) await this.advanceTo(record.time);
    this.#line = line;
    try {
      this.#produce({
        topic: record.topic,
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: record.time,
      });
      await this.#run();
    } finally {
      this.#line = undefined;
    }
    this.#sinceDrainAll++;
    if (++this.#sinceCommit >= this.#commitEvery) this.#commitPoint();
  }

  /**
   * Moves the clock to `time`, running every tick boundary up to `time − tickLagMs` on the way; a time behind the
   * clock changes nothing.
   */
  async advanceTo(time: number): Promise<void> {
    const tickUpTo = time - this.#tickLagMs;
    if (this.#clock === undefined) {
      this.#clock = time;
      this.#lastTick = Math.floor(tickUpTo / this.#tickMs) * this.#tickMs;
      return;
    }
    if (time <= this.#clock) return;
    for (let at = this.#nextRound(); at <= tickUpTo; at = this.#nextRound()) {
      this.#lastTick = at;
      // What a tick's outputs lead to is handled at the tick's time (never behind the clock).
      this.#clock = Math.max(this.#clock, at);
      await this.#tickRound(at);
    }
    // Boundaries passed without a round had nothing due.
    this.#lastTick = Math.max(this.#lastTick, Math.floor(tickUpTo / this.#tickMs) * this.#tickMs);
    this.#clock = time;
  }

  /**
   * The next tick boundary at which some service may have work: the next one when a ticking service does not
   * declare `nextTick` (or skipping is off), else the first boundary at or after the earliest declared due time.
   */
  #nextRound(): number {
    const next = this.#lastTick + this.#tickMs;
    if (!this.#skipIdle) return next;
    let due = Infinity;
    for (const service of this.#services) {
      if (!service.tick) continue;
      if (!service.nextTick) return next;
      for (const slot of this.#slots.get(service)!) {
        due = Math.min(due, this.#dueOf(service, slot));
        if (due <= next) return next;
      }
    }
    return due === Infinity ? Infinity : Math.ceil(due / this.#tickMs) * this.#tickMs;
  }

  /** The service's `nextTick` for a slot, asked once per change of what it depends on. */
  #dueOf(service: ReplayService, slot: Slot): number {
    return (slot.due ??= service.nextTick!(slot.state));
  }

  /** Forgets the cached `nextTick` of every slot of the services that read a table on `topic`. */
  #tableChanged(topic: string): void {
    for (const service of this.#tableReaders.get(topic) ?? []) {
      for (const slot of this.#slots.get(service)!) slot.due = undefined;
    }
  }

  /**
   * A live commit point: the states whose changelog a table follows are drained into it. Nothing reads the other
   * changelogs in replay, so their states are drained (serialized and dropped) only every DRAIN_ALL_EVERY records,
   * to bound the changes they hold — serializing them at every commit point was a tenth of replay's time.
   */
  #commitPoint(): void {
    this.#sinceCommit = 0;
    if (this.#sinceDrainAll >= DRAIN_ALL_EVERY) this.commit();
    else this.#drain(true);
  }

  /** Drains every partition state's changes, applying those a global table follows (the live host's commit). */
  commit(): void {
    this.#sinceCommit = 0;
    this.#sinceDrainAll = 0;
    this.#drain(false);
  }

  #drain(tablesOnly: boolean): void {
    for (const service of this.#services) {
      const tables = this.#changelogTables.get(service);
      if (tablesOnly && !tables) continue;
      let applied = false;
      for (const slot of this.#slots.get(service)!) {
        const changes = slot.state.drainChanges();
        // Draining may settle what a state reports as due: the drained slots are asked again.
        slot.due = undefined;
        if (!tables) continue;
        for (const c of changes) for (const t of tables) t.apply(c.key, c.value);
        applied ||= changes.length > 0;
      }
      // And so are the services reading a table that changed. No other answer can have moved: `nextTick` reads only
      // its partition's state and its service's tables, so asking every slot after every drain (every commit point
      // and every round that emitted) was a twentieth of replay's time for nothing.
      if (applied) this.#tableChanged(stateTopic(service.name));
    }
  }

  async #tickRound(now: number): Promise<void> {
    let emitted = false;
    for (const service of this.#services) {
      const tick = service.tick;
      if (!tick) continue;
      const skippable = this.#skipIdle && service.nextTick !== undefined;
      for (const slot of this.#slots.get(service)!) {
        if (skippable && this.#dueOf(service, slot) > now) continue; // nothing due: a no-op tick
        this.stats.ticks++;
        slot.due = undefined;
        let outputs: OutputRecord[];
        try {
          outputs = checkOutputs(
            tick.call(service, slot.state, this.#ctx(service, slot, now, undefined)),
          );
        } catch {
          // Live, a failing tick is logged and retried on the next round; the partition goes on.
          this.stats.tickErrors++;
          continue;
        }
        for (const o of outputs) this.#emit(o);
        emitted ||= outputs.length > 0;
      }
    }
    if (!emitted) return;
    await this.#run();
    // A round that decided something is a batch live: its state changes reach the changelog (and the tables
    // that follow it) now. Quiet rounds leave theirs for the next commit, which drains them just the same.
    this.#commitPoint();
  }

  #ctx(
    service: ReplayService,
    slot: Slot,
    now: number,
    traceparent: string | undefined,
  ): HandlerContext {
    return {
      now,
      partition: slot.partition,
      service: service.name,
      topics: this.#topics,
      metrics: this.#metrics,
      ...(traceparent === undefined ? {} : { traceparent }),
    };
  }

  /** Hands an output to the sink, then feeds it to the tables and services that read its topic. */
  #emit(o: OutputRecord): void {
    this.#sink(o, this.#line);
    // Most outputs (alerts, tickets, dead letters) are read by nothing in process: no bytes to make for them.
    if (!this.consumes(o.topic)) return;
    const value =
      o.value === null ? null : typeof o.value === 'string' ? Buffer.from(o.value) : o.value;
    this.#produce({
      topic: o.topic,
      key: o.key,
      value,
      headers: o.headers ?? {},
      timestamp: this.#clock,
    });
  }

  #produce(q: Queued): void {
    const tables = this.#tables.get(q.topic);
    if (tables && q.key !== null) {
      for (const t of tables) t.apply(q.key, q.value);
      this.#tableChanged(q.topic);
    }
    if (this.#consumers.has(q.topic)) this.#queue.push(q);
  }

  async #run(): Promise<void> {
    // FIFO over everything the current record (or tick round) leads to, including records those lead to.
    for (let i = 0; i < this.#queue.length; i++) {
      const q = this.#queue[i]!;
      this.#queue[i] = undefined as unknown as Queued; // let handled values be collected while the cascade runs
      const partition = this.#partitioner.partition(q.topic, q.key);
      let offsets = this.#offsets.get(q.topic);
      if (offsets === undefined) {
        offsets = new Array<number>(this.#partitions).fill(0);
        this.#offsets.set(q.topic, offsets);
      }
      const offset = offsets[partition]!;
      offsets[partition] = offset + 1;
      const record: InputRecord = {
        topic: q.topic,
        partition,
        offset: String(offset),
        timestamp: String(q.timestamp ?? this.#clock ?? 0),
        key: q.key,
        value: q.value,
        headers: q.headers,
      };
      for (const service of this.#consumers.get(q.topic)!) {
        const slot = this.#slots.get(service)![partition]!;
        slot.due = undefined;
        this.stats.deliveries++;
        // The Kafka host's rule, from the same kernel (core processRecord). Replay cannot try a record again later,
        // so a retriable error (a Schema Registry outage) is dead-lettered like any other. A synchronous service
        // costs no promise.
        const pending = processRecord(
          this.#processing.get(service)!,
          slot.state,
          record,
          this.#clock ?? 0,
        );
        this.#handled(isPromiseLike(pending) ? await pending : pending);
      }
    }
    this.#queue.length = 0;
  }

  #handled(handled: Handled): void {
    if (handled.deadLetter !== undefined) this.stats.deadLetters++;
    for (const o of handled.outputs) this.#emit(o);
  }
}
