// The parts of a finding about one document that documents, references, null rates and shadow diffs share: the
// finding base of a revision, the subject, the owner, and the resolved finding of an open problem.
import { buildFinding, type Finding, type FindingOwner, type Severity } from '@tidemark/core';
import type { ResolvedSettings } from '@tidemark/contracts';
import type { OpenFinding } from './state.js';

/** Shared, never mutated: the open findings of a document that has none. */
export const NONE_OPEN: OpenFinding[] = [];

/** `check|key` of each open finding, to tell still-firing findings from new and resolved ones. */
export function openKeys(open: readonly OpenFinding[]): Set<string> {
  const keys = new Set<string>();
  for (const [check, key] of open) keys.add(`${check}|${key}`);
  return keys;
}

/** What every finding of one document revision shares. */
export interface FindingBase {
  owner: FindingOwner;
  observedAt: string;
  classification?: string | undefined;
  contract?: { file: string; version: string };
  traceparent?: string;
  labels?: Record<string, string>;
}

/** The subject of a finding about one document: the rule (`feature`) or the field it is about. */
export function docSubject(
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

/** The owner of a finding: the document's own owner as steward, else the contract's, plus its teams. */
export function ownerOf(
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
export interface ResolvedDoc {
  system: string;
  docId: string;
  revision: number;
  contentClass?: string | undefined;
}

/** The open problem a revision resolves: its check, the field or rule key, and how it fired. */
export interface OpenProblem {
  check: string;
  key: string;
  severity: Severity;
  shadow: boolean;
}

/** The resolved finding of an open problem of a document. */
export function resolved(base: FindingBase, doc: ResolvedDoc, problem: OpenProblem): Finding {
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
