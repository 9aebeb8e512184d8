// Shadow beside enforce: a system's candidate contract (a second file, `mode: shadow`) is evaluated on the same
// revisions as its enforced contract. Its findings are shadow findings with fingerprints of their own, and each
// revision's verdicts of the two are compared per check and key (field or rule name) into a per-period tally that
// ends in a `contract.shadow-diff` finding. Everything here is a pure function of (state, now).
import {
  buildFinding,
  fingerprint,
  formatTime,
  type Finding,
  type FindingOwner,
  type FindingSubject,
} from '@tidemark/core';
import type { ContractRef } from '@tidemark/contracts';
import type { Violation } from './evaluate.js';

/** Check id of the periodic comparison of a candidate with its enforced contract. */
export const SHADOW_DIFF_CHECK = 'contract.shadow-diff';

/** How long one shadow-diff period lasts (a tally per system and partition). @default 1 hour */
export const DEFAULT_SHADOW_DIFF_PERIOD_MS = 3_600_000;

/** Which contract found a violation on one revision: the candidate only, the enforced one only, or both. */
export type ShadowSide = 'candidate' | 'enforced' | 'both';

/** One check and key (field or rule name) and which side found it on a revision. */
export interface ShadowComparison {
  check: Violation['check'];
  key: string;
  side: ShadowSide;
}

/** Counts of one `check|key` in a period: revisions where only the candidate, only the enforced, or both found it. */
export type ShadowCounts = [candidate: number, enforced: number, both: number];

/** The tally of one system's comparisons on one partition, for the period [start, end); idle when `revisions` is 0. */
export interface ShadowDiffEntry {
  start: number;
  end: number;
  /** Revisions both contracts evaluated in the period. */
  revisions: number;
  /** `<check>|<key>` → counts; only keys some side found. */
  counts: Record<string, ShadowCounts>;
  /** Whether the last diff emitted was firing (they disagreed): a later period in agreement resolves it. */
  firing: boolean;
}

/**
 * The candidate's fingerprint for a finding: the enforced contract's finding about the same check and subject
 * keeps its own, so the two never replace each other in a compacted topic or in the router's state.
 */
export function candidateFingerprint(check: string, subject: FindingSubject): string {
  return fingerprint({ check, subject, contract: 'shadow-candidate' });
}

/** The candidate's version of a finding built by the shared code: its own fingerprint, and shadow. */
export function asCandidateFinding(finding: Finding): Finding {
  return {
    ...finding,
    fingerprint: candidateFingerprint(finding.check, finding.subject),
    shadow: true,
  };
}

/** Compares the violations of one revision under the enforced contract and under the candidate, per check and key. */
export function compareViolations(
  enforced: readonly Violation[],
  candidate: readonly Violation[],
): ShadowComparison[] {
  const sides = new Map<string, ShadowComparison>();
  for (const v of enforced)
    sides.set(`${v.check}|${v.key}`, { check: v.check, key: v.key, side: 'enforced' });
  for (const v of candidate) {
    const id = `${v.check}|${v.key}`;
    const seen = sides.get(id);
    sides.set(id, { check: v.check, key: v.key, side: seen ? 'both' : 'candidate' });
  }
  return [...sides.values()];
}

const SIDE_INDEX: Readonly<Record<ShadowSide, 0 | 1 | 2>> = { candidate: 0, enforced: 1, both: 2 };

/**
 * Adds one revision's comparisons to a tally, starting a new period (aligned to `periodMs` since the epoch) when
 * there is none. The caller closes a period that ended (closeShadowDiff) before it counts into it.
 */
export function countShadowDiff(
  entry: ShadowDiffEntry | undefined,
  comparisons: readonly ShadowComparison[],
  now: number,
  periodMs: number,
): ShadowDiffEntry {
  const start = Math.floor(now / periodMs) * periodMs;
  const next: ShadowDiffEntry =
    entry && entry.revisions > 0
      ? { ...entry, counts: { ...entry.counts } }
      : { start, end: start + periodMs, revisions: 0, counts: {}, firing: entry?.firing ?? false };
  next.revisions += 1;
  for (const c of comparisons) {
    const id = `${c.check}|${c.key}`;
    const counts: ShadowCounts = [...(next.counts[id] ?? [0, 0, 0])];
    counts[SIDE_INDEX[c.side]] += 1;
    next.counts[id] = counts;
  }
  return next;
}

/** What a shadow-diff finding needs besides the tally. */
export interface ShadowDiffContext {
  system: string;
  partition: number;
  enforced: ContractRef | undefined;
  candidate: ContractRef | undefined;
  owner: FindingOwner;
}

/** A tally between periods: nothing counted yet (`revisions: 0`), so never due. */
const IDLE: ShadowDiffEntry = { start: 0, end: 0, revisions: 0, counts: {}, firing: false };

/** The outcome of closing a period: the finding to emit (if any) and the entry to keep (undefined: delete it). */
export interface ShadowDiffClose {
  finding: Finding | undefined;
  entry: ShadowDiffEntry | undefined;
}

/**
 * Closes the tally's period when it has ended by `now`: a `contract.shadow-diff` finding (info, shadow) firing when
 * the contracts disagreed on some revision of the period, resolved when they agreed on every one after a firing
 * diff; nothing for agreement after agreement, nor for an idle tally (no revision compared). Its fingerprint is per system and partition (each partition tallies
 * its own documents) and its time is the period's end, so its record id is deterministic.
 */
export function closeShadowDiff(
  entry: ShadowDiffEntry,
  now: number,
  context: ShadowDiffContext,
): ShadowDiffClose {
  // An idle tally (no revision since the last close) waits for evidence; it is kept only to remember `firing`.
  if (entry.revisions === 0) return { finding: undefined, entry: entry.firing ? entry : undefined };
  if (now < entry.end) return { finding: undefined, entry };
  const rules = Object.entries(entry.counts)
    .map(([id, [candidate, enforced, both]]) => {
      const [check, key] = splitId(id);
      return { check, rule: key, candidateOnly: candidate, enforcedOnly: enforced, both };
    })
    .sort(
      (a, b) =>
        b.candidateOnly + b.enforcedOnly - (a.candidateOnly + a.enforcedOnly) || byName(a, b),
    );
  const candidateOnly = rules
    .filter((r) => r.candidateOnly > 0)
    .sort((a, b) => b.candidateOnly - a.candidateOnly || byName(a, b));
  const enforcedOnly = rules
    .filter((r) => r.enforcedOnly > 0)
    .sort((a, b) => b.enforcedOnly - a.enforcedOnly || byName(a, b));
  const disagree = candidateOnly.length > 0 || enforcedOnly.length > 0;
  const { system, partition, enforced, candidate } = context;
  const subject: FindingSubject = { system, partition: String(partition) };
  const version = (ref: ContractRef | undefined) => (ref ? `v${ref.version}` : 'unknown');
  const list = (items: typeof rules, pick: (r: (typeof rules)[number]) => number) =>
    items.length === 0
      ? 'none'
      : `${items.reduce((n, r) => n + pick(r), 0)} (${items
          .slice(0, 3)
          .map((r) => `${r.rule} ×${pick(r)}`)
          .join(', ')}${items.length > 3 ? ', …' : ''})`;
  const finding = buildFinding({
    check: SHADOW_DIFF_CHECK,
    status: disagree ? 'firing' : 'resolved',
    severity: 'info',
    subject,
    owner: context.owner,
    summary: `${system}: shadow candidate ${version(candidate)} vs enforced ${version(enforced)} over ${entry.revisions} revisions (partition ${partition}): candidate only ${list(candidateOnly, (r) => r.candidateOnly)}; enforced only ${list(enforcedOnly, (r) => r.enforcedOnly)}`,
    evidence: {
      window: { start: formatTime(entry.start), end: formatTime(entry.end) },
      partition,
      revisions: entry.revisions,
      ...(candidate ? { candidate: { ...candidate } } : {}),
      ...(enforced ? { enforced: { ...enforced } } : {}),
      rules,
    },
    observedAt: formatTime(entry.end),
    ...(candidate ? { contract: { ...candidate } } : {}),
    shadow: true,
  });
  // A period in agreement emits only to resolve a firing diff. The next period starts with its first revision
  // (countShadowDiff); until then an idle tally remembers a firing diff, and nothing else is kept.
  return {
    finding: disagree || entry.firing ? finding : undefined,
    entry: disagree ? { ...IDLE, firing: true } : undefined,
  };
}

// Code-unit order, not localeCompare: the finding must not depend on the host's locale.
function byName(a: { check: string; rule: string }, b: { check: string; rule: string }): number {
  const x = `${a.check}|${a.rule}`;
  const y = `${b.check}|${b.rule}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

function splitId(id: string): [check: string, key: string] {
  const bar = id.indexOf('|');
  return [id.slice(0, bar), id.slice(bar + 1)];
}
