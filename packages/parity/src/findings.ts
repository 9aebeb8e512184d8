import {
  buildFinding,
  findingFingerprint,
  formatTime,
  type Finding,
  type FindingStatus,
  type FindingSubject,
  type Severity,
} from '@tidemark/core';
import type { ParitySettings } from './settings.js';
import type { DocRecord } from './state.js';

/** Check ids this package emits. */
export const PARITY_CHECKS = {
  deleteMissed: 'parity.delete-missed',
  resurrected: 'parity.resurrected',
  aclMismatch: 'parity.acl-mismatch',
  massRemoval: 'parity.mass-removal',
  orphan: 'parity.orphan',
  missing: 'parity.missing',
  snapshotIncomplete: 'parity.snapshot-incomplete',
} as const;

/** A parity check id. */
export type ParityCheck = (typeof PARITY_CHECKS)[keyof typeof PARITY_CHECKS];

/** Severity of each parity check. */
export const PARITY_SEVERITY: Readonly<Record<ParityCheck, Severity>> = {
  'parity.delete-missed': 'high',
  'parity.resurrected': 'critical',
  'parity.acl-mismatch': 'critical',
  'parity.mass-removal': 'critical',
  'parity.orphan': 'high',
  'parity.missing': 'warning',
  'parity.snapshot-incomplete': 'info',
};

/** Input of parityFinding. */
export interface ParityFindingInput {
  check: ParityCheck;
  status: FindingStatus;
  /** What the finding is about; `identity` (default: the subject) is what the fingerprint is computed from. */
  subject: FindingSubject;
  identity?: FindingSubject;
  settings: ParitySettings;
  now: number;
  summary: string;
  evidence: Record<string, unknown>;
  classification?: string | undefined;
  traceparent?: string | undefined;
}

/**
 * Builds a parity finding. The fingerprint comes from the identity (system and docId, never the content
 * class), so a firing and its resolve match even when the class changed in between.
 */
export function parityFinding(input: ParityFindingInput): Finding {
  const { settings } = input;
  return buildFinding({
    check: input.check,
    status: input.status,
    severity: PARITY_SEVERITY[input.check],
    fingerprint: findingFingerprint(input.check, input.identity ?? input.subject),
    subject: input.subject,
    owner: { ...settings.owner },
    summary: input.summary,
    evidence: input.evidence,
    observedAt: formatTime(input.now),
    ...(settings.contract ? { contract: { ...settings.contract } } : {}),
    ...(settings.shadow ? { shadow: true } : {}),
    ...(settings.labels ? { labels: { ...settings.labels } } : {}),
    ...(input.traceparent ? { traceparent: input.traceparent } : {}),
    classification: input.classification,
  });
}

// ---- findings about one document of the ledger -------------------------------------------------

function docSubject(rec: DocRecord) {
  return {
    subject: {
      system: rec.system,
      docId: rec.docId,
      ...(rec.contentClass ? { contentClass: rec.contentClass } : {}),
    },
    identity: { system: rec.system, docId: rec.docId },
  };
}

function docEvidence(rec: DocRecord): Record<string, unknown> {
  return {
    sourceRevision: rec.sourceRevision,
    indexedRevision: rec.indexRevision,
    sourceDeleted: rec.sourceDeleted,
    indexRemoved: rec.indexRemoved,
    ...(rec.sourceAt >= 0 ? { sourceTime: formatTime(rec.sourceAt) } : {}),
    ...(rec.indexAt >= 0 ? { indexTime: formatTime(rec.indexAt) } : {}),
  };
}

/** A finding about one document of the ledger: its subject, identity and the ledger's evidence, plus the check's. */
export function docFinding(
  rec: DocRecord,
  check: (typeof PARITY_CHECKS)[keyof typeof PARITY_CHECKS],
  status: 'firing' | 'resolved',
  settings: ParitySettings,
  now: number,
  summary: string,
  evidence: Record<string, unknown>,
): Finding {
  return parityFinding({
    check,
    status,
    ...docSubject(rec),
    settings,
    now,
    summary,
    evidence: { ...docEvidence(rec), ...evidence },
    classification: rec.classification,
    traceparent: rec.traceparent,
  });
}
