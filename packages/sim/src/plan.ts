// Turns a fault plan into concrete, timed actions on chosen documents, and into the ground truth. Everything is
// decided here, before a single event is generated, so the truth is known up front and the generator only
// carries the actions out.
// One file because it is one Resolver: every fault kind's case shares resolveFault's truth recorders and the
// victims already taken (no document is hit twice); the types it produces are in actions.ts.
import {
  createEnvelopeParser,
  EnvelopeError,
  EVENT_TYPES,
  formatDuration,
  formatTime,
  parseDuration,
} from '@tidemark/core';
import { resolveOffset, type FaultKind, type FaultPlan, type FaultSpec } from './faults.js';
import { createRng } from './prng.js';
import type { TruthEntry, TruthSubject } from './types.js';
import {
  docConnector,
  docIdOf,
  docStatic,
  inventoryTimes,
  isDeprecated,
  deletePath,
  revisionData,
  runSlot,
  setPath,
  slotAtOrAfter,
  type SystemModel,
  type World,
} from './world.js';

import type {
  DocAction,
  Ghost,
  IncompleteSnapshot,
  Outage,
  Overrides,
  PoisonAction,
  PopulationWindow,
  ResolvedPlan,
  SystemPlan,
} from './actions.js';

export type {
  DocAction,
  Ghost,
  IncompleteSnapshot,
  Outage,
  Overrides,
  PoisonAction,
  PopulationWindow,
  ResolvedPlan,
  SystemPlan,
};

const DEFAULT_EVERY = '1m';
const POISON_CYCLE = ['invalid-json', 'not-cloudevent', 'unknown-type', 'schema'] as const;
/** Delay between a resurrected document's deletion and the index applying it. */
export const RESURRECT_REMOVAL_DELAY_MS = 30_000;
/** The contracts' defaults, for systems whose profile does not carry their parity settings. */
const DEFAULT_MASS_REMOVAL = { share: 0.5, windowMs: 15 * 60_000, minDocuments: 100 } as const;
const DEFAULT_SNAPSHOT_EXPIRY_MS = 3_600_000;
/** How long mass-removed documents stay out of the index by default before the connector re-indexes them. */
const DEFAULT_MASS_REMOVAL_FOR_MS = 3_600_000;

/** The system a fault hits: its own `system`, or the run's systems in turn. */
export function faultSystem(fault: FaultSpec, index: number, systems: readonly string[]): string {
  return fault.system ?? systems[index % systems.length]!;
}

/** How many documents `parity.missing` faults create per system (they need numbers reserved up front). */
export function missingCounts(plan: FaultPlan, systems: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  plan.faults.forEach((fault, index) => {
    if (fault.kind !== 'parity.missing') return;
    const system = faultSystem(fault, index, systems);
    counts.set(system, (counts.get(system) ?? 0) + (fault.count ?? 1));
  });
  return counts;
}

/** Resolves every fault of the plan; problems (unknown systems, times outside the run, ...) are returned, not thrown. */
export function resolvePlan(world: World, plan: FaultPlan): ResolvedPlan & { problems: string[] } {
  return new Resolver(world, plan).run();
}

/** Records a fault's expected finding in the truth (warns when the run cannot decide it). */
type AddTruth = (
  check: FaultKind,
  subject: TruthSubject,
  injectedAt: number,
  detectableAt: number | undefined,
  extra?: { detail?: Record<string, unknown>; covers?: Array<keyof TruthSubject> },
) => void;

/** Records a consequence a check may report: no false positive when it does, no miss when it does not. */
type AddOptionalTruth = (
  check: FaultKind,
  subject: TruthSubject,
  injectedAt: number,
  covers?: Array<keyof TruthSubject>,
) => void;

class Resolver {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  readonly truth: TruthEntry[] = [];
  readonly docActions: DocAction[] = [];
  readonly poison: PoisonAction[] = [];
  readonly systems: SystemPlan[];
  readonly rng;
  readonly inventories: number[];
  readonly #envelope = createEnvelopeParser();
  #idIndex: Array<Map<string, number> | undefined> = [];
  #ghostCounter: number[];

  constructor(
    readonly world: World,
    readonly plan: FaultPlan,
  ) {
    this.systems = world.systems.map(() => ({
      victims: new Set<number>(),
      outages: [],
      windows: [],
      ghosts: [],
      incomplete: [],
    }));
    this.#ghostCounter = world.systems.map(() => 0);
    this.rng = createRng(world.seed, 0x7a11);
    this.inventories = inventoryTimes(world);
  }

  run(): ResolvedPlan & { problems: string[] } {
    const names = this.world.systems.map((s) => s.profile.system);
    const missingNext = this.world.systems.map((s) => s.createdEnd);
    this.plan.faults.forEach((fault, index) => {
      const system = faultSystem(fault, index, names);
      const s = this.world.systems.find((m) => m.profile.system === system);
      const where = `faults[${index}] (${fault.kind})`;
      if (!s) {
        this.problems.push(
          `${where}: system "${system}" is not simulated (systems: ${names.join(', ')})`,
        );
        return;
      }
      const at = this.world.start + resolveOffset(fault.at, this.world.durationMs);
      if (at >= this.world.end) {
        this.problems.push(
          `${where}: at ${fault.at} is not before the end of the run (${formatTime(this.world.end)})`,
        );
        return;
      }
      if (at < this.world.backfillEnd) {
        this.problems.push(
          `${where}: at ${fault.at} falls in the initial load, which ends at ${formatTime(this.world.backfillEnd)}`,
        );
        return;
      }
      const before = this.problems.length;
      this.resolveFault(fault, index, s, at, where, missingNext);
      if (this.problems.length > before) return;
    });
    this.truth.sort(
      (a, b) =>
        a.injectedAt.localeCompare(b.injectedAt) ||
        a.fault - b.fault ||
        a.check.localeCompare(b.check) ||
        (a.subject.docId ?? '').localeCompare(b.subject.docId ?? ''),
    );
    return {
      docActions: this.docActions.sort((a, b) => a.t - b.t),
      poison: this.poison.sort((a, b) => a.t - b.t),
      systems: this.systems,
      truth: this.truth,
      warnings: this.warnings,
      problems: this.problems,
    };
  }

  resolveFault(
    fault: FaultSpec,
    index: number,
    s: SystemModel,
    at: number,
    where: string,
    missingNext: number[],
  ): void {
    const w = this.world;
    const p = s.profile;
    const system = p.system;
    const sp = this.systems[s.idx]!;
    const every = parseDuration(fault.every ?? DEFAULT_EVERY);
    const until =
      fault.for === undefined
        ? w.end
        : Math.min(w.end, at + resolveOffset(fault.for, w.durationMs));
    const add: AddTruth = (check, subject, injectedAt, detectableAt, extra = {}) => {
      this.truth.push({
        check,
        subject,
        injectedAt: formatTime(injectedAt),
        ...(detectableAt === undefined ? {} : { detectableAt: formatTime(detectableAt) }),
        ...(extra.covers ? { covers: extra.covers } : {}),
        fault: index,
        ...(extra.detail ? { detail: extra.detail } : {}),
      });
      summary(check, subject, injectedAt);
      if (detectableAt === undefined || detectableAt > w.end) {
        const label = subject.docId ? `${system}/${subject.docId}` : (subject.connector ?? system);
        this.warnings.push(
          detectableAt === undefined
            ? `${where} on ${label}: nothing in this run lets a check decide it (too close to the end?)`
            : `${where} on ${label}: decidable only at ${formatTime(detectableAt)}, after the run ends (${formatTime(w.end)}); replay needs --drain`,
        );
      }
    };
    // Reconciliation reports a system's orphans and missing documents twice: per document and one summary per system
    // (subject {system}). Scoring is strict, so the summary gets its own entry, once per fault, check and system.
    const summarized = new Set<string>();
    const summary = (check: FaultKind, subject: TruthSubject, injectedAt: number) => {
      if ((check !== 'parity.orphan' && check !== 'parity.missing') || !subject.docId) return;
      const key = `${check} ${subject.system}`;
      if (summarized.has(key)) return;
      summarized.add(key);
      this.truth.push({
        check,
        subject: { system: subject.system },
        injectedAt: formatTime(injectedAt),
        optional: true,
        fault: index,
      });
    };
    // A consequence a check may report: no false positive when it does, no miss when it does not.
    // `covers`: subject keys left open on purpose (a system-wide consequence covers any document of the system).
    const optional: AddOptionalTruth = (check, subject, injectedAt, covers) => {
      this.truth.push({
        check,
        subject,
        injectedAt: formatTime(injectedAt),
        optional: true,
        ...(covers ? { covers } : {}),
        fault: index,
      });
      summary(check, subject, injectedAt);
    };
    const count = fault.targets?.length ?? fault.count ?? 1;
    const times = (): number[] | undefined => {
      const out = Array.from({ length: count }, (_, k) => at + k * every);
      if (out[out.length - 1]! >= w.end) {
        this.problems.push(
          `${where}: ${count} victims every ${fault.every ?? DEFAULT_EVERY} from ${fault.at} run past the end of the run`,
        );
        return undefined;
      }
      return out;
    };
    const victims = (n: number, filter: (i: number) => boolean = () => true) =>
      this.pickVictims(fault, s, n, filter, where);
    const docId = (i: number) => docIdOf(w, s, i);
    if (fault.contentClass && !p.classes.some((c) => c.name === fault.contentClass)) {
      this.problems.push(
        `${where}: content class "${fault.contentClass}" is not one of ${system}'s (${p.classes.map((c) => c.name).join(', ')})`,
      );
      return;
    }

    switch (fault.kind) {
      case 'envelope.invalid':
      case 'contract.schema': {
        const ts = times();
        if (!ts) return;
        const docs = fault.targets ? this.lookupTargets(fault, s, where) : this.anyDocs(s, count);
        if (!docs) return;
        const topic = fault.kind === 'contract.schema' ? 'content' : (fault.topic ?? 'content');
        docs.forEach((i, k) => {
          const t = ts[k]!;
          const form: PoisonAction['form'] =
            fault.kind === 'contract.schema'
              ? 'framed'
              : fault.form === undefined || fault.form === 'mixed'
                ? POISON_CYCLE[k % POISON_CYCLE.length]!
                : (fault.form as PoisonAction['form']);
          this.poison.push({
            fault: index,
            s: s.idx,
            i,
            t,
            form,
            topic,
            schemaId: fault.schemaId ?? 1,
          });
          const subject: TruthSubject =
            topic === 'inventory' ? { system } : { system, docId: docId(i) };
          add(fault.kind, subject, t, t, { detail: { form, topic } });
          // Services that do not decode Confluent frames dead-letter the record instead.
          if (fault.kind === 'contract.schema') optional('envelope.invalid', { system }, t);
        });
        return;
      }
      case 'contract.required':
      case 'contract.allowed':
      case 'contract.rule':
      case 'contract.reference':
      case 'freshness.review-overdue': {
        const ts = times();
        if (!ts) return;
        const needsClock = fault.kind === 'freshness.review-overdue';
        const docs = victims(
          count,
          (i) => !needsClock || docStatic(w, s, i).klass.reviewIntervalMs !== undefined,
        );
        if (!docs) return;
        docs.forEach((i, k) => {
          const t = ts[k]!;
          const stat = docStatic(w, s, i);
          const subject = { system, docId: stat.docId };
          const broken = (overrides: Overrides, what: string, extra: Partial<DocAction> = {}) => {
            if (!this.fitsSchema(where, s, i, overrides, what)) return false;
            this.docActions.push({
              fault: index,
              kind: 'overrides',
              s: s.idx,
              i,
              t,
              overrides,
              ...extra,
            });
            // One broken revision may break more than the expectation it was built for (a rule on the same field).
            for (const other of [
              'contract.required',
              'contract.allowed',
              'contract.rule',
            ] as const) {
              if (other !== fault.kind) optional(other, subject, t);
            }
            return true;
          };
          switch (fault.kind) {
            case 'contract.required': {
              const field = fault.field ?? 'owner';
              const as = fault.as ?? 'null';
              const overrides: Overrides =
                as === 'missing'
                  ? { set: [], remove: [field] }
                  : { set: [[field, as === 'null' ? null : '']], remove: [] };
              if (
                !broken(
                  overrides,
                  `${field} ${as === 'missing' ? 'removed' : `set to ${as === 'null' ? 'null' : '""'}`}`,
                )
              )
                return;
              add('contract.required', { ...subject, field }, t, t, { detail: { as } });
              optional('contract.null-rate', { system, field }, t);
              return;
            }
            case 'contract.allowed': {
              const field = fault.field ?? 'classification';
              const value = fault.value ?? 'top-secret';
              if (
                !broken(
                  { set: [[field, value]], remove: [] },
                  `${field} set to ${JSON.stringify(value)}`,
                )
              )
                return;
              add('contract.allowed', { ...subject, field }, t, t, { detail: { value } });
              optional('drift.categorical', { system, feature: field }, t);
              return;
            }
            case 'contract.rule': {
              const set = Object.entries(fault.set ?? { deprecated: true, supersededBy: null });
              if (!broken({ set, remove: [] }, `set ${JSON.stringify(Object.fromEntries(set))}`))
                return;
              add('contract.rule', subject, t, t, {
                detail: {
                  ...(fault.rule ? { rule: fault.rule } : {}),
                  set: Object.fromEntries(set),
                },
              });
              return;
            }
            case 'contract.reference': {
              let target: string;
              if (fault.form === 'deleted') {
                const gone = victims(1);
                if (!gone) return;
                const tDelete = Math.max(w.backfillEnd, t - 5 * 60_000);
                this.docActions.push({
                  fault: index,
                  kind: 'clean-delete',
                  s: s.idx,
                  i: gone[0]!,
                  t: tDelete,
                });
                target = docId(gone[0]!);
              } else {
                // A number no document or ghost of this run uses: an id that never existed.
                target = docId(s.capacity + 10_000_000 + this.#ghostCounter[s.idx]!++);
              }
              const supersededBy = `${system}/${target}`;
              const set: Array<[string, unknown]> = [
                ['deprecated', true],
                ['supersededBy', supersededBy],
              ];
              if (!broken({ set, remove: [] }, `supersededBy set to ${supersededBy}`)) return;
              add(
                'contract.reference',
                { ...subject, field: 'supersededBy' },
                t,
                t + p.referenceGraceMs,
                {
                  detail: { form: fault.form ?? 'unknown', supersededBy },
                },
              );
              return;
            }
            case 'freshness.review-overdue': {
              const interval = stat.klass.reviewIntervalMs!;
              const age = fault.age === undefined ? interval : parseDuration(fault.age);
              const reviewedAt = t - interval - age;
              this.docActions.push({
                fault: index,
                kind: 'overrides',
                s: s.idx,
                i,
                t,
                overrides: { set: [], remove: [] },
                reviewedAt,
              });
              add('freshness.review-overdue', subject, t, t, {
                detail: { reviewedAt: formatTime(reviewedAt), contentClass: stat.klass.name },
              });
              return;
            }
          }
        });
        return;
      }
      case 'freshness.sync-lag':
      case 'parity.delete-missed':
      case 'parity.resurrected':
      case 'parity.acl-mismatch': {
        const ts = times();
        if (!ts) return;
        const docs = victims(count);
        if (!docs) return;
        const afterMs = parseDuration(fault.after ?? '10m');
        docs.forEach((i, k) => {
          const t = ts[k]!;
          const stat = docStatic(w, s, i);
          const subject = { system, docId: stat.docId };
          switch (fault.kind) {
            case 'freshness.sync-lag':
              this.docActions.push({ fault: index, kind: 'stuck', s: s.idx, i, t });
              add('freshness.sync-lag', subject, t, t + stat.klass.syncLagMs, {
                detail: { contentClass: stat.klass.name },
              });
              return;
            case 'parity.delete-missed':
              this.docActions.push({ fault: index, kind: 'delete-missed', s: s.idx, i, t });
              add('parity.delete-missed', subject, t, t + stat.klass.deleteSlaMs);
              // Not freshness.sync-lag: one finding per problem, a missed deletion is parity's alone.
              optional('parity.orphan', subject, t);
              return;
            case 'parity.resurrected': {
              this.docActions.push({ fault: index, kind: 'resurrect', s: s.idx, i, t, afterMs });
              const back = t + RESURRECT_REMOVAL_DELAY_MS + afterMs;
              add('parity.resurrected', subject, back, back);
              optional('parity.orphan', subject, back);
              optional('parity.delete-missed', subject, back);
              return;
            }
            case 'parity.acl-mismatch':
              this.docActions.push({ fault: index, kind: 'acl', s: s.idx, i, t });
              add('parity.acl-mismatch', subject, t, t + stat.klass.aclSlaMs);
              return;
          }
        });
        return;
      }
      case 'parity.orphan': {
        const seen = this.inventories.find((x) => x >= at);
        for (let k = 0; k < count; k++) {
          const i = s.capacity + this.#ghostCounter[s.idx]!++;
          const ghost = { i, docId: docId(i), from: at };
          sp.ghosts.push(ghost);
          add('parity.orphan', { system, docId: ghost.docId }, at, seen);
        }
        return;
      }
      case 'parity.missing': {
        const ts = times();
        if (!ts) return;
        ts.forEach((t) => {
          const i = missingNext[s.idx]!++;
          sp.victims.add(i);
          const stat = docStatic(w, s, i);
          this.docActions.push({ fault: index, kind: 'missing', s: s.idx, i, t });
          const seen = this.inventories.find((x) => x >= t + stat.klass.syncLagMs);
          add('parity.missing', { system, docId: stat.docId }, t, seen);
          optional('freshness.sync-lag', { system, docId: stat.docId }, t);
        });
        return;
      }
      case 'parity.mass-removal': {
        this.resolveMassRemoval(fault, index, s, at, where, add, optional);
        return;
      }
      case 'parity.snapshot-incomplete': {
        const side = fault.side ?? 'index';
        const taken = this.inventories.find((x) => x >= at);
        if (taken === undefined) {
          this.problems.push(`${where}: no inventory is taken at or after ${fault.at}`);
          return;
        }
        const expiryMs = p.snapshotExpiryMs ?? DEFAULT_SNAPSHOT_EXPIRY_MS;
        const next = this.inventories.find((x) => x > taken);
        if (next !== undefined && next <= taken + expiryMs) {
          this.problems.push(
            `${where}: the next inventory (${formatTime(next)}) comes before the incomplete one expires (${formatDuration(expiryMs)} after ${formatTime(taken)})`,
          );
          return;
        }
        sp.incomplete.push({ fault: index, at: taken, side });
        // The snapshot is never compared, so nothing else may fire: no orphan, missing or delete-missed from it.
        add(
          'parity.snapshot-incomplete',
          { system, feature: `inventory.${side}` },
          taken,
          taken + expiryMs,
          { detail: { side } },
        );
        return;
      }
      case 'freshness.connector-silent':
      case 'freshness.connector-failing': {
        this.resolveOutage(fault, index, s, at, until, where, add, optional);
        return;
      }
      case 'contract.null-rate':
      case 'drift.numeric':
      case 'drift.categorical':
      case 'drift.volume': {
        const kind = (
          {
            'contract.null-rate': 'null-rate',
            'drift.numeric': 'numeric',
            'drift.categorical': 'categorical',
            'drift.volume': 'volume',
          } as const
        )[fault.kind];
        const field =
          fault.field ??
          (
            {
              'null-rate': 'owner',
              numeric: 'sizeBytes',
              categorical: 'language',
              volume: '',
            } as const
          )[kind];
        const share =
          fault.share ??
          ({ 'null-rate': 0.5, numeric: 1, categorical: 0.8, volume: 1 } as const)[kind];
        const factor = fault.factor ?? (kind === 'volume' ? 0.2 : 0.1);
        const value = fault.value ?? 'und';
        // Null where the event schema allows it, else a missing field: the null rate counts both alike.
        let as: 'null' | 'missing' = fault.as === 'missing' ? 'missing' : 'null';
        const sample = this.anyDocs(s, 1)[0]!;
        if (kind === 'null-rate') {
          const nullFits =
            fault.as !== 'missing' &&
            this.fitsSchema(where, s, sample, { set: [[field, null]], remove: [] }, '', true);
          if (!nullFits) {
            if (fault.as === 'null')
              return void this.fitsSchema(
                where,
                s,
                sample,
                { set: [[field, null]], remove: [] },
                `${field} set to null`,
              );
            as = 'missing';
            if (
              !this.fitsSchema(where, s, sample, { set: [], remove: [field] }, `${field} removed`)
            )
              return;
          }
        } else if (kind === 'categorical') {
          if (
            !this.fitsSchema(
              where,
              s,
              sample,
              { set: [[field, value]], remove: [] },
              `${field} set to ${JSON.stringify(value)}`,
            )
          )
            return;
        }
        sp.windows.push({
          fault: index,
          kind,
          from: at,
          to: until,
          field,
          value,
          share,
          factor,
          contentClass: fault.contentClass,
          as,
        });
        const window =
          kind === 'null-rate'
            ? p.nullRateWindowMs
            : (p.driftWindowMs[`${kind}:${field}`] ?? p.driftWindowMs[kind] ?? p.nullRateWindowMs);
        switch (kind) {
          case 'null-rate':
            // Spread over every class the fault may touch: a system-level null-rate entry judges them together.
            add('contract.null-rate', { system, field }, at, at + window, {
              detail: {
                share,
                as,
                classes: fault.contentClass ? [fault.contentClass] : p.classes.map((c) => c.name),
              },
            });
            optional('contract.required', { system, field }, at, ['docId']);
            optional('contract.rule', { system }, at, ['docId']);
            optional('drift.categorical', { system, feature: field }, at);
            return;
          case 'numeric':
          case 'categorical':
            // A scaled number or an injected category: its drift feature must see it; contracts may too.
            add(`drift.${kind}`, { system, feature: field }, at, at + window, {
              detail: kind === 'numeric' ? { factor, share } : { value, share },
            });
            optional('contract.allowed', { system, field }, at, ['docId']);
            optional('contract.rule', { system }, at, ['docId']);
            return;
          case 'volume':
            // The whole system's volume drops: a per-connector volume feature sees it on each connector.
            add('drift.volume', { system }, at, at + window, {
              detail: { factor },
              covers: ['connector'],
            });
            return;
        }
      }
    }
  }

  /** Whether a revision of document `i` with these changes still passes the event schema; a problem if not. */
  fitsSchema(
    where: string,
    s: SystemModel,
    i: number,
    overrides: Overrides,
    what: string,
    quiet = false,
  ): boolean {
    const w = this.world;
    const stat = docStatic(w, s, i);
    const data = revisionData(w, s, i, stat, {
      revision: stat.initialRevision + 1,
      reviewedAt: w.start,
      aclVersion: 0,
    });
    for (const [field, value] of overrides.set) setPath(data, field, value);
    for (const field of overrides.remove) deletePath(data, field);
    try {
      this.#envelope.validate({
        specversion: '1.0',
        id: 'fit-check',
        source: `source/${s.profile.system}`,
        type: EVENT_TYPES.contentUpserted,
        time: formatTime(w.start),
        data,
      });
      return true;
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      if (!quiet) {
        this.problems.push(
          `${where}: ${what} breaks the content.upserted event schema (${error.message}); a record that breaks its schema is an envelope.invalid fault`,
        );
      }
      return false;
    }
  }

  /**
   * The index removes `share` of a system's documents within minutes (a connector that took a 503 for "gone"), then
   * re-indexes them `for` later. One system-level finding; per-document parity findings of the burst are the
   * checks' to suppress, so they are optional consequences here.
   */
  resolveMassRemoval(
    fault: FaultSpec,
    index: number,
    s: SystemModel,
    at: number,
    where: string,
    add: AddTruth,
    optional: AddOptionalTruth,
  ): void {
    const w = this.world;
    const p = s.profile;
    const system = p.system;
    const c =
      fault.connector === undefined
        ? -1
        : p.connectors.findIndex((x) => x.name === fault.connector);
    if (fault.connector !== undefined && c < 0) {
      this.problems.push(
        `${where}: connector "${fault.connector}" is not one of ${system}'s (${p.connectors.map((x) => x.name).join(', ')})`,
      );
      return;
    }
    const limit = p.massRemoval ?? DEFAULT_MASS_REMOVAL;
    const share = fault.share ?? 0.5;
    const count = Math.round(share * s.docs);
    // The decider weighs removals against every document the index holds: the share must clear the threshold.
    const needed = Math.max(limit.minDocuments, Math.floor(limit.share * s.docs) + 1);
    if (count < needed) {
      this.problems.push(
        `${where}: removing ${count} of ${system}'s ${s.docs} documents does not reach its mass-removal threshold (more than ${limit.share} of them, at least ${limit.minDocuments}); raise "share"`,
      );
      return;
    }
    const every =
      fault.every === undefined
        ? Math.min(1000, Math.floor(limit.windowMs / 2 / count))
        : parseDuration(fault.every);
    if ((count - 1) * every >= limit.windowMs) {
      this.problems.push(
        `${where}: ${count} removals every ${formatDuration(every)} take longer than the ${formatDuration(limit.windowMs)} mass-removal window; shorten "every"`,
      );
      return;
    }
    const forMs =
      fault.for === undefined
        ? DEFAULT_MASS_REMOVAL_FOR_MS
        : resolveOffset(fault.for, w.durationMs);
    if (at + (count - 1) * every >= w.end) {
      this.problems.push(`${where}: the removals run past the end of the run`);
      return;
    }
    const docs = this.pickVictims(
      fault,
      s,
      count,
      (i) => c < 0 || docConnector(w, s, i) === c,
      where,
    );
    if (!docs) return;
    docs.forEach((i, k) => {
      const t = at + k * every;
      const restoreAt = t + forMs;
      this.docActions.push({
        fault: index,
        kind: 'mass-remove',
        s: s.idx,
        i,
        t,
        ...(restoreAt < w.end ? { restoreAt } : {}),
      });
    });
    const connectors = [...new Set(docs.map((i) => p.connectors[docConnector(w, s, i)]!.name))];
    add('parity.mass-removal', { system }, at, at + (needed - 1) * every, {
      detail: {
        removed: count,
        documents: s.docs,
        every: formatDuration(every),
        for: formatDuration(forMs),
        ...(connectors.length === 1 ? { connector: connectors[0] } : {}),
      },
    });
    // An inventory while the documents are out lists them missing; during the burst reconciliation reports only the
    // system's summary, after it per document too. The index's removals also move its per-connector volume.
    optional('parity.missing', { system }, at, ['docId']);
    optional('drift.volume', { system }, at, ['connector']);
  }

  resolveOutage(
    fault: FaultSpec,
    index: number,
    s: SystemModel,
    at: number,
    until: number,
    where: string,
    add: AddTruth,
    optional: AddOptionalTruth,
  ): void {
    const w = this.world;
    const p = s.profile;
    const c =
      fault.connector === undefined ? 0 : p.connectors.findIndex((x) => x.name === fault.connector);
    if (c < 0) {
      this.problems.push(
        `${where}: connector "${fault.connector!}" is not one of ${p.system}'s (${p.connectors.map((x) => x.name).join(', ')})`,
      );
      return;
    }
    const connector = s.connectors[c]!;
    const subject = { system: p.system, connector: connector.profile.name };
    const firstSlot = slotAtOrAfter(w, s, c, at);
    const skip = new Set<number>();
    const fail = new Set<number>();
    let recovery: number;
    if (fault.kind === 'freshness.connector-silent') {
      recovery = slotAtOrAfter(w, s, c, until);
      for (let n = firstSlot; n < recovery; n++) skip.add(n);
      if (skip.size === 0) {
        this.problems.push(
          `${where}: the outage skips no run of ${connector.profile.name} (runs every ${formatDuration(connector.runEveryMs)}); make "for" longer`,
        );
        return;
      }
    } else {
      const runs = fault.count ?? connector.profile.failingRuns;
      for (let n = firstSlot; n < firstSlot + runs; n++) fail.add(n);
      recovery = firstSlot + runs;
      if (runSlot(w, s, c, recovery - 1).start >= w.end) {
        this.problems.push(
          `${where}: ${runs} failed runs from ${fault.at} do not fit before the end of the run`,
        );
        return;
      }
    }
    const recoveryStart = runSlot(w, s, c, recovery).start;
    const outage: Outage = {
      fault: index,
      c,
      from: at,
      until: recoveryStart < w.end ? recoveryStart : Number.POSITIVE_INFINITY,
      skipSlots: skip,
      failSlots: fail,
      error: fault.error ?? 'source API answered 503 Service Unavailable',
    };
    const sp = this.systems[s.idx]!;
    for (const other of sp.outages) {
      if (other.c === c && outage.from < other.until && other.from < outage.until) {
        this.problems.push(
          `${where}: overlaps faults[${other.fault}] on connector ${connector.profile.name}`,
        );
        return;
      }
    }
    // The last run that succeeded before the outage; runs that started before `at` complete normally.
    const lastGood = firstSlot > 0 ? runSlot(w, s, c, firstSlot - 1).end : undefined;
    const heartbeat = connector.profile.heartbeatMs;
    if (fault.kind === 'freshness.connector-silent') {
      const decidable = lastGood === undefined ? undefined : lastGood + heartbeat;
      const back = runSlot(w, s, c, recovery).end;
      if (decidable !== undefined && decidable >= back && recoveryStart < w.end) {
        this.problems.push(
          `${where}: ${connector.profile.name} is back (${formatTime(back)}) before its heartbeat window (${formatDuration(heartbeat)}) runs out: nothing to detect; make "for" longer`,
        );
        return;
      }
      sp.outages.push(outage);
      add('freshness.connector-silent', subject, at, decidable, {
        detail: { skippedRuns: skip.size, heartbeat: formatDuration(heartbeat) },
      });
    } else {
      sp.outages.push(outage);
      const failedEnds = [...fail].map((n) => runSlot(w, s, c, n).end);
      const threshold = connector.profile.failingRuns;
      const decidable = fail.size >= threshold ? failedEnds[threshold - 1] : undefined;
      add('freshness.connector-failing', subject, failedEnds[0]!, decidable, {
        detail: { failedRuns: fail.size, failingRuns: threshold },
      });
      optional('freshness.connector-silent', subject, at);
    }
    // While the connector is down the index applies nothing of its documents, so per-document checks may fire too.
    for (const check of [
      'freshness.sync-lag',
      'parity.delete-missed',
      'parity.missing',
      'parity.orphan',
      'parity.acl-mismatch',
      'drift.volume',
    ] as const) {
      optional(check, { system: p.system }, at, ['docId', 'connector']);
    }
  }

  /** Seeded choice of documents present from the start that are neither deprecated, successors, nor victims. */
  pickVictims(
    fault: FaultSpec,
    s: SystemModel,
    count: number,
    filter: (i: number) => boolean,
    where: string,
  ): number[] | undefined {
    const sp = this.systems[s.idx]!;
    const eligible = (i: number) =>
      !sp.victims.has(i) &&
      !isDeprecated(this.world, s, i) &&
      !isDeprecated(this.world, s, i + 1) &&
      (!fault.contentClass || docStatic(this.world, s, i).klass.name === fault.contentClass) &&
      filter(i);
    if (fault.targets) {
      const docs = this.lookupTargets(fault, s, where);
      if (!docs) return undefined;
      for (const [k, i] of docs.entries()) {
        if (!eligible(i)) {
          this.problems.push(
            `${where}: targets[${k}] "${fault.targets[k]!}" is deprecated, a successor, already a victim, or of the wrong class`,
          );
          return undefined;
        }
        sp.victims.add(i);
      }
      return docs;
    }
    const out: number[] = [];
    for (let k = 0; k < count; k++) {
      let found: number | undefined;
      for (let attempt = 0; attempt < 64 && found === undefined; attempt++) {
        const i = Math.floor(this.rng.next() * s.initial);
        if (eligible(i)) found = i;
      }
      if (found === undefined) {
        const from = Math.floor(this.rng.next() * s.initial);
        for (let j = 0; j < s.initial && found === undefined; j++) {
          const i = (from + j) % s.initial;
          if (eligible(i)) found = i;
        }
      }
      if (found === undefined) {
        this.problems.push(
          `${where}: not enough eligible documents in ${s.profile.system} for ${count} victims`,
        );
        return undefined;
      }
      sp.victims.add(found);
      out.push(found);
    }
    return out;
  }

  /** Documents named by `targets`, by id. */
  lookupTargets(fault: FaultSpec, s: SystemModel, where: string): number[] | undefined {
    let ids = this.#idIndex[s.idx];
    if (!ids) {
      ids = new Map();
      for (let i = 0; i < s.initial; i++) ids.set(docIdOf(this.world, s, i), i);
      this.#idIndex[s.idx] = ids;
    }
    const out: number[] = [];
    for (const [k, id] of (fault.targets ?? []).entries()) {
      const i = ids.get(id);
      if (i === undefined) {
        this.problems.push(
          `${where}: targets[${k}] "${id}" is not a document of ${s.profile.system} present from the start`,
        );
        return undefined;
      }
      out.push(i);
    }
    return out;
  }

  /** Seeded documents for poison record keys (any document present from the start). */
  anyDocs(s: SystemModel, count: number): number[] {
    return Array.from({ length: count }, () => Math.floor(this.rng.next() * s.initial));
  }
}
