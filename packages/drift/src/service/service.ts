// The drift-detector as one ServiceDefinition, hosted unchanged by the Kafka runtime, `tidemark replay` and tests.
// One file because handle(), tick() and nextTick() all move the same per-partition state of both stages; the
// stages' logic lives in check/ (partition.ts, decider.ts) and the state's changelog form in state.ts.
//
// Two stages in one service (see README "where the merge happens"): every partition of content.changes.v1 and
// sync.events.v1 accumulates its share of each window (stage 1) and, once event time has passed the window's end
// plus the allowed lateness, produces it to the internal partials topic keyed by system; that topic is an input of
// the same service and co-partitioned with the others, so the instance owning a system's key merges every
// partition's share and decides (stage 2). Both stages live in one DriftServiceState per partition number.
//
// Time: handle() closes windows by the partition's event-time watermark only, so a backlog (restart, replay) is
// windowed exactly as live traffic was. tick() adds the host clock for a partition that has been quiet for
// idleAfterMs (its open windows would otherwise wait for an event that never comes) and decides due windows at
// ctx.now — the wall clock live, event time in replay; the decider also waits for every partition it knows to have
// closed a window, so the clock running ahead of a backlog cannot judge a window early.
import {
  ConfigError,
  EnvelopeError,
  fingerprint,
  findingRecord,
  formatTime,
  parseDuration,
  parseEnvelope,
  resolveTopics,
  type Finding,
  type HandlerContext,
  type InputRecord,
  type InternalTopic,
  type MetricDefinition,
  type OutputRecord,
  type ServiceDefinition,
  type ServiceTopology,
  type TopicCatalog,
} from '@tidemark/core';
import type { ContractSet } from '@tidemark/contracts';
import { resolveDriftConfig, type DriftConfig, type ResolvedDriftConfig } from '../check/config.js';
import { mergeAndDecide, nextDecision } from '../check/decider.js';
import {
  closeWindows,
  partialFromJSON,
  partialKey,
  recordEvent,
  seriesKey,
  type DriftEvent,
  type DriftPartial,
} from '../check/partition.js';
import { driftConfigFromContracts } from '../contracts.js';
import { DriftServiceState } from './state.js';

/** Default service name: log field, CloudEvent source `tidemark/drift-detector`, changelog `tidemark.drift-detector.state`. */
export const DRIFT_DETECTOR = 'drift-detector';

/** The internal partials topic of a drift-detector named `name`. */
export function driftPartialsTopic(name = DRIFT_DETECTOR): string {
  return `tidemark.${name}.partials`;
}

/** Default internal topic carrying per-partition window accumulations, keyed by system. */
export const DRIFT_PARTIALS_TOPIC = driftPartialsTopic();

/** CloudEvents type of a record on the partials topic. */
export const DRIFT_PARTIAL_TYPE = 'tidemark.drift.partial';

/** Topics a drift-detector named `name` uses besides the catalog's, for `tidemark topics create`. */
export function driftDetectorTopics(
  name: string = DRIFT_DETECTOR,
  partialsTopic: string = driftPartialsTopic(name),
): InternalTopic[] {
  return [
    {
      name: partialsTopic,
      compacted: false,
      coPartitioned: true,
      purpose:
        'drift-detector: per-partition window accumulations, re-keyed by system for the partition that decides',
    },
  ];
}

/** Internal topics of the default drift-detector. */
export const DRIFT_DETECTOR_TOPICS: readonly InternalTopic[] = driftDetectorTopics();

/** Metric names the drift-detector records. */
export const DRIFT_METRIC_NAMES = {
  lateEvents: 'tidemark_drift_late_events_total',
  latePartials: 'tidemark_drift_late_partials_total',
  partitionsTimedOut: 'tidemark_drift_partitions_timed_out_total',
  partials: 'tidemark_drift_partials_total',
  windowsDecided: 'tidemark_drift_decisions_total',
} as const;

/** The metrics the drift-detector declares. */
export const DRIFT_METRICS: readonly MetricDefinition[] = [
  {
    name: DRIFT_METRIC_NAMES.lateEvents,
    help: 'Events dropped because their window had already closed on their partition.',
    kind: 'counter',
    labelNames: [],
  },
  {
    name: DRIFT_METRIC_NAMES.latePartials,
    help: 'Partial accumulations that arrived after their window was decided (merged nowhere).',
    kind: 'counter',
    labelNames: [],
  },
  {
    name: DRIFT_METRIC_NAMES.partitionsTimedOut,
    help: 'Times a window was decided without a partition that had not closed it within the decide timeout.',
    kind: 'counter',
    labelNames: [],
  },
  {
    name: DRIFT_METRIC_NAMES.partials,
    help: 'Partials produced to the partials topic, by kind (data or progress).',
    kind: 'counter',
    labelNames: ['kind'],
  },
  {
    name: DRIFT_METRIC_NAMES.windowsDecided,
    help: 'Drift findings emitted as windows are decided, by check and status (firing or resolved); a window decided without a finding is not counted.',
    kind: 'counter',
    labelNames: ['check', 'status'],
  },
];

/** A partial as the handler sees it (decoded from the partials topic). */
export interface DriftPartialEvent {
  type: typeof DRIFT_PARTIAL_TYPE;
  time: string;
  data: DriftPartial;
}

/** Events the drift-detector handles: input CloudEvents and partials. */
export type DriftServiceEvent = DriftEvent | DriftPartialEvent;

/** Options of createDriftService: the features come from `contracts` or from a ready `config`. */
export interface DriftServiceOptions {
  /** Contracts whose `drift:` features are watched (mapped by driftConfigFromContracts). */
  contracts?: ContractSet;
  /** A drift configuration to use instead of contracts (features and settings). */
  config?: DriftConfig;
  /** Global settings over the contracts' features (lateness, decide delay, sketch sizes…). */
  settings?: Omit<DriftConfig, 'features'>;
  /** Topic names. @default DEFAULT_TOPICS */
  topics?: Partial<TopicCatalog>;
  /** Service name: CloudEvent source, changelog `tidemark.<name>.state`. @default 'drift-detector' */
  name?: string;
  /** The internal partials topic. @default `tidemark.<name>.partials` */
  partialsTopic?: string;
  /** After this long (host clock) without an input event a partition closes windows by the clock. @default 60000 */
  idleAfterMs?: number;
}

/** The drift-detector's ServiceDefinition; handle and tick are synchronous. */
export interface DriftDetectorService extends ServiceDefinition<
  DriftServiceState,
  DriftServiceEvent
> {
  decode(record: InputRecord): DriftServiceEvent;
  handle(
    state: DriftServiceState,
    event: DriftServiceEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[];
  tick(state: DriftServiceState, ctx: HandlerContext): OutputRecord[];
  /** The validated configuration it runs with. */
  readonly config: ResolvedDriftConfig;
  readonly partialsTopic: string;
}

/** Default of DriftServiceOptions.idleAfterMs. */
export const DEFAULT_IDLE_AFTER_MS = 60_000;

/**
 * The drift-detector as a ServiceDefinition: numeric, categorical and volume drift per system (and connector) over
 * event-time windows, with findings owned, labelled and shadowed as the contracts say. Throws ConfigError when the
 * configuration is unusable (or the contracts define no drift feature).
 */
export function createDriftService(options: DriftServiceOptions): DriftDetectorService {
  const name = options.name ?? DRIFT_DETECTOR;
  const partialsTopic = options.partialsTopic ?? driftPartialsTopic(name);
  const idleAfterMs = options.idleAfterMs ?? DEFAULT_IDLE_AFTER_MS;
  const topics = resolveTopics(options.topics);
  const problems: string[] = [];
  if ((options.contracts === undefined) === (options.config === undefined))
    problems.push('pass exactly one of contracts and config');
  if (!Number.isInteger(idleAfterMs) || idleAfterMs < 1)
    problems.push(`idleAfterMs must be a positive integer, got ${JSON.stringify(idleAfterMs)}`);
  if ([topics.contentChanges, topics.syncEvents].includes(partialsTopic))
    problems.push(`partialsTopic ${partialsTopic} is also an input topic`);
  if (problems.length > 0) throw new ConfigError(`invalid ${name} options`, problems);
  const raw = options.contracts
    ? driftConfigFromContracts(options.contracts, options.settings)
    : { ...options.config!, ...options.settings };
  if (options.contracts && raw.features.length === 0) {
    throw new ConfigError(`cannot start ${name}`, [
      'the contracts define no drift features (add a `drift:` list to a contract)',
    ]);
  }
  const config = resolveDriftConfig(raw);
  const emitFinding = (finding: Finding, ctx: HandlerContext): OutputRecord => {
    ctx.metrics.record(
      DRIFT_METRIC_NAMES.windowsDecided,
      { check: finding.check, status: finding.status },
      1,
    );
    return findingRecord(finding, { service: name, topics: ctx.topics });
  };
  const emitPartial = (partial: DriftPartial, ctx: HandlerContext): OutputRecord => {
    ctx.metrics.record(
      DRIFT_METRIC_NAMES.partials,
      { kind: partial.accumulation === undefined ? 'progress' : 'data' },
      1,
    );
    return {
      topic: partialsTopic,
      key: partialKey(partial),
      value: JSON.stringify({
        specversion: '1.0',
        // Same partial, same id: a partial resent after a crash is recognisably the same record.
        id: fingerprint({
          series: seriesKey(partial),
          partition: partial.partition,
          windowStart: partial.windowStart,
          windowEnd: partial.windowEnd,
          progress: partial.accumulation === undefined,
          final: partial.final === true,
        }),
        source: `tidemark/${name}`,
        type: DRIFT_PARTIAL_TYPE,
        time: formatTime(partial.windowEnd),
        data: partial,
      }),
    };
  };
  const counted = (
    ctx: HandlerContext,
    state: DriftServiceState,
    run: () => OutputRecord[],
  ): OutputRecord[] => {
    const stage = state.stage;
    const decider = state.decider;
    const before = [stage.lateDropped, decider.latePartials, decider.droppedContributors];
    const out = run();
    const after = [stage.lateDropped, decider.latePartials, decider.droppedContributors];
    const names = [
      DRIFT_METRIC_NAMES.lateEvents,
      DRIFT_METRIC_NAMES.latePartials,
      DRIFT_METRIC_NAMES.partitionsTimedOut,
    ];
    after.forEach((v, i) => {
      if (v !== before[i]) ctx.metrics.record(names[i]!, {}, v - before[i]!);
    });
    return out;
  };

  function decode(record: InputRecord): DriftServiceEvent {
    if (record.topic !== partialsTopic) return parseEnvelope(record) as DriftEvent;
    let value: { type?: unknown; data?: unknown; time?: unknown };
    try {
      value = JSON.parse(record.value?.toString('utf8') ?? 'null') as typeof value;
    } catch (error) {
      throw new EnvelopeError('invalid-json', 'drift partial is not JSON', { cause: error });
    }
    if (value === null || typeof value !== 'object' || value.type !== DRIFT_PARTIAL_TYPE) {
      throw new EnvelopeError(
        'unknown-type',
        `record on ${partialsTopic} is not a ${DRIFT_PARTIAL_TYPE} event`,
      );
    }
    let data: DriftPartial;
    try {
      data = partialFromJSON(value.data);
    } catch (error) {
      throw new EnvelopeError('schema', (error as Error).message, { cause: error });
    }
    return { type: DRIFT_PARTIAL_TYPE, time: formatTime(data.windowEnd), data };
  }

  function handle(
    state: DriftServiceState,
    event: DriftServiceEvent,
    _record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[] {
    return counted(ctx, state, () => {
      if (event.type === DRIFT_PARTIAL_TYPE) {
        const partial = (event as DriftPartialEvent).data;
        const { findings } = mergeAndDecide(state.decider, partial, ctx.now, config);
        return findings.map((f) => emitFinding(f, ctx));
      }
      state.lastActivity = ctx.now;
      recordEvent(state.stage, event as DriftEvent, ctx.now, config);
      // Event time only: the clock may be far ahead of a backlog being read.
      const { partials } = closeWindows(state.stage, -Infinity, config);
      return partials.map((p) => emitPartial(p, ctx));
    });
  }

  function tick(state: DriftServiceState, ctx: HandlerContext): OutputRecord[] {
    return counted(ctx, state, () => {
      // After a restore the idle clock starts at the first tick, never at the last event before the restart.
      if (state.lastActivity === null) state.lastActivity = ctx.now;
      const idle = ctx.now - state.lastActivity >= idleAfterMs;
      const { partials } = closeWindows(state.stage, idle ? ctx.now : -Infinity, config);
      const { findings } = mergeAndDecide(state.decider, null, ctx.now, config);
      return [
        ...partials.map((p) => emitPartial(p, ctx)),
        ...findings.map((f) => emitFinding(f, ctx)),
      ];
    });
  }

  // When tick() next has work: the first tick after a restore (it starts the idle clock); the idle rule closing a
  // quiet partition's windows by the clock (handle() already closed every window its watermark allows); a decision.
  function nextTick(state: DriftServiceState): number {
    if (state.lastActivity === null) return -Infinity;
    const stage = state.stage;
    const idleClose =
      stage.series.size === 0
        ? Infinity
        : Math.max(state.lastActivity + idleAfterMs, stage.nextDue);
    return Math.min(idleClose, nextDecision(state.decider, config));
  }

  return {
    name,
    topology: DRIFT_TOPOLOGY,
    inputs: [topics.contentChanges, topics.syncEvents, partialsTopic],
    metrics: DRIFT_METRICS,
    createState: (partition) => new DriftServiceState(partition),
    decode,
    handle,
    tick,
    nextTick,
    config,
    partialsTopic,
  };
}

/** The environment variables createDriftService options can come from (besides the runtime's). */
export const DRIFT_ENV_VARS = {
  name: 'DRIFT_SERVICE_NAME',
  partialsTopic: 'DRIFT_PARTIALS_TOPIC',
  idleAfter: 'DRIFT_IDLE_AFTER',
  allowedLateness: 'DRIFT_ALLOWED_LATENESS',
  decideDelay: 'DRIFT_DECIDE_DELAY',
} as const;

/**
 * The drift-detector's internal topics per instance name (DRIFT_PARTIALS_TOPIC renames the partials topic, as
 * driftOptionsFromEnv reads it), the variable naming its instance, and the format of its changelog records.
 */
export const DRIFT_TOPOLOGY: ServiceTopology = {
  service: DRIFT_DETECTOR,
  nameVariable: DRIFT_ENV_VARS.name,
  internalTopics: (name, env = {}) =>
    driftDetectorTopics(name, env[DRIFT_ENV_VARS.partialsTopic] || undefined),
  stateFormat: 1,
};

/**
 * Reads the drift-detector's own optional variables: DRIFT_SERVICE_NAME (run a second detector, or isolate a test,
 * with its own changelog and partials topic), DRIFT_PARTIALS_TOPIC, and durations DRIFT_IDLE_AFTER,
 * DRIFT_ALLOWED_LATENESS, DRIFT_DECIDE_DELAY ('30s', '5m'). Throws ConfigError listing every bad one.
 */
export function driftOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): Pick<
  DriftServiceOptions,
  'name' | 'partialsTopic' | 'idleAfterMs' | 'settings'
> & {
  name: string;
} {
  const problems: string[] = [];
  const get = (k: string) => (env[k] === '' ? undefined : env[k]);
  const topicName = /^[a-zA-Z0-9._-]{1,249}$/;
  // SERVICE_NAME is what every Tidemark service reads; DRIFT_SERVICE_NAME wins when both are set.
  const name = get(DRIFT_ENV_VARS.name) ?? get('SERVICE_NAME') ?? DRIFT_DETECTOR;
  if (!/^[a-zA-Z0-9._-]{1,200}$/.test(name))
    problems.push(`${DRIFT_ENV_VARS.name}="${name}": must be 1–200 of a-z A-Z 0-9 . _ -`);
  const partialsTopic = get(DRIFT_ENV_VARS.partialsTopic);
  if (partialsTopic !== undefined && !topicName.test(partialsTopic))
    problems.push(
      `${DRIFT_ENV_VARS.partialsTopic}="${partialsTopic}": not a valid Kafka topic name`,
    );
  const duration = (k: string, min: number): number | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    try {
      const ms = parseDuration(v);
      if (ms < min) problems.push(`${k}="${v}": must be at least ${min} ms`);
      return ms;
    } catch (error) {
      problems.push(`${k}="${v}": ${(error as Error).message}`);
      return undefined;
    }
  };
  const idleAfterMs = duration(DRIFT_ENV_VARS.idleAfter, 1);
  const allowedLatenessMs = duration(DRIFT_ENV_VARS.allowedLateness, 0);
  const decideDelayMs = duration(DRIFT_ENV_VARS.decideDelay, 0);
  if (problems.length > 0) throw new ConfigError('invalid drift-detector configuration', problems);
  const settings: Omit<DriftConfig, 'features'> = {
    ...(allowedLatenessMs === undefined ? {} : { allowedLatenessMs }),
    ...(decideDelayMs === undefined ? {} : { decideDelayMs }),
  };
  return {
    name,
    ...(partialsTopic === undefined ? {} : { partialsTopic }),
    ...(idleAfterMs === undefined ? {} : { idleAfterMs }),
    ...(Object.keys(settings).length > 0 ? { settings } : {}),
  };
}
