import {
  buildFinding,
  createEnvelopeParser,
  dlqRecord,
  EnvelopeError,
  EVENT_TYPES,
  findingRecord,
  formatTime,
  parseTime,
  type ContentDeletedEvent,
  type ContentUpsertedEvent,
  type Finding,
  type FindingOwner,
  type HandlerContext,
  type InternalTopic,
  type InputRecord,
  type MetricDefinition,
  type OutputRecord,
  type ServiceDefinition,
  type ServiceTopology,
  type Severity,
  type TopicCatalog,
  safeErrorText,
} from '@tidemark/core';
import { readField, type ContractSet, type ResolvedSettings } from '@tidemark/contracts';
import { evaluateDocument, type Violation } from './evaluate.js';
import {
  closeNullRateWindows,
  countNullRates,
  decideNullRates,
  mergeNullRatePartial,
  NULL_RATE_PARTIAL_TYPE,
  nullRateTopic,
  NullRatePartialEventSchema,
  partialSeverity,
  type NullRatePartial,
} from './null-rate.js';
import { documentRegistryTopic, registryRecord, schemaRegistryOutage } from './registry.js';
import { JournaledRegistry } from './registry-journal.js';
import {
  asCandidateFinding,
  closeShadowDiff,
  compareViolations,
  countShadowDiff,
  DEFAULT_SHADOW_DIFF_PERIOD_MS,
} from './shadow.js';
import { ContractCheckerState, type DocumentEntry, type OpenFinding } from './state.js';

/** Service name: log field, CloudEvent source, changelog topic. */
export const CONTRACT_CHECKER = 'contract-checker';

/** A framed record whose payload fails its registered schema; becomes a `contract.schema` finding and a dead letter. */
export interface SchemaViolation {
  type: 'tidemark.schema-violation';
  error: Error;
}

/** Events the contract checker handles. */
export type ContractCheckerEvent =
  | ContentUpsertedEvent
  | ContentDeletedEvent
  | { type: typeof NULL_RATE_PARTIAL_TYPE; time: string; data: NullRatePartial }
  | SchemaViolation;

/** Decodes Confluent-framed payloads (magic byte 0 + schema id); returns the object or throws the validation error. */
export interface FramedDecoder {
  deserialize(topic: string, payload: Buffer): Promise<unknown>;
}

/** The contract checker's ServiceDefinition; its handler and tick are synchronous. */
export interface ContractCheckerService extends ServiceDefinition<
  ContractCheckerState,
  ContractCheckerEvent
> {
  handle(
    state: ContractCheckerState,
    event: ContractCheckerEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[];
  tick(state: ContractCheckerState, ctx: HandlerContext): OutputRecord[];
  /** Synchronous for JSON records; a promise for Schema Registry framed ones (the registry is asked). */
  decode(record: InputRecord): ContractCheckerEvent | Promise<ContractCheckerEvent>;
  /** The global document registry this instance reads. */
  registry: JournaledRegistry;
  /**
   * The earliest event time at which `tick` has work for this partition (a reference, null-rate window or decision
   * due, a deleted document to forget; -Infinity when registry changes wait to be checked), Infinity when none:
   * lets an event-time host skip ticks that would do nothing.
   */
  nextTick(state: ContractCheckerState): number;
}

/** Options of the contract-checker composition. */
export interface ContractCheckerOptions {
  contracts: ContractSet;
  topics: TopicCatalog;
  /** Schema Registry deserializer for framed records; without one, framed records go to the DLQ. */
  framed?: FramedDecoder;
  /** The registry table; pass one to share it with a host, else one is created. */
  registry?: JournaledRegistry;
  /**
   * How far ahead of `ctx.now` an event's time may be and still move the partition's watermark and count into a
   * null-rate window (a producer with a broken clock must not close every window for good). @default 3600000
   */
  maxFutureSkewMs?: number;
  /**
   * How long a deleted document is remembered (to order late revisions, and to report a reference to it as
   * deleted) before its state entry and its registry entry are tombstoned. @default the longest reference grace
   * period of any contract, at least 1 hour
   */
  deletedRetentionMs?: number;
  /** Service name; also names its changelog and internal topics. @default 'contract-checker' */
  name?: string;
  /**
   * Length of a shadow-diff period: each partition tallies a system's shadow candidate against its enforced
   * contract and emits one `contract.shadow-diff` finding per period. @default 3600000
   */
  shadowDiffPeriodMs?: number;
}

/**
 * The contract checker as a ServiceDefinition: evaluates every rule of the contract on each content change,
 * fires and resolves findings per document, checks references after their grace period against the global
 * document registry, and decides null rates per window over all partitions.
 */
export function createContractCheckerService(
  options: ContractCheckerOptions,
): ContractCheckerService {
  const { contracts, topics } = options;
  const name = options.name ?? CONTRACT_CHECKER;
  const registryTopic = documentRegistryTopic(name);
  const registry = options.registry ?? new JournaledRegistry();
  const maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const deletedRetentionMs = options.deletedRetentionMs ?? defaultDeletedRetention(contracts);
  const shadowDiffPeriodMs = options.shadowDiffPeriodMs ?? DEFAULT_SHADOW_DIFF_PERIOD_MS;
  if (!Number.isFinite(shadowDiffPeriodMs) || shadowDiffPeriodMs <= 0) {
    throw new RangeError(
      `contract-checker: shadowDiffPeriodMs must be a positive number of ms, got ${String(shadowDiffPeriodMs)}`,
    );
  }
  for (const [field, value] of [
    ['maxFutureSkewMs', maxFutureSkewMs],
    ['deletedRetentionMs', deletedRetentionMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `contract-checker: ${field} must be a non-negative number of ms, got ${String(value)}`,
      );
    }
  }
  const parser = createEnvelopeParser<ContractCheckerEvent>({
    extraTypes: { [NULL_RATE_PARTIAL_TYPE]: NullRatePartialEventSchema },
  });
  const emit = (finding: Finding, ctx: HandlerContext) =>
    findingRecord(finding, { service: name, topics: ctx.topics });

  function decode(record: InputRecord): ContractCheckerEvent | Promise<ContractCheckerEvent> {
    const value = record.value;
    if (value && value.length > 5 && value[0] === 0) return decodeFramed(record, value);
    // Plain JSON, nearly every record: decoded synchronously, so the host makes no promise per record.
    return parser.parse(record);
  }

  async function decodeFramed(record: InputRecord, value: Buffer): Promise<ContractCheckerEvent> {
    if (!options.framed) {
      throw new EnvelopeError(
        'invalid-json',
        'record is Schema Registry framed but no SCHEMA_REGISTRY_URL is configured',
      );
    }
    let payload: unknown;
    try {
      payload = await options.framed.deserialize(record.topic, value);
    } catch (error) {
      // A registry outage is not bad data: the host retries the record once the registry is back.
      const outage = schemaRegistryOutage(error);
      if (outage) throw outage;
      return { type: 'tidemark.schema-violation', error: error as Error };
    }
    return parser.validate(payload);
  }

  function handle(
    state: ContractCheckerState,
    event: ContractCheckerEvent,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[] {
    switch (event.type) {
      case 'tidemark.schema-violation':
        return schemaViolation(event, record, ctx);
      case NULL_RATE_PARTIAL_TYPE:
        mergeNullRatePartial(state, event.data);
        return [];
      case EVENT_TYPES.contentUpserted:
        return upsert(state, event, ctx);
      case EVENT_TYPES.contentDeleted:
        return remove(state, event, ctx);
      default:
        return []; // other types on the content topic are not the checker's business
    }
  }

  function schemaViolation(
    event: SchemaViolation,
    record: InputRecord,
    ctx: HandlerContext,
  ): OutputRecord[] {
    const system = record.key?.split('/')[0] || 'unknown';
    const docId = record.key?.includes('/') ? record.key.slice(system.length + 1) : undefined;
    const finding = buildFinding({
      check: 'contract.schema',
      status: 'firing',
      severity: 'high',
      subject: { system, ...(docId ? { docId } : {}), field: record.topic },
      owner: ownerOf(contracts.settingsFor(system), undefined),
      // The registry's text may quote the record: only safe text (class, or our own field/rule wording).
      summary: `record on ${record.topic} fails its registered schema: ${safeErrorText(event.error).slice(0, 200)}`,
      evidence: {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: safeErrorText(event.error),
      },
      observedAt: formatTime(ctx.now),
      ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    });
    return [
      dlqRecord({ record, error: event.error, service: name, topics: ctx.topics }),
      emit(finding, ctx),
    ];
  }

  function upsert(
    state: ContractCheckerState,
    event: ContentUpsertedEvent,
    ctx: HandlerContext,
  ): OutputRecord[] {
    const { data } = event;
    const key = `${data.system}/${data.docId}`;
    const time = parseTime(event.time);
    // A time beyond the allowed skew is a broken producer clock: it must not move the watermark (that would close
    // every null-rate window of the partition for good) nor open a window that closes decades from now.
    const believable = time <= ctx.now + maxFutureSkewMs;
    if (believable) state.advanceWatermark(time);
    const prior = state.documents.get(key);
    if (prior && data.revision <= prior.rev) return []; // older or duplicate revision: its result never overrides
    const settings = contracts.settingsFor(data.system, data.contentClass);
    const out: OutputRecord[] = [];
    if (!prior || prior.deleted) out.push(registryRecord(registryTopic, key, false));
    if (!settings) {
      state.setDocument(key, { rev: data.revision, open: prior?.open ?? [] });
      return out;
    }
    // Whether a null-rate limit's field is absent from this revision (missing or null).
    const isNull = (limit: { segments: readonly string[] }) => {
      const kind = readField(data, limit.segments).kind;
      return kind === 'missing' || kind === 'null';
    };
    if (believable)
      countNullRates(state, settings.nullRates, data.system, data.contentClass, isNull, time);
    const violations = evaluateDocument(settings, event);
    const priorOpen = prior?.open ?? NONE_OPEN;
    const openNow: OpenFinding[] =
      violations.length === 0
        ? NONE_OPEN
        : violations.map((v) => [v.check, v.key, v.severity, v.shadow ? 1 : 0]);
    // Built in this key order (rev, cls, open, classification, owner) because it is the changelog's JSON form.
    const entry: DocumentEntry = { rev: data.revision, cls: data.contentClass, open: openNow };
    if (data.classification) entry.classification = data.classification;
    if (data.owner) entry.owner = data.owner;
    // Most revisions of most documents neither fire nor resolve anything: the finding base (with its copy of the
    // labels) is built only when a finding is emitted.
    let base: FindingBase | undefined;
    const baseOf = (): FindingBase =>
      (base ??= {
        owner: ownerOf(settings, data.owner ?? undefined),
        observedAt: event.time,
        contract: settings.contract,
        classification: data.classification,
        ...(Object.keys(settings.labels).length > 0 ? { labels: { ...settings.labels } } : {}),
        ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      });
    // New findings fire, findings no longer present resolve; without open findings before or now (the common
    // case) there is nothing to compare, so the key sets are built only when both sides have entries.
    const was = priorOpen.length > 0 && violations.length > 0 ? openKeys(priorOpen) : undefined;
    const is = priorOpen.length > 0 && violations.length > 0 ? openKeys(openNow) : undefined;
    for (const v of violations) {
      if (was?.has(`${v.check}|${v.key}`)) continue; // still firing: already reported
      out.push(
        emit(
          buildFinding({
            ...baseOf(),
            check: v.check,
            status: 'firing',
            severity: v.severity,
            subject: docSubject(data.system, data.docId, v.check, v.key, data.contentClass),
            summary: v.summary,
            evidence: { ...v.evidence, revision: data.revision },
            ...(v.shadow ? { shadow: true } : {}),
          }),
          ctx,
        ),
      );
    }
    for (const [check, k, severity, shadow] of priorOpen) {
      if (is?.has(`${check}|${k}`)) continue;
      out.push(
        emit(resolved(baseOf(), data, { check, key: k, severity, shadow: shadow === 1 }), ctx),
      );
    }
    // The system's shadow candidate, if any, judges the same revision: its findings are shadow ones with their own
    // fingerprints, and the two verdicts are compared per check and key for the shadow diff.
    const candidate = contracts.shadowSettingsFor(data.system, data.contentClass);
    const priorShadow = prior?.shadowOpen ?? NONE_OPEN;
    if (candidate || priorShadow.length > 0) {
      const candidateViolations = candidate ? evaluateDocument(candidate, event) : [];
      const judge = candidate ?? settings; // a candidate since removed: its open findings still resolve
      const candidateBase: FindingBase = {
        owner: ownerOf(judge, data.owner ?? undefined),
        observedAt: event.time,
        contract: judge.contract,
        classification: data.classification,
        ...(Object.keys(judge.labels).length > 0 ? { labels: { ...judge.labels } } : {}),
        ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      };
      const shadowOpen = reconcile(
        candidateBase,
        data,
        priorShadow,
        candidateViolations,
        ctx,
        out,
        asCandidateFinding,
      );
      if (shadowOpen.length > 0) entry.shadowOpen = shadowOpen;
      if (candidate) {
        scheduleReferences(state, data, time, candidate, true, () => candidateBase, ctx, out);
        if (believable)
          countNullRates(
            state,
            candidate.nullRates,
            data.system,
            data.contentClass,
            isNull,
            time,
            true,
          );
        out.push(...compareWithCandidate(state, data.system, violations, candidateViolations, ctx));
      }
    }
    // References: schedule a check after the grace period; a changed target replaces the pending one.
    scheduleReferences(state, data, time, settings, false, baseOf, ctx, out);
    state.setDocument(key, entry);
    return out;
  }

  function remove(
    state: ContractCheckerState,
    event: ContentDeletedEvent,
    ctx: HandlerContext,
  ): OutputRecord[] {
    const { data } = event;
    const key = `${data.system}/${data.docId}`;
    const time = parseTime(event.time);
    if (time <= ctx.now + maxFutureSkewMs) state.advanceWatermark(time);
    const prior = state.documents.get(key);
    if (prior && (data.revision < prior.rev || (prior.deleted && data.revision === prior.rev)))
      return [];
    const settings = contracts.settingsFor(data.system, prior?.cls ?? data.contentClass);
    const base = {
      owner: ownerOf(settings, prior?.owner),
      observedAt: event.time,
      classification: prior?.classification ?? data.classification,
      ...(settings ? { contract: settings.contract } : {}),
      ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    };
    const out: OutputRecord[] = [registryRecord(registryTopic, key, true)];
    for (const [check, k, severity, shadow] of prior?.open ?? []) {
      out.push(
        emit(
          resolved(
            base,
            {
              system: data.system,
              docId: data.docId,
              revision: data.revision,
              contentClass: prior?.cls,
            },
            { check, key: k, severity, shadow: shadow === 1 },
          ),
          ctx,
        ),
      );
    }
    const candidate = contracts.shadowSettingsFor(data.system, prior?.cls ?? data.contentClass);
    const candidateBase = { ...base, ...(candidate ? { contract: candidate.contract } : {}) };
    if (prior?.shadowOpen) {
      for (const [check, k, severity] of prior.shadowOpen) {
        out.push(
          emit(
            asCandidateFinding(
              resolved(
                candidateBase,
                {
                  system: data.system,
                  docId: data.docId,
                  revision: data.revision,
                  contentClass: prior.cls,
                },
                { check, key: k, severity, shadow: true },
              ),
            ),
            ctx,
          ),
        );
      }
    }
    const judged = [
      ...(settings?.references ?? []).map((ref) => [ref.field, false] as const),
      ...(candidate?.references ?? []).map((ref) => [ref.field, true] as const),
    ];
    for (const [field, isCandidate] of judged) {
      const refKey = referenceKey(key, field, isCandidate);
      const pending = state.references.get(refKey);
      if (pending?.firing) {
        const finding = resolved(
          isCandidate ? candidateBase : base,
          {
            system: data.system,
            docId: data.docId,
            revision: data.revision,
            contentClass: prior?.cls,
          },
          {
            check: 'contract.reference',
            key: field,
            severity: pending.severity,
            shadow: pending.shadow,
          },
        );
        out.push(emit(isCandidate ? asCandidateFinding(finding) : finding, ctx));
      }
      state.deleteReference(refKey);
    }
    // Remembered for the retention only (bounded state): then the entry and the registry's are tombstoned.
    const purgeAt = Math.min(time, ctx.now + maxFutureSkewMs) + deletedRetentionMs;
    state.setDocument(key, { rev: data.revision, deleted: true, open: [], purgeAt });
    return out;
  }

  function tick(state: ContractCheckerState, ctx: HandlerContext): OutputRecord[] {
    const now = ctx.now;
    const out: OutputRecord[] = [];
    const changes = registry.changesSince(state.registryCursor);
    state.registryCursor = changes.cursor;
    // Only references that became due, and past-due ones whose target's registry entry changed: cost follows
    // what is due, never the references held.
    for (const refKey of state.referencesToCheck(now, changes.keys)) {
      const ref = state.references.get(refKey)!;
      const [docKey] = refKey.split('|') as [string];
      const [system, ...rest] = docKey.split('/');
      const docId = rest.join('/');
      const doc = state.documents.get(docKey);
      // A candidate's reference is judged and reported as the candidate's (if it is gone since, as the system's).
      const settings =
        (ref.candidate ? contracts.shadowSettingsFor(system!, doc?.cls) : undefined) ??
        contracts.settingsFor(system!, doc?.cls);
      const finish = ref.candidate ? asCandidateFinding : (f: Finding) => f;
      const status = registry.status(ref.target);
      const broken = status !== 'live';
      if (broken === ref.firing) continue;
      const base = {
        owner: ownerOf(settings, doc?.owner),
        observedAt: formatTime(Math.max(now, ref.dueAt)),
        classification: doc?.classification,
        ...(settings ? { contract: settings.contract } : {}),
        ...(settings && Object.keys(settings.labels).length > 0
          ? { labels: { ...settings.labels } }
          : {}),
      };
      if (broken) {
        out.push(
          emit(
            finish(
              buildFinding({
                ...base,
                check: 'contract.reference',
                status: 'firing',
                severity: ref.severity,
                subject: docSubject(system!, docId, 'contract.reference', ref.field, doc?.cls),
                summary: `${docKey}.${ref.field} points to ${ref.target}, which is ${status === 'deleted' ? 'deleted' : 'unknown'}`,
                evidence: {
                  field: ref.field,
                  observed: ref.target,
                  targetStatus: status,
                  expected: 'a known, non-deleted document',
                  revision: ref.rev,
                },
                ...(ref.shadow ? { shadow: true } : {}),
              }),
            ),
            ctx,
          ),
        );
      } else {
        out.push(
          emit(
            finish(
              resolved(
                base,
                { system: system!, docId, revision: ref.rev, contentClass: doc?.cls },
                {
                  check: 'contract.reference',
                  key: ref.field,
                  severity: ref.severity,
                  shadow: ref.shadow,
                },
              ),
            ),
            ctx,
          ),
        );
      }
      state.setReference(refKey, { ...ref, firing: broken });
    }
    for (const key of state.purgeDue(now)) out.push(registryTombstone(registryTopic, key));
    for (const system of [...state.shadowDiffs.keys()])
      out.push(...closeShadow(state, system, ctx));
    ctx.metrics.record(
      DOCUMENTS_METRIC,
      { partition: String(ctx.partition) },
      state.documents.size(),
    );
    ctx.metrics.record(REGISTRY_METRIC, {}, registry.size);
    const partials = closeNullRateWindows(
      state,
      Math.max(now, state.watermark),
      (system, cls, field, candidate) =>
        (candidate
          ? contracts.shadowSettingsFor(system, cls || undefined)
          : contracts.settingsFor(system, cls || undefined)
        )?.nullRates.find((l) => l.field === field),
      (system, candidate) =>
        candidate ? contracts.shadowSettingsFor(system)?.contract : contracts.contractRef(system),
      name,
    );
    out.push(...partials);
    for (const verdict of decideNullRates(state, now)) {
      const { partial, counts } = verdict;
      const cls = partial.contentClass || undefined;
      const settings =
        (partial.candidate ? contracts.shadowSettingsFor(partial.system, cls) : undefined) ??
        contracts.settingsFor(partial.system, cls);
      const finish = partial.candidate ? asCandidateFinding : (f: Finding) => f;
      const rate = counts[0] === 0 ? 0 : counts[1] / counts[0];
      out.push(
        emit(
          finish(
            buildFinding({
              check: 'contract.null-rate',
              status: verdict.status,
              severity: partialSeverity(partial),
              subject: {
                system: partial.system,
                ...(partial.contentClass ? { contentClass: partial.contentClass } : {}),
                field: partial.field,
              },
              owner: ownerOf(settings, undefined),
              summary: `${partial.system}${partial.contentClass ? `/${partial.contentClass}` : ''}: ${(rate * 100).toFixed(1)}% of documents have no ${partial.field} (limit ${(partial.threshold * 100).toFixed(1)}%)`,
              evidence: {
                field: partial.field,
                observed: Number(rate.toFixed(6)),
                threshold: partial.threshold,
                count: counts[0],
                nulls: counts[1],
                window: {
                  start: formatTime(verdict.windowStart),
                  end: formatTime(verdict.windowStart + partial.windowMs),
                },
              },
              observedAt: formatTime(verdict.windowStart + partial.windowMs),
              contract: partial.contract,
              ...(partial.shadow ? { shadow: true } : {}),
            }),
          ),
          ctx,
        ),
      );
    }
    return out;
  }

  /**
   * Schedules the reference checks of one revision (the enforced contract's, or the candidate's under keys of their
   * own): a changed target replaces the pending check, resolving its finding if it was firing.
   */
  function scheduleReferences(
    state: ContractCheckerState,
    data: ContentUpsertedEvent['data'],
    time: number,
    settings: ResolvedSettings,
    candidate: boolean,
    baseOf: () => FindingBase,
    ctx: HandlerContext,
    out: OutputRecord[],
  ): void {
    const key = `${data.system}/${data.docId}`;
    for (const ref of settings.references) {
      const refKey = referenceKey(key, ref.field, candidate);
      const found = readField(data, ref.segments);
      const existing = state.references.get(refKey);
      const target =
        found.kind === 'present' && typeof found.value === 'string' ? found.value : undefined;
      // Unchanged target, or no target before or now (most documents): nothing to schedule or cancel.
      if (existing ? existing.target === target : target === undefined) continue;
      if (existing?.firing) {
        const finding = resolved(baseOf(), data, {
          check: 'contract.reference',
          key: ref.field,
          severity: existing.severity,
          shadow: existing.shadow,
        });
        out.push(emit(candidate ? asCandidateFinding(finding) : finding, ctx));
      }
      if (target === undefined) state.deleteReference(refKey);
      else {
        state.setReference(refKey, {
          target,
          field: ref.field,
          dueAt: time + ref.gracePeriodMs,
          firing: false,
          severity: ref.severity,
          shadow: candidate || settings.shadow || ref.shadow,
          rev: data.revision,
          ...(candidate ? { candidate: true as const } : {}),
        });
      }
    }
  }

  /**
   * Fires the violations not open before and resolves the open ones no longer found, pushing the findings to `out`
   * (through `finish`, which makes a candidate's its own); returns what is open now.
   */
  function reconcile(
    base: FindingBase,
    data: ContentUpsertedEvent['data'],
    priorOpen: readonly OpenFinding[],
    violations: readonly Violation[],
    ctx: HandlerContext,
    out: OutputRecord[],
    finish: (finding: Finding) => Finding,
  ): OpenFinding[] {
    const was = openKeys(priorOpen);
    const openNow = violations.map((v): OpenFinding => [v.check, v.key, v.severity, 1]);
    const is = openKeys(openNow);
    for (const v of violations) {
      if (was.has(`${v.check}|${v.key}`)) continue;
      out.push(
        emit(
          finish(
            buildFinding({
              ...base,
              check: v.check,
              status: 'firing',
              severity: v.severity,
              subject: docSubject(data.system, data.docId, v.check, v.key, data.contentClass),
              summary: v.summary,
              evidence: { ...v.evidence, revision: data.revision },
              shadow: true,
            }),
          ),
          ctx,
        ),
      );
    }
    for (const [check, k, severity] of priorOpen) {
      if (is.has(`${check}|${k}`)) continue;
      out.push(emit(finish(resolved(base, data, { check, key: k, severity, shadow: true })), ctx));
    }
    return openNow;
  }

  /** Tallies one revision's two verdicts (closing an ended period first) and counts them in the shadow metrics. */
  function compareWithCandidate(
    state: ContractCheckerState,
    system: string,
    enforced: readonly Violation[],
    candidate: readonly Violation[],
    ctx: HandlerContext,
  ): OutputRecord[] {
    const out = closeShadow(state, system, ctx);
    const comparisons = compareViolations(enforced, candidate);
    state.shadowDiffs.set(
      system,
      countShadowDiff(state.shadowDiffs.get(system), comparisons, ctx.now, shadowDiffPeriodMs),
    );
    ctx.metrics.record(SHADOW_REVISIONS_METRIC, { system }, 1);
    for (const c of comparisons)
      ctx.metrics.record(
        SHADOW_VIOLATIONS_METRIC,
        { system, check: c.check, rule: c.key, side: c.side },
        1,
      );
    return out;
  }

  /** Emits the shadow diff of a system whose period ended by `ctx.now`, keeping or dropping its tally. */
  function closeShadow(
    state: ContractCheckerState,
    system: string,
    ctx: HandlerContext,
  ): OutputRecord[] {
    const tally = state.shadowDiffs.get(system);
    if (tally === undefined) return [];
    const closed = closeShadowDiff(tally, ctx.now, {
      system,
      partition: ctx.partition,
      enforced: contracts.contractRef(system),
      candidate: contracts.shadowSettingsFor(system)?.contract,
      owner: ownerOf(contracts.settingsFor(system), undefined),
    });
    if (closed.entry === undefined) state.shadowDiffs.delete(system);
    else if (closed.entry !== tally) state.shadowDiffs.set(system, closed.entry);
    if (closed.finding)
      ctx.metrics.record(SHADOW_DIFFS_METRIC, { system, status: closed.finding.status }, 1);
    return closed.finding ? [emit(closed.finding, ctx)] : [];
  }

  return {
    name,
    topology: CONTRACT_CHECKER_TOPOLOGY,
    inputs: [topics.contentChanges, nullRateTopic(name)],
    createState: () => new ContractCheckerState(),
    decode,
    handle,
    tick,
    nextTick: (state) => state.nextDue(registry.cursor > state.registryCursor),
    metrics: CONTRACT_CHECKER_METRICS,
    tables: [{ topic: registryTopic, table: registry }],
    registry,
  };
}

/** Default of `maxFutureSkewMs`: the runtime's MAX_FUTURE_SKEW default. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 3_600_000;
/** The shortest retention of deleted documents when no contract has a longer reference grace period. */
export const MIN_DELETED_RETENTION_MS = 3_600_000;
const DOCUMENTS_METRIC = 'tidemark_contract_documents';
const SHADOW_REVISIONS_METRIC = 'tidemark_contract_shadow_revisions_total';
const SHADOW_VIOLATIONS_METRIC = 'tidemark_contract_shadow_violations_total';
const SHADOW_DIFFS_METRIC = 'tidemark_contract_shadow_diffs_total';
const REGISTRY_METRIC = 'tidemark_contract_registry_documents';

/** The contract checker's own metrics (state size: the runtime adds `tidemark_state_entries` for every store). */
export const CONTRACT_CHECKER_METRICS: readonly MetricDefinition[] = [
  {
    name: DOCUMENTS_METRIC,
    help: 'Documents the partition holds (live and deleted ones within their retention), set on every tick',
    kind: 'gauge',
    labelNames: ['partition'],
  },
  {
    name: SHADOW_REVISIONS_METRIC,
    help: "Revisions judged by both a system's enforced contract and its shadow candidate",
    kind: 'counter',
    labelNames: ['system'],
  },
  {
    name: SHADOW_VIOLATIONS_METRIC,
    help: 'Violations of compared revisions per check and rule (field or rule name), by side: candidate (only), enforced (only), both',
    kind: 'counter',
    labelNames: ['system', 'check', 'rule', 'side'],
  },
  {
    name: SHADOW_DIFFS_METRIC,
    help: 'contract.shadow-diff findings emitted, by status (firing: the candidate and the enforced contract disagreed in the period)',
    kind: 'counter',
    labelNames: ['system', 'status'],
  },
  {
    name: REGISTRY_METRIC,
    help: 'Documents in the global document registry this instance reads, set on every tick',
    kind: 'gauge',
    labelNames: [],
  },
];

/** The longest reference grace period of any contract (system or class), at least MIN_DELETED_RETENTION_MS. */
function defaultDeletedRetention(contracts: ContractSet): number {
  let longest = MIN_DELETED_RETENTION_MS;
  for (const system of contracts.systems) {
    for (const cls of [undefined, ...contracts.contentClasses(system)]) {
      for (const ref of contracts.settingsFor(system, cls)?.references ?? [])
        longest = Math.max(longest, ref.gracePeriodMs);
    }
  }
  return longest;
}

/** The registry tombstone that forgets a document once its retention after deletion ended. */
function registryTombstone(topic: string, key: string): OutputRecord {
  return { topic, key, value: null };
}

/** The state key of a document's reference check; a shadow candidate's are kept apart from the enforced ones. */
function referenceKey(docKey: string, field: string, candidate: boolean): string {
  return candidate ? `${docKey}|${field}|candidate` : `${docKey}|${field}`;
}

/** Shared, never mutated: the open findings of a document that has none. */
const NONE_OPEN: OpenFinding[] = [];

/** `check|key` of each open finding, to tell still-firing findings from new and resolved ones. */
function openKeys(open: readonly OpenFinding[]): Set<string> {
  const keys = new Set<string>();
  for (const [check, key] of open) keys.add(`${check}|${key}`);
  return keys;
}

/** What every finding of one document revision shares. */
interface FindingBase {
  owner: FindingOwner;
  observedAt: string;
  classification?: string | undefined;
  contract?: { file: string; version: string };
  traceparent?: string;
  labels?: Record<string, string>;
}

function docSubject(
  system: string,
  docId: string,
  check: string,
  key: string,
  contentClass: string | undefined,
) {
  // The subject must not change between revisions, or a fix would never resolve the finding: class is context only.
  void contentClass;
  return check === 'contract.rule'
    ? { system, docId, feature: key }
    : { system, docId, field: key };
}

function ownerOf(
  settings: ResolvedSettings | undefined,
  docOwner: string | undefined,
): FindingOwner {
  const owner: FindingOwner = {};
  const steward = docOwner || settings?.owner.steward;
  if (steward) owner.steward = steward;
  if (settings?.owner.team) owner.team = settings.owner.team;
  if (settings?.owner.platformOwner) owner.platformOwner = settings.owner.platformOwner;
  return owner;
}

/** The document a resolved finding is about, at the revision that resolved it. */
interface ResolvedDoc {
  system: string;
  docId: string;
  revision: number;
  contentClass?: string | undefined;
}

/** The open problem a revision resolves: its check, the field or rule key, and how it fired. */
interface OpenProblem {
  check: string;
  key: string;
  severity: Severity;
  shadow: boolean;
}

function resolved(base: FindingBase, doc: ResolvedDoc, problem: OpenProblem): Finding {
  const { system, docId, revision, contentClass } = doc;
  const { check, key, severity, shadow } = problem;
  return buildFinding({
    ...base,
    check,
    status: 'resolved',
    severity,
    subject: docSubject(system, docId, check, key, contentClass),
    summary: `${system}/${docId}: ${check} on ${key} resolved at revision ${revision}`,
    evidence: { field: key, revision },
    ...(shadow ? { shadow: true } : {}),
  });
}

/** Topics a contract checker named `name` uses besides the catalog's. */
export function contractCheckerTopics(name = CONTRACT_CHECKER): InternalTopic[] {
  return [
    {
      name: nullRateTopic(name),
      compacted: false,
      coPartitioned: true,
      purpose: 'contract-checker: null-rate partial counts, re-keyed by system/class/field',
    },
    {
      name: documentRegistryTopic(name),
      compacted: true,
      coPartitioned: false,
      purpose: 'contract-checker: every known document and whether it is deleted (global table)',
    },
  ];
}

/** The contract checker's internal topics per instance name and the format of its changelog records. */
export const CONTRACT_CHECKER_TOPOLOGY: ServiceTopology = {
  service: CONTRACT_CHECKER,
  internalTopics: contractCheckerTopics,
  stateFormat: 1,
};
