// References: a revision whose field names another document schedules a check after the field's grace period;
// the tick judges each due check (and each past-due one whose target changed in the registry) against the global
// document registry and fires or resolves `contract.reference`. A changed target or a deletion cancels the
// pending check, resolving its finding if it was firing.
import {
  buildFinding,
  formatTime,
  type ContentUpsertedEvent,
  type Finding,
  type HandlerContext,
  type OutputRecord,
} from '@tidemark/core';
import { readField, type ResolvedSettings } from '@tidemark/contracts';
import { emit, type CheckerContext } from './context.js';
import { docSubject, ownerOf, resolved, type FindingBase, type ResolvedDoc } from './findings.js';
import { asCandidateFinding } from './shadow.js';
import type { ContractCheckerState } from './state.js';

/** The state key of a document's reference check; a shadow candidate's are kept apart from the enforced ones. */
export function referenceKey(docKey: string, field: string, candidate: boolean): string {
  return candidate ? `${docKey}|${field}|candidate` : `${docKey}|${field}`;
}

/** One revision's reference checks to schedule: the enforced contract's, or the candidate's. */
export interface RevisionReferences {
  data: ContentUpsertedEvent['data'];
  /** The revision's event time: a check is due a grace period after it. */
  time: number;
  settings: ResolvedSettings;
  /** Whether `settings` is the shadow candidate's (its checks are kept under keys of their own). */
  candidate: boolean;
  /** The revision's finding base, built only when a finding is emitted. */
  baseOf: () => FindingBase;
}

/**
 * Schedules the reference checks of one revision (the enforced contract's, or the candidate's under keys of their
 * own): a changed target replaces the pending check, resolving its finding if it was firing.
 */
export function scheduleReferences(
  checker: CheckerContext,
  state: ContractCheckerState,
  revision: RevisionReferences,
  ctx: HandlerContext,
  out: OutputRecord[],
): void {
  const { data, time, settings, candidate, baseOf } = revision;
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
      out.push(emit(checker, candidate ? asCandidateFinding(finding) : finding, ctx));
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

/** The contracts that judged a deleted document's references, and the finding base of each. */
export interface DeletedReferences {
  settings: ResolvedSettings | undefined;
  candidate: ResolvedSettings | undefined;
  base: FindingBase;
  candidateBase: FindingBase;
}

/** Drops the reference checks of a deleted document, resolving those that were firing (enforced and candidate). */
export function dropReferences(
  checker: CheckerContext,
  state: ContractCheckerState,
  doc: ResolvedDoc,
  judges: DeletedReferences,
  ctx: HandlerContext,
  out: OutputRecord[],
): void {
  const { settings, candidate, base, candidateBase } = judges;
  const key = `${doc.system}/${doc.docId}`;
  const judged = [
    ...(settings?.references ?? []).map((ref) => [ref.field, false] as const),
    ...(candidate?.references ?? []).map((ref) => [ref.field, true] as const),
  ];
  for (const [field, isCandidate] of judged) {
    const refKey = referenceKey(key, field, isCandidate);
    const pending = state.references.get(refKey);
    if (pending?.firing) {
      const finding = resolved(isCandidate ? candidateBase : base, doc, {
        check: 'contract.reference',
        key: field,
        severity: pending.severity,
        shadow: pending.shadow,
      });
      out.push(emit(checker, isCandidate ? asCandidateFinding(finding) : finding, ctx));
    }
    state.deleteReference(refKey);
  }
}

/**
 * Judges the references that became due by `ctx.now`, and past-due ones whose target's registry entry changed
 * since the last tick: a target unknown or deleted fires `contract.reference`, a live one resolves it.
 */
export function checkDueReferences(
  checker: CheckerContext,
  state: ContractCheckerState,
  ctx: HandlerContext,
): OutputRecord[] {
  const { contracts, registry } = checker;
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
          checker,
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
          checker,
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
  return out;
}
