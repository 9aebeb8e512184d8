// Documents: each revision is judged by its contract (and by the system's shadow candidate, if any); violations
// not open before fire, open findings no longer found resolve, and the document's entry records what is open.
// An older or repeated revision changes nothing. A deletion resolves everything open and is remembered for the
// retention, after which the document's entry and its registry entry are tombstoned.
import {
  buildFinding,
  parseTime,
  type ContentDeletedEvent,
  type ContentUpsertedEvent,
  type Finding,
  type HandlerContext,
  type OutputRecord,
} from '@tidemark/core';
import { readField } from '@tidemark/contracts';
import { emit, type CheckerContext } from './context.js';
import { evaluateDocument, type Violation } from './evaluate.js';
import {
  docSubject,
  NONE_OPEN,
  openKeys,
  ownerOf,
  resolved,
  type FindingBase,
} from './findings.js';
import { countNullRates } from './null-rate.js';
import { dropReferences, scheduleReferences } from './references.js';
import { registryRecord } from './registry.js';
import { compareWithCandidate } from './shadow-diff.js';
import { asCandidateFinding } from './shadow.js';
import type { ContractCheckerState, DocumentEntry, OpenFinding } from './state.js';

/** Judges a new revision of a document: fires and resolves its findings, counts null rates, schedules references. */
export function upsertDocument(
  checker: CheckerContext,
  state: ContractCheckerState,
  event: ContentUpsertedEvent,
  ctx: HandlerContext,
): OutputRecord[] {
  const { contracts } = checker;
  const { data } = event;
  const key = `${data.system}/${data.docId}`;
  const time = parseTime(event.time);
  // A time beyond the allowed skew is a broken producer clock: it must not move the watermark (that would close
  // every null-rate window of the partition for good) nor open a window that closes decades from now.
  const believable = time <= ctx.now + checker.maxFutureSkewMs;
  if (believable) state.advanceWatermark(time);
  const prior = state.documents.get(key);
  if (prior && data.revision <= prior.rev) return []; // older or duplicate revision: its result never overrides
  const settings = contracts.settingsFor(data.system, data.contentClass);
  const out: OutputRecord[] = [];
  if (!prior || prior.deleted) out.push(registryRecord(checker.registryTopic, key, false));
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
        checker,
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
      emit(
        checker,
        resolved(baseOf(), data, { check, key: k, severity, shadow: shadow === 1 }),
        ctx,
      ),
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
      checker,
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
      scheduleReferences(
        checker,
        state,
        { data, time, settings: candidate, candidate: true, baseOf: () => candidateBase },
        ctx,
        out,
      );
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
      out.push(
        ...compareWithCandidate(checker, state, data.system, violations, candidateViolations, ctx),
      );
    }
  }
  // References: schedule a check after the grace period; a changed target replaces the pending one.
  scheduleReferences(checker, state, { data, time, settings, candidate: false, baseOf }, ctx, out);
  state.setDocument(key, entry);
  return out;
}

/** Deletes a document: resolves its open findings (enforced and candidate) and its firing references. */
export function removeDocument(
  checker: CheckerContext,
  state: ContractCheckerState,
  event: ContentDeletedEvent,
  ctx: HandlerContext,
): OutputRecord[] {
  const { contracts, maxFutureSkewMs } = checker;
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
  const out: OutputRecord[] = [registryRecord(checker.registryTopic, key, true)];
  for (const [check, k, severity, shadow] of prior?.open ?? []) {
    out.push(
      emit(
        checker,
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
          checker,
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
  dropReferences(
    checker,
    state,
    { system: data.system, docId: data.docId, revision: data.revision, contentClass: prior?.cls },
    { settings, candidate, base, candidateBase },
    ctx,
    out,
  );
  // Remembered for the retention only (bounded state): then the entry and the registry's are tombstoned.
  const purgeAt = Math.min(time, ctx.now + maxFutureSkewMs) + checker.deletedRetentionMs;
  state.setDocument(key, { rev: data.revision, deleted: true, open: [], purgeAt });
  return out;
}

/** Forgets the deleted documents whose retention ended by `now`: the registry tombstone of each. */
export function purgeDeleted(
  checker: CheckerContext,
  state: ContractCheckerState,
  now: number,
): OutputRecord[] {
  const out: OutputRecord[] = [];
  for (const key of state.purgeDue(now)) out.push(registryTombstone(checker.registryTopic, key));
  return out;
}

/** The registry tombstone that forgets a document once its retention after deletion ended. */
function registryTombstone(topic: string, key: string): OutputRecord {
  return { topic, key, value: null };
}

/**
 * Fires the violations not open before and resolves the open ones no longer found, pushing the findings to `out`
 * (through `finish`, which makes a candidate's its own); returns what is open now.
 */
function reconcile(
  checker: CheckerContext,
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
        checker,
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
    out.push(
      emit(checker, finish(resolved(base, data, { check, key: k, severity, shadow: true })), ctx),
    );
  }
  return openNow;
}
