// simulate() and its Generation: one state machine over one agenda. Its ~30 handlers share the per-document typed
// arrays, the event sequence and the agenda, so they stay one class; options.ts, poison.ts, plan.ts and world.ts
// hold everything that does not need that state.
import { ConfigError, EVENT_TYPES, formatTime } from '@tidemark/core';
import { validateFaultPlan } from './faults.js';
import { Agenda } from './heap.js';
import { breakRecord } from './poison.js';
import { buildWorld, type SimulateOptions } from './options.js';
import {
  resolvePlan,
  RESURRECT_REMOVAL_DELAY_MS,
  type DocAction,
  type Outage,
  type PoisonAction,
  type ResolvedPlan,
} from './plan.js';
import { createRng, exponential, hash32, logNormal, unitHash, type Rng } from './prng.js';
import type { SimRecord, TruthEntry } from './types.js';
import {
  backfillTime,
  aclHashOf,
  creationTime,
  deletePath,
  docClass,
  docConnector,
  getPath,
  hex8,
  revisionData,
  setPath,
  docIdOf,
  docStatic,
  inventoryTimes,
  runSlot,
  type DocStatic,
  type SystemModel,
  type World,
} from './world.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export { DEFAULT_SYSTEMS, type SimulateOptions } from './options.js';

/** Facts about a simulated run, for the CLI and the scorecard. */
export interface SimMeta {
  seed: number;
  start: string;
  end: string;
  systems: Array<{ system: string; connectors: string[]; docs: number }>;
  /** The latest `detectableAt` of a required truth entry: a replay should run (or drain) at least until then. */
  decidableBy?: string;
  /** Things a reader of the results should know (faults that cannot be decided within the run, ...). */
  warnings: string[];
}

/** A simulated run: a lazy, re-iterable stream of records, and the ground truth of its faults. */
export interface SimResult {
  /** Records in event-time order; each iteration generates the same stream afresh. */
  events: Iterable<SimRecord>;
  truth: TruthEntry[];
  meta: SimMeta;
}

/** Simulates sync pipelines with injected faults; throws ConfigError listing every problem with the options or plan. */
export function simulate(options: SimulateOptions): SimResult {
  const plan = options.faults === undefined ? { faults: [] } : validateFaultPlan(options.faults);
  const world = buildWorld(options, plan);
  const resolved = resolvePlan(world, plan);
  if (resolved.problems.length > 0)
    throw new ConfigError('fault plan does not fit the run', resolved.problems);
  const required = resolved.truth.filter((t) => !t.optional && t.detectableAt !== undefined);
  const decidableBy = required
    .map((t) => t.detectableAt!)
    .sort()
    .pop();
  return {
    events: { [Symbol.iterator]: () => new Generation(world, resolved).run() },
    truth: resolved.truth,
    meta: {
      seed: world.seed,
      start: formatTime(world.start),
      end: formatTime(world.end),
      systems: world.systems.map((s) => ({
        system: s.profile.system,
        connectors: s.profile.connectors.map((c) => c.name),
        docs: s.docs,
      })),
      ...(decidableBy ? { decidableBy } : {}),
      warnings: [...new Set(resolved.warnings)],
    },
  };
}

// Per-document flags.
const BORN = 1;
const DELETED = 2;
const IN_INDEX = 4;
/** A victim after its fault: the random processes leave it alone (re-attestation still carries the fault). */
const FROZEN = 8;
/** The index never applies this document again. */
const STUCK = 32;
/** Never re-attested (an overdue victim). */
const NO_REATTEST = 64;

/** Mutable state of one system's documents, in typed arrays so a million documents cost ~30 MB. */
interface SystemState {
  m: SystemModel;
  revision: Uint32Array;
  /** Latest revision the index applied (upsert or removal); -1 when none. */
  indexed: Int32Array;
  flags: Uint8Array;
  sourceTime: Float64Array;
  reviewedAt: Float64Array;
  acl: Uint16Array;
  /** Fault overrides of victims, and the stale ACL the index keeps for acl-mismatch victims. */
  overrides: Map<number, DocAction>;
  staleAcl: Map<number, number>;
  /** Per connector: documents whose index work waits for it to come back. */
  pending: Array<Set<number>>;
  /** Per connector: index operations since its last successful run. */
  itemsSinceRun: number[];
  nextCreate: number;
  maxVolumeFactor: number;
  /** The latest `index.upserted` record of documents chosen for stale re-delivery (noise.staleShare). */
  lastUpsert: Map<number, { rev: number; record: SimRecord }>;
}

type Item =
  | { time: number; seq: number; k: 'backfill'; s: number; i: number }
  | { time: number; seq: number; k: 'change'; s: number }
  | { time: number; seq: number; k: 'create'; s: number; n: number }
  | {
      time: number;
      seq: number;
      k: 'index';
      s: number;
      i: number;
      op: 'up' | 'rm';
      rev: number;
      sourceTime: number;
      acl: number;
      force?: boolean;
    }
  | { time: number; seq: number; k: 'run'; s: number; c: number; n: number }
  | {
      time: number;
      seq: number;
      k: 'runEnd';
      c: number;
      s: number;
      n: number;
      startedAt: number;
      failed: boolean;
    }
  | { time: number; seq: number; k: 'inventory'; n: number }
  | { time: number; seq: number; k: 'reattest'; s: number; i: number; reviewedAt: number }
  | { time: number; seq: number; k: 'fault'; action: DocAction }
  | { time: number; seq: number; k: 'reindex'; s: number; i: number }
  | { time: number; seq: number; k: 'stale'; s: number; i: number; record: SimRecord }
  | { time: number; seq: number; k: 'poison'; action: PoisonAction }
  | { time: number; seq: number; k: 'flush'; s: number; c: number }
  | { time: number; seq: number; k: 'emit'; record: SimRecord };

type NewItem = Item extends infer I ? (I extends Item ? Omit<I, 'seq'> : never) : never;

/** One pass over the run: keeps the agenda and the per-document state, yields records in time order. */
class Generation {
  readonly #agenda = new Agenda<Item>();
  #seq = 0;
  #eventSeq = 0;
  readonly #rng: Rng;
  readonly #state: SystemState[];
  readonly #inventories: number[];
  readonly #idPrefix: string;

  constructor(
    readonly w: World,
    readonly plan: ResolvedPlan,
  ) {
    this.#rng = createRng(w.seed, 0xe7e7);
    this.#idPrefix = `sim-${(w.seed >>> 0).toString(36)}`;
    this.#inventories = inventoryTimes(w);
    this.#state = w.systems.map((m) => ({
      m,
      revision: new Uint32Array(m.capacity),
      indexed: new Int32Array(m.capacity).fill(-1),
      flags: new Uint8Array(m.capacity),
      sourceTime: new Float64Array(m.capacity),
      reviewedAt: new Float64Array(m.capacity),
      acl: new Uint16Array(m.capacity),
      overrides: new Map(),
      staleAcl: new Map(),
      pending: m.connectors.map(() => new Set<number>()),
      itemsSinceRun: m.connectors.map(() => 0),
      nextCreate: m.initial,
      lastUpsert: new Map(),
      maxVolumeFactor: Math.max(
        1,
        ...plan.systems[m.idx]!.windows.filter((x) => x.kind === 'volume').map((x) => x.factor),
      ),
    }));
  }

  #push(item: NewItem): void {
    this.#agenda.push({ ...item, seq: this.#seq++ } as Item);
  }

  *run(): Generator<SimRecord> {
    const w = this.w;
    for (const st of this.#state) {
      const m = st.m;
      if (m.initial > 0) this.#push({ time: backfillTime(w, m, 0), k: 'backfill', s: m.idx, i: 0 });
      this.#scheduleChange(st, w.backfillEnd);
      if (m.createdEnd > m.initial)
        this.#push({ time: creationTime(w, m, 0), k: 'create', s: m.idx, n: 0 });
      for (const c of m.connectors) {
        this.#push({ time: runSlot(w, m, c.c, 0).start, k: 'run', s: m.idx, c: c.c, n: 0 });
      }
    }
    if (this.#inventories.length > 0)
      this.#push({ time: this.#inventories[0]!, k: 'inventory', n: 0 });
    for (const action of this.plan.docActions) this.#push({ time: action.t, k: 'fault', action });
    for (const action of this.plan.poison) this.#push({ time: action.t, k: 'poison', action });
    for (let item = this.#agenda.pop(); item; item = this.#agenda.pop()) {
      yield* this.#handle(item);
    }
  }

  *#handle(item: Item): Generator<SimRecord> {
    const w = this.w;
    switch (item.k) {
      case 'backfill': {
        const st = this.#state[item.s]!;
        const stat = docStatic(w, st.m, item.i);
        st.flags[item.i]! |= BORN;
        st.revision[item.i] = stat.initialRevision;
        const interval = stat.klass.reviewIntervalMs ?? 365 * DAY;
        st.reviewedAt[item.i] =
          w.start - Math.floor(unitHash(w.seed, item.s, item.i, 11) * 0.5 * interval);
        yield* this.#publish(st, item.i, item.time, stat);
        if (item.i + 1 < st.m.initial) {
          this.#push({
            time: backfillTime(w, st.m, item.i + 1),
            k: 'backfill',
            s: item.s,
            i: item.i + 1,
          });
        }
        return;
      }
      case 'create': {
        const st = this.#state[item.s]!;
        const i = st.nextCreate++;
        yield* this.#create(st, i, item.time);
        if (st.nextCreate < st.m.createdEnd) {
          this.#push({
            time: creationTime(w, st.m, item.n + 1),
            k: 'create',
            s: item.s,
            n: item.n + 1,
          });
        }
        return;
      }
      case 'change': {
        const st = this.#state[item.s]!;
        this.#scheduleChange(st, item.time);
        // Thinning keeps the process Poisson while a volume fault scales its rate.
        if (this.#rng.next() * st.maxVolumeFactor >= this.#volumeFactor(st, item.time)) return;
        const i = this.#pickDoc(st);
        if (i === undefined) return;
        const total = w.changesPerDocPerDay + w.deletesPerDocPerDay;
        const isDelete = this.#rng.next() * total < w.deletesPerDocPerDay;
        if (
          isDelete &&
          !this.plan.systems[item.s]!.victims.has(i) &&
          !docStatic(w, st.m, i).isSuccessor
        ) {
          yield* this.#delete(st, i, item.time, { indexFollows: true });
        } else {
          yield* this.#upsert(st, i, item.time, {
            attest: this.#rng.next() < 0.3,
            aclChange: this.#rng.next() < 0.05,
          });
        }
        return;
      }
      case 'reattest': {
        const st = this.#state[item.s]!;
        const f = st.flags[item.i]!;
        if (f & (DELETED | NO_REATTEST) || st.reviewedAt[item.i] !== item.reviewedAt) return;
        yield* this.#upsert(st, item.i, item.time, { attest: true, aclChange: false });
        return;
      }
      case 'index': {
        yield* this.#applyIndex(item);
        return;
      }
      case 'flush': {
        const st = this.#state[item.s]!;
        const pending = st.pending[item.c]!;
        const docs = [...pending];
        pending.clear();
        docs.forEach((i, k) => {
          const f = st.flags[i]!;
          if (f & STUCK) return;
          const time = item.time + this.#lag(st, i) + k * 50;
          const op = f & DELETED ? 'rm' : 'up';
          this.#push(this.#indexEvent(st, i, time, op));
        });
        return;
      }
      case 'run': {
        yield* this.#run(item);
        return;
      }
      case 'runEnd': {
        const st = this.#state[item.s]!;
        const p = st.m.profile;
        const connector = p.connectors[item.c]!.name;
        const outage = this.#outageAt(st, item.c, item.startedAt);
        const data = {
          connector,
          system: p.system,
          runId: `${connector}-run-${item.n}`,
          status: item.failed ? 'failed' : 'succeeded',
          startedAt: formatTime(item.startedAt),
          finishedAt: formatTime(item.time),
          itemsSeen: item.failed ? 0 : st.itemsSinceRun[item.c]!,
          itemsFailed: item.failed ? 1 + (hash32(w.seed, item.s, item.n, 12) % 50) : 0,
          ...(item.failed ? { error: outage?.error ?? 'run failed' } : {}),
        };
        if (!item.failed) st.itemsSinceRun[item.c] = 0;
        yield this.#record(
          w.topics.syncEvents,
          connector,
          EVENT_TYPES.connectorRun,
          `connector/${connector}`,
          item.time,
          undefined,
          data,
        );
        return;
      }
      case 'inventory': {
        for (const st of this.#state) yield* this.#inventory(st, item.time);
        const next = this.#inventories[item.n + 1];
        if (next !== undefined) this.#push({ time: next, k: 'inventory', n: item.n + 1 });
        return;
      }
      case 'fault': {
        yield* this.#fault(item.action, item.time);
        return;
      }
      case 'reindex': {
        // The connector re-indexes a mass-removed document: its current revision, and the document is free again.
        const st = this.#state[item.s]!;
        const i = item.i;
        st.flags[i]! &= ~(STUCK | FROZEN);
        if (st.flags[i]! & DELETED) return;
        this.#push({ ...this.#indexEvent(st, i, item.time, 'up'), force: true });
        return;
      }
      case 'poison': {
        yield this.#poison(item.action, item.time);
        return;
      }
      case 'emit': {
        yield item.record;
        return;
      }
      case 'stale': {
        // Not once a deletion or a fault reached the document meanwhile: the re-delivery stays harmless noise.
        if (this.#state[item.s]!.flags[item.i]! & (FROZEN | DELETED)) return;
        yield item.record;
        return;
      }
    }
  }

  #scheduleChange(st: SystemState, from: number): void {
    const ratePerMs =
      (st.m.docs * (this.w.changesPerDocPerDay + this.w.deletesPerDocPerDay) * st.maxVolumeFactor) /
      DAY;
    if (ratePerMs <= 0) return;
    const next =
      Math.max(from, this.w.backfillEnd) +
      Math.max(1, Math.round(exponential(this.#rng, 1 / ratePerMs)));
    if (next < this.w.end) this.#push({ time: next, k: 'change', s: st.m.idx });
  }

  #volumeFactor(st: SystemState, t: number): number {
    let factor = 1;
    for (const x of this.plan.systems[st.m.idx]!.windows) {
      if (x.kind === 'volume' && t >= x.from && t < x.to) factor *= x.factor;
    }
    return factor;
  }

  /** A document that exists at the source and is not a frozen victim, chosen uniformly (a few tries). */
  #pickDoc(st: SystemState): number | undefined {
    for (let attempt = 0; attempt < 4; attempt++) {
      const i = Math.floor(this.#rng.next() * st.m.createdEnd);
      const f = st.flags[i]!;
      if (f & BORN && !(f & (DELETED | FROZEN))) return i;
    }
    return undefined;
  }

  /** Index lag: log-normal around 15 s, capped well inside the class's sync-lag SLA. */
  #lag(st: SystemState, i: number): number {
    const cap = Math.min(5 * 60_000, Math.floor(docClass(this.w, st.m, i).syncLagMs / 4));
    return Math.max(500, Math.min(cap, Math.round(logNormal(this.#rng, 15_000, 0.9))));
  }

  #outageAt(st: SystemState, c: number, t: number): Outage | undefined {
    return this.plan.systems[st.m.idx]!.outages.find(
      (o) => o.c === c && t >= o.from && t < o.until,
    );
  }

  #indexAcl(st: SystemState, i: number): number {
    return st.staleAcl.get(i) ?? st.acl[i]!;
  }

  /** Document `i`'s index event at `time`: the source's revision and time now, and the ACL the index will hold. */
  #indexEvent(
    st: SystemState,
    i: number,
    time: number,
    op: 'up' | 'rm',
  ): Extract<NewItem, { k: 'index' }> {
    return {
      time,
      k: 'index',
      s: st.m.idx,
      i,
      op,
      rev: st.revision[i]!,
      sourceTime: st.sourceTime[i]!,
      acl: this.#indexAcl(st, i),
    };
  }

  #scheduleIndex(st: SystemState, i: number, t: number, op: 'up' | 'rm'): void {
    if (st.flags[i]! & STUCK) return;
    this.#push(this.#indexEvent(st, i, t + this.#lag(st, i), op));
  }

  #scheduleReattest(
    st: SystemState,
    i: number,
    now: number,
    klassInterval: number | undefined,
  ): void {
    if (klassInterval === undefined) return;
    const reviewedAt = st.reviewedAt[i]!;
    // Well before the clock runs out (three quarters of the interval, plus jitter): clean documents stay clean.
    const due =
      reviewedAt +
      Math.floor(
        (0.7 + 0.05 * unitHash(this.w.seed, st.m.idx, i, reviewedAt % 1e9)) * klassInterval,
      );
    if (due < this.w.end)
      this.#push({ time: Math.max(due, now), k: 'reattest', s: st.m.idx, i, reviewedAt });
  }

  /** Publishes the document's current revision (content.upserted) and schedules the index's follow-up. */
  *#publish(st: SystemState, i: number, t: number, stat: DocStatic): Generator<SimRecord> {
    st.sourceTime[i] = t;
    const data = this.#data(st, i, t, stat);
    yield this.#record(
      this.w.topics.contentChanges,
      `${st.m.profile.system}/${stat.docId}`,
      EVENT_TYPES.contentUpserted,
      `source/${st.m.profile.system}`,
      t,
      this.#traceparent(st, i, 1),
      data,
    );
    this.#scheduleIndex(st, i, t, 'up');
    this.#scheduleReattest(st, i, t, stat.klass.reviewIntervalMs);
  }

  *#create(st: SystemState, i: number, t: number): Generator<SimRecord> {
    st.flags[i]! |= BORN;
    st.revision[i] = 1;
    st.reviewedAt[i] = t - Math.floor(unitHash(this.w.seed, st.m.idx, i, 13) * HOUR);
    yield* this.#publish(st, i, t, docStatic(this.w, st.m, i));
  }

  *#upsert(
    st: SystemState,
    i: number,
    t: number,
    o: { attest: boolean; aclChange: boolean },
  ): Generator<SimRecord> {
    const stat = docStatic(this.w, st.m, i);
    st.revision[i]! += 1;
    if (o.aclChange) st.acl[i] = (st.acl[i]! + 1) & 0xffff;
    if (o.attest && stat.klass.reviewIntervalMs !== undefined && !(st.flags[i]! & NO_REATTEST)) {
      st.reviewedAt[i] =
        t - Math.floor(unitHash(this.w.seed, st.m.idx, i, st.revision[i]!, 14) * HOUR);
    }
    yield* this.#publish(st, i, t, stat);
  }

  *#delete(
    st: SystemState,
    i: number,
    t: number,
    o: { indexFollows: boolean },
  ): Generator<SimRecord> {
    const stat = docStatic(this.w, st.m, i);
    st.revision[i]! += 1;
    st.sourceTime[i] = t;
    st.flags[i]! |= DELETED;
    const p = st.m.profile;
    yield this.#record(
      this.w.topics.contentChanges,
      `${p.system}/${stat.docId}`,
      EVENT_TYPES.contentDeleted,
      `source/${p.system}`,
      t,
      this.#traceparent(st, i, 1),
      {
        system: p.system,
        docId: stat.docId,
        revision: st.revision[i]!,
        contentClass: stat.klass.name,
        classification: stat.classification,
      },
    );
    if (o.indexFollows) this.#scheduleIndex(st, i, t, 'rm');
  }

  *#applyIndex(item: Extract<Item, { k: 'index' }>): Generator<SimRecord> {
    const st = this.#state[item.s]!;
    const { i } = item;
    const c = docConnector(this.w, st.m, i);
    if (!item.force) {
      if (st.flags[i]! & STUCK) return;
      if (this.#outageAt(st, c, item.time)) {
        st.pending[c]!.add(i);
        return;
      }
      // A later change already reached the index (lags overlap): a real connector skips the stale one.
      if (st.indexed[i]! >= item.rev) return;
    }
    const p = st.m.profile;
    const connector = p.connectors[c]!.name;
    const docId = docIdOf(this.w, st.m, i);
    if (item.op === 'up') st.flags[i]! |= IN_INDEX;
    else st.flags[i]! &= ~IN_INDEX;
    st.indexed[i] = Math.max(st.indexed[i]!, item.rev);
    st.itemsSinceRun[c]!++;
    const record = this.#record(
      this.w.topics.syncEvents,
      `${p.system}/${docId}`,
      item.op === 'up' ? EVENT_TYPES.indexUpserted : EVENT_TYPES.indexRemoved,
      `connector/${connector}`,
      item.time,
      this.#traceparent(st, i, 2, item.rev),
      {
        connector,
        system: p.system,
        docId,
        revision: item.rev,
        sourceTime: formatTime(item.sourceTime),
        aclHash: aclHashOf(this.w, st.m, i, item.acl),
      },
    );
    yield record;
    this.#staleRedelivery(st, i, item, record);
  }

  /**
   * Noise: for a share of documents, the previous `index.upserted` (an older revision, its `time` older too) is
   * delivered again after the newer one — a late retry from an index worker. Only between two upserts of a live
   * document that no fault touches, so the truth stays "nothing fires".
   */
  #staleRedelivery(
    st: SystemState,
    i: number,
    item: Extract<Item, { k: 'index' }>,
    record: SimRecord,
  ): void {
    const w = this.w;
    if (w.staleShare <= 0 || unitHash(w.seed, st.m.idx, i, 96) >= w.staleShare) return;
    if (this.plan.systems[st.m.idx]!.victims.has(i)) return;
    if (item.op !== 'up' || item.force || st.flags[i]! & (FROZEN | DELETED)) {
      st.lastUpsert.delete(i);
      return;
    }
    const previous = st.lastUpsert.get(i);
    st.lastUpsert.set(i, { rev: item.rev, record });
    if (previous === undefined || previous.rev >= item.rev) return;
    const at = item.time + 1000 + (hash32(w.seed, st.m.idx, i, item.rev, 95) % 29_000);
    this.#push({ time: at, k: 'stale', s: st.m.idx, i, record: { ...previous.record, time: at } });
  }

  *#run(item: Extract<Item, { k: 'run' }>): Generator<SimRecord> {
    const w = this.w;
    const st = this.#state[item.s]!;
    const { c, n } = item;
    const slot = runSlot(w, st.m, c, n);
    const next = runSlot(w, st.m, c, n + 1).start;
    if (next < w.end) this.#push({ time: next, k: 'run', s: item.s, c, n: n + 1 });
    const outages = this.plan.systems[item.s]!.outages.filter((o) => o.c === c);
    if (outages.some((o) => o.skipSlots.has(n))) return;
    const failed = outages.some((o) => o.failSlots.has(n));
    // The first good run after an outage catches up on everything the index missed.
    if (!failed && st.pending[c]!.size > 0 && !this.#outageAt(st, c, slot.start)) {
      this.#push({ time: slot.start, k: 'flush', s: item.s, c });
    }
    const p = st.m.profile;
    const connector = p.connectors[c]!.name;
    yield this.#record(
      w.topics.syncEvents,
      connector,
      EVENT_TYPES.connectorRun,
      `connector/${connector}`,
      slot.start,
      undefined,
      {
        connector,
        system: p.system,
        runId: `${connector}-run-${n}`,
        status: 'started',
        startedAt: formatTime(slot.start),
      },
    );
    this.#push({ time: slot.end, k: 'runEnd', s: item.s, c, n, startedAt: slot.start, failed });
  }

  *#inventory(st: SystemState, t: number): Generator<SimRecord> {
    const w = this.w;
    const p = st.m.profile;
    const ghosts = this.plan.systems[st.m.idx]!.ghosts.filter((g) => g.from <= t);
    const stamp = formatTime(t).replace(/[-:]|\.\d+/g, '');
    // Two passes (count, then ids chunk by chunk), so a million-document inventory never sits in memory whole.
    // The generator is paused between chunks and nothing else moves meanwhile, so every chunk sees the same state.
    for (const side of ['source', 'index'] as const) {
      const present = (i: number) => {
        const f = st.flags[i]!;
        return side === 'source' ? (f & BORN) !== 0 && (f & DELETED) === 0 : (f & IN_INDEX) !== 0;
      };
      const extra = side === 'index' ? ghosts.map((g) => g.docId) : [];
      let total = extra.length;
      for (let i = 0; i < st.m.capacity; i++) if (present(i)) total++;
      // An incomplete snapshot: its last chunk never arrives. One that would fit a single chunk is cut in two.
      const lost = this.plan.systems[st.m.idx]!.incomplete.some(
        (x) => x.at === t && x.side === side,
      );
      const size =
        lost && total > 1
          ? Math.min(w.inventoryChunkSize, Math.ceil(total / 2))
          : w.inventoryChunkSize;
      const chunks = Math.max(1, Math.ceil(total / size));
      const snapshotId = `${p.system}-${side}-${stamp}`;
      // Where each chunk starts (document number, ghost number), so chunks can be sent in any order.
      const starts: Array<[number, number]> = [];
      let seen = 0;
      for (let i = 0; i < st.m.capacity; i++) {
        if (!present(i)) continue;
        if (seen % size === 0) starts.push([i, 0]);
        seen++;
      }
      for (let e = 0; e < extra.length; e++, seen++)
        if (seen % size === 0) starts.push([st.m.capacity, e]);
      if (starts.length === 0) starts.push([st.m.capacity, 0]);
      const order = Array.from({ length: chunks }, (_, c) => c);
      if (w.shuffleChunks) {
        const rng = createRng(w.seed, hash32(st.m.idx, t % 1e9, side === 'source' ? 1 : 2));
        for (let k = order.length - 1; k > 0; k--) {
          const j = Math.floor(rng.next() * (k + 1));
          [order[k], order[j]] = [order[j]!, order[k]!];
        }
      }
      for (const c of order) {
        if (lost && c === chunks - 1) continue;
        let [i, e] = starts[c]!;
        const docIds: string[] = [];
        for (; docIds.length < size && i < st.m.capacity; i++)
          if (present(i)) docIds.push(docIdOf(w, st.m, i));
        for (; docIds.length < size && e < extra.length; e++) docIds.push(extra[e]!);
        yield this.#record(
          w.topics.inventorySnapshots,
          p.system,
          EVENT_TYPES.inventorySnapshot,
          `inventory/${p.system}/${side}`,
          t,
          undefined,
          {
            system: p.system,
            side,
            snapshotId,
            chunk: c,
            chunks,
            docIds,
          },
        );
      }
    }
  }

  *#fault(a: DocAction, t: number): Generator<SimRecord> {
    const st = this.#state[a.s]!;
    const i = a.i;
    switch (a.kind) {
      case 'overrides': {
        st.flags[i]! |= FROZEN;
        st.overrides.set(i, a);
        if (a.reviewedAt !== undefined) {
          st.flags[i]! |= NO_REATTEST;
          st.reviewedAt[i] = a.reviewedAt;
        }
        yield* this.#upsert(st, i, t, { attest: a.reviewedAt === undefined, aclChange: false });
        return;
      }
      case 'stuck': {
        st.flags[i]! |= FROZEN;
        yield* this.#upsert(st, i, t, { attest: false, aclChange: false });
        // Stuck from here on: the follow-up of this very revision never comes.
        st.flags[i]! |= STUCK;
        this.#dropPendingIndex(st, i);
        return;
      }
      case 'acl': {
        st.flags[i]! |= FROZEN;
        st.staleAcl.set(i, st.acl[i]!);
        yield* this.#upsert(st, i, t, { attest: false, aclChange: true });
        return;
      }
      case 'delete-missed': {
        st.flags[i]! |= FROZEN | STUCK;
        yield* this.#delete(st, i, t, { indexFollows: false });
        return;
      }
      case 'clean-delete': {
        st.flags[i]! |= FROZEN;
        yield* this.#delete(st, i, t, { indexFollows: true });
        return;
      }
      case 'resurrect': {
        st.flags[i]! |= FROZEN;
        const oldRevision = st.revision[i]!;
        const oldSourceTime = st.sourceTime[i]!;
        const acl = this.#indexAcl(st, i);
        yield* this.#delete(st, i, t, { indexFollows: false });
        const removedAt = t + RESURRECT_REMOVAL_DELAY_MS;
        const base = { s: a.s, i, acl, force: true } as const;
        this.#push({
          ...base,
          time: removedAt,
          k: 'index',
          op: 'rm',
          rev: st.revision[i]!,
          sourceTime: t,
        });
        // A stale worker replays the old upsert after the removal: the deleted document is back in the index.
        this.#push({
          ...base,
          time: removedAt + a.afterMs!,
          k: 'index',
          op: 'up',
          rev: oldRevision,
          sourceTime: oldSourceTime,
        });
        st.flags[i]! |= STUCK;
        return;
      }
      case 'missing': {
        st.flags[i]! |= FROZEN | STUCK;
        yield* this.#create(st, i, t);
        return;
      }
      case 'mass-remove': {
        // The index drops a document the source still has; index work in flight for it is dropped too.
        st.flags[i]! |= FROZEN | STUCK;
        this.#dropPendingIndex(st, i);
        this.#push({ ...this.#indexEvent(st, i, t, 'rm'), force: true });
        if (a.restoreAt !== undefined) this.#push({ time: a.restoreAt, k: 'reindex', s: a.s, i });
        return;
      }
    }
  }

  /** Index work already scheduled for a document is cancelled by the STUCK flag when it comes due. */
  #dropPendingIndex(st: SystemState, i: number): void {
    for (const pending of st.pending) pending.delete(i);
  }

  /** The `data` of the current revision of document `i`, with victim overrides and population faults applied. */
  #data(st: SystemState, i: number, t: number, stat: DocStatic): Record<string, unknown> {
    const w = this.w;
    const rev = st.revision[i]!;
    const data = revisionData(w, st.m, i, stat, {
      revision: rev,
      reviewedAt: st.reviewedAt[i]!,
      aclVersion: st.acl[i]!,
    });
    for (const x of this.plan.systems[st.m.idx]!.windows) {
      if (x.kind === 'volume' || t < x.from || t >= x.to) continue;
      if (x.contentClass && x.contentClass !== stat.klass.name) continue;
      if (unitHash(w.seed, st.m.idx, i, rev, 15, x.fault) >= x.share) continue;
      if (x.kind === 'null-rate') {
        if (x.as === 'null') setPath(data, x.field, null);
        else deletePath(data, x.field);
      } else if (x.kind === 'categorical') {
        setPath(data, x.field, x.value);
      } else {
        const v = getPath(data, x.field);
        if (typeof v === 'number')
          setPath(
            data,
            x.field,
            Math.max(x.field === 'sizeBytes' ? 1 : 0, Math.round(v * x.factor)),
          );
      }
    }
    const victim = st.overrides.get(i)?.overrides;
    if (victim) {
      for (const [field, value] of victim.set) setPath(data, field, value);
      for (const field of victim.remove) deletePath(data, field);
    }
    return data;
  }

  /** W3C trace context linking a revision's source change (span 1) to its indexing (span 2). */
  #traceparent(st: SystemState, i: number, span: number, revision = st.revision[i]!): string {
    const w = this.w;
    const trace = [0, 1, 2, 3]
      .map((k) => hex8(hash32(w.seed, st.m.idx, i, revision, 20 + k)))
      .join('');
    const spanId =
      hex8(hash32(w.seed, st.m.idx, i, revision, 30 + span)) +
      hex8(hash32(w.seed, st.m.idx, i, revision, span, 31));
    return `00-${trace}-${spanId}-01`;
  }

  /** Builds a record: a structured-mode CloudEvent, or (noise) binary mode; maybe delivered twice (noise). */
  #record(
    topic: string,
    key: string,
    type: string,
    source: string,
    t: number,
    traceparent: string | undefined,
    data: Record<string, unknown>,
  ): SimRecord {
    const w = this.w;
    const seq = this.#eventSeq++;
    const id = `${this.#idPrefix}-${seq}`;
    const time = formatTime(t);
    const subject =
      typeof data['docId'] === 'string'
        ? `${data['system'] as string}/${data['docId']}`
        : undefined;
    const headers: Record<string, string> = traceparent ? { traceparent } : {};
    let value: string;
    if (unitHash(w.seed, seq, 98) < w.binaryShare) {
      // CloudEvents Kafka protocol binding, binary mode: attributes in `ce_*` headers, `datacontenttype` as the
      // `content-type` header, the value is `data` alone.
      Object.assign(headers, {
        ce_specversion: '1.0',
        ce_id: id,
        ce_source: source,
        ce_type: type,
        ce_time: time,
        ...(subject === undefined ? {} : { ce_subject: subject }),
        'content-type': 'application/json',
      });
      value = JSON.stringify(data);
    } else {
      value = JSON.stringify({
        specversion: '1.0',
        id,
        source,
        type,
        time,
        ...(subject === undefined ? {} : { subject }),
        datacontenttype: 'application/json',
        data,
      });
    }
    const record: SimRecord = {
      topic,
      key,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      value,
      time: t,
    };
    if (w.duplicateShare > 0 && unitHash(w.seed, seq, 99) < w.duplicateShare) {
      const delay = 1000 + (hash32(w.seed, seq, 97) % 29_000);
      this.#push({ time: t + delay, k: 'emit', record: { ...record, time: t + delay } });
    }
    return record;
  }

  /** A record broken on purpose, in the form the plan asks for. */
  #poison(a: PoisonAction, t: number): SimRecord {
    const w = this.w;
    const st = this.#state[a.s]!;
    const p = st.m.profile;
    const docId = docIdOf(w, st.m, a.i);
    const topic =
      a.topic === 'content'
        ? w.topics.contentChanges
        : a.topic === 'sync'
          ? w.topics.syncEvents
          : w.topics.inventorySnapshots;
    const key = a.topic === 'inventory' ? p.system : `${p.system}/${docId}`;
    const id = `${this.#idPrefix}-${this.#eventSeq++}`;
    const type =
      a.topic === 'content'
        ? EVENT_TYPES.contentUpserted
        : a.topic === 'sync'
          ? EVENT_TYPES.indexUpserted
          : EVENT_TYPES.inventorySnapshot;
    const data: Record<string, unknown> =
      a.topic === 'content'
        ? this.#data(st, a.i, t, docStatic(w, st.m, a.i))
        : a.topic === 'sync'
          ? {
              connector: p.connectors[docConnector(w, st.m, a.i)]!.name,
              system: p.system,
              docId,
              revision: st.revision[a.i]!,
              sourceTime: formatTime(t),
            }
          : {
              system: p.system,
              side: 'index',
              snapshotId: `${p.system}-index-broken`,
              chunk: 0,
              chunks: 1,
              docIds: [docId],
            };
    const event = {
      specversion: '1.0',
      id,
      source: `source/${p.system}`,
      type,
      time: formatTime(t),
      subject: `${p.system}/${docId}`,
      data,
    };
    const base = { topic, key, time: t };
    return breakRecord(a, base, event, docId, p.system);
  }
}
