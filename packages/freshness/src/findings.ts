import {
  buildFinding,
  findingFingerprint,
  formatDuration,
  formatTime,
  type Finding,
  type FindingOwner,
  type FindingStatus,
} from '@tidemark/core';
import { DOC_FLAGS, type FreshnessLedger } from './ledger.js';
import { FRESHNESS_CHECKS, FRESHNESS_SEVERITY, type FreshnessPolicy } from './policy.js';

// Finding builders: they read the ledger as it stands when the check decides. Document findings keep
// their fingerprint on (check, system, docId) only, so a content class or connector learned later does
// not split one problem into two identities; the subject still carries both for routing and inhibition.

/** Why a review-overdue finding resolved. */
export type ReviewResolution = 'reviewed' | 'deleted' | 'deprecated' | 'review-clock-off';

function revision(key: number): number {
  return Math.floor(key / 2);
}

function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? formatTime(ms) : null;
}

function policyFields(policy: FreshnessPolicy): Pick<Finding, 'contract' | 'labels' | 'shadow'> {
  return {
    ...(policy.contract ? { contract: policy.contract } : {}),
    ...(policy.labels && Object.keys(policy.labels).length > 0
      ? { labels: { ...policy.labels } }
      : {}),
    ...(policy.shadow ? { shadow: true } : {}),
  };
}

function docOwner(ledger: FreshnessLedger, slot: number, policy: FreshnessPolicy): FindingOwner {
  const steward = ledger.owners.name(ledger.owner[slot] as number) ?? policy.owner.steward;
  const owner: FindingOwner = {};
  if (steward) owner.steward = steward;
  if (policy.owner.team) owner.team = policy.owner.team;
  if (policy.owner.platformOwner) owner.platformOwner = policy.owner.platformOwner;
  return owner;
}

function docFinding(
  ledger: FreshnessLedger,
  slot: number,
  check: string,
  rest: Pick<Finding, 'status' | 'severity' | 'summary' | 'evidence' | 'observedAt'> &
    Partial<Pick<Finding, 'traceparent' | 'dueBy'>>,
): Finding {
  const system = ledger.system(slot);
  const docId = ledger.docIds[slot] as string;
  const policy = ledger.policyOf(slot);
  const restricted = ((ledger.flags[slot] as number) & DOC_FLAGS.restricted) !== 0;
  return buildFinding({
    check,
    fingerprint: findingFingerprint(check, { system, docId }),
    subject: {
      system,
      docId,
      contentClass: ledger.contentClass(slot),
      connector: ledger.connectorNames.name(ledger.connector[slot] as number),
    },
    owner: docOwner(ledger, slot, policy),
    ...policyFields(policy),
    ...rest,
    classification: restricted ? 'restricted' : undefined,
  });
}

/** A `freshness.sync-lag` finding about the document's oldest source revision the index has not applied. */
export function syncLagFinding(
  ledger: FreshnessLedger,
  slot: number,
  status: FindingStatus,
  observedAt: number,
  traceparent: string | undefined,
): Finding {
  const sla = ledger.policyOf(slot).syncLagMs;
  const since = ledger.pendingSinceOf(slot);
  const pending = ledger.pendingKeyOf(slot);
  const latest = ledger.srcKey[slot] as number;
  const idx = ledger.idxKey[slot] as number;
  const where = `${ledger.system(slot)}/${ledger.docIds[slot] as string}`;
  // Only upserts are waited for (a deletion is parity.delete-missed's); a deletion can only end a wait.
  const deletion = latest % 2 === 1;
  const what = `source revision ${revision(pending >= 0 ? pending : latest)}`;
  const lagSeconds = (observedAt - since) / 1000;
  const summary =
    status === 'firing'
      ? `${where}: ${what} not applied by the index within the ${formatDuration(sla)} sync-lag SLA (waiting since ${formatTime(since)})`
      : deletion
        ? `${where}: deleted at the source (revision ${revision(latest)}), so no upsert is owed any more; its removal is parity's to check`
        : `${where}: the index caught up with revision ${revision(idx)} after ${formatDuration(observedAt - since)}`;
  return docFinding(ledger, slot, FRESHNESS_CHECKS.syncLag, {
    status,
    severity: FRESHNESS_SEVERITY.syncLag,
    summary,
    evidence: {
      sourceRevision: revision(pending >= 0 ? pending : latest),
      latestRevision: revision(latest),
      deletion,
      indexedRevision: idx >= 0 ? revision(idx) : null,
      pendingSince: formatTime(since),
      slaSeconds: sla / 1000,
      deadline: formatTime(since + sla),
      lagSeconds,
    },
    observedAt: formatTime(observedAt),
    traceparent,
  });
}

/** A `freshness.review-overdue` finding; firing ones carry the due date (`dueBy`) for steward tickets. */
export function reviewFinding(
  ledger: FreshnessLedger,
  slot: number,
  status: FindingStatus,
  observedAt: number,
  options: { due?: number; resolution?: ReviewResolution; traceparent?: string | undefined },
): Finding {
  const where = `${ledger.system(slot)}/${ledger.docIds[slot] as string}`;
  const interval = ledger.policyOf(slot).reviewIntervalMs;
  const reviewedAt = ledger.reviewedAt[slot] as number;
  const contentClass = ledger.contentClass(slot);
  const due = options.due ?? NaN;
  const summary =
    status === 'firing'
      ? `${where}${contentClass ? ` (${contentClass})` : ''} is past its review clock: last reviewed ${formatTime(reviewedAt)}, due every ${formatDuration(interval)}, overdue since ${formatTime(due)}`
      : `${where}: review no longer overdue (${options.resolution ?? 'reviewed'})`;
  return docFinding(ledger, slot, FRESHNESS_CHECKS.reviewOverdue, {
    status,
    severity: FRESHNESS_SEVERITY.reviewOverdue,
    summary,
    evidence: {
      revision: revision(ledger.srcKey[slot] as number),
      reviewedAt: isoOrNull(reviewedAt),
      slaSeconds: interval / 1000,
      ...(status === 'firing' ? { deadline: formatTime(due) } : { reason: options.resolution }),
    },
    observedAt: formatTime(observedAt),
    ...(status === 'firing' ? { dueBy: formatTime(due) } : {}),
    traceparent: options.traceparent,
  });
}

/** What a connector finding says of its connector while it fires; resolved, every one says the same. */
interface ConnectorFacts {
  readonly check: string;
  readonly severity: Finding['severity'];
  readonly firingSummary: string;
  readonly evidence: Finding['evidence'];
}

function connectorAt(ledger: FreshnessLedger, i: number): FreshnessLedger['connectors'][number] {
  const c = ledger.connectors[i];
  if (!c) throw new RangeError(`no connector at index ${i}`);
  return c;
}

function connectorFinding(
  ledger: FreshnessLedger,
  i: number,
  status: FindingStatus,
  observedAt: number,
  traceparent: string | undefined,
  facts: ConnectorFacts,
): Finding {
  const c = connectorAt(ledger, i);
  const policy = ledger.connectorPolicy(i);
  const owner: FindingOwner = {};
  if (policy.owner.team) owner.team = policy.owner.team;
  if (policy.owner.platformOwner) owner.platformOwner = policy.owner.platformOwner;
  return buildFinding({
    check: facts.check,
    subject: { system: c.system, connector: c.name },
    owner,
    ...policyFields(policy),
    status,
    severity: facts.severity,
    summary:
      status === 'firing'
        ? facts.firingSummary
        : `connector ${c.name} (${c.system}) succeeded again at ${formatTime(c.lastSuccess)}`,
    evidence: facts.evidence,
    observedAt: formatTime(observedAt),
    traceparent,
  });
}

/** A `freshness.connector-silent` finding: no succeeded run within the heartbeat window. */
export function connectorSilentFinding(
  ledger: FreshnessLedger,
  i: number,
  status: FindingStatus,
  observedAt: number,
  traceparent?: string,
): Finding {
  const c = connectorAt(ledger, i);
  const heartbeat = ledger.connectorPolicy(i).heartbeatMs;
  const last = Number.isNaN(c.lastSuccess)
    ? `no succeeded run since first seen ${formatTime(c.firstSeen)}`
    : `last succeeded run ${formatTime(c.lastSuccess)}`;
  return connectorFinding(ledger, i, status, observedAt, traceparent, {
    check: FRESHNESS_CHECKS.connectorSilent,
    severity: FRESHNESS_SEVERITY.connectorSilent,
    firingSummary: `connector ${c.name} (${c.system}) is silent: ${last}, heartbeat ${formatDuration(heartbeat)}`,
    evidence: {
      lastSuccessAt: isoOrNull(c.lastSuccess),
      firstSeenAt: formatTime(c.firstSeen),
      slaSeconds: heartbeat / 1000,
      ...(status === 'firing' ? { deadline: formatTime(ledger.silentDeadline(i)) } : {}),
    },
  });
}

/** A `freshness.connector-failing` finding: `failingRuns` failed runs in a row. */
export function connectorFailingFinding(
  ledger: FreshnessLedger,
  i: number,
  status: FindingStatus,
  observedAt: number,
  traceparent?: string,
): Finding {
  const c = connectorAt(ledger, i);
  const threshold = ledger.connectorPolicy(i).failingRuns;
  const lastError = c.failures.at(-1)?.error;
  return connectorFinding(ledger, i, status, observedAt, traceparent, {
    check: FRESHNESS_CHECKS.connectorFailing,
    severity: FRESHNESS_SEVERITY.connectorFailing,
    firingSummary: `connector ${c.name} (${c.system}) failed ${c.failures.length} runs in a row (threshold ${threshold})${lastError ? `: ${lastError}` : ''}`,
    evidence: {
      count: c.failures.length,
      threshold,
      runIds: c.failures.map((f) => f.runId),
      ...(lastError ? { lastError } : {}),
    },
  });
}
