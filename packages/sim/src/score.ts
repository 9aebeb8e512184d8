import { canonicalJson, ConfigError, parseTime } from '@tidemark/core';
import { FAULT_KINDS } from './faults.js';
import type { TruthEntry, TruthSubject } from './types.js';

/** The part of a finding the scorecard reads (a full core `Finding` fits). */
export interface ScoredFinding {
  check: string;
  status: 'firing' | 'resolved';
  subject: { system: string; [key: string]: string | undefined };
  observedAt: string;
  fingerprint?: string;
  shadow?: boolean;
}

type SubjectKey = keyof TruthSubject;

/**
 * Which subject keys identify the problem of each check. A finding matches a truth entry of the same check when, for
 * every key listed here, both name the same value or neither names one — strictly: a key the truth names and the
 * finding lacks, or a key the finding has and the truth does not name, is a mismatch (a system-wide finding is not a
 * document's, a document's finding is not the system's). Only the keys a truth entry lists in `covers` are left
 * open (e.g. `docId` for "any document of the system" during a connector outage). `field` and `feature` name one
 * thing — the data field — so the truth's value is compared with the finding's `field`, else its `feature`, with a
 * leading `data.` ignored (a spelling, not a leniency).
 */
export const MATCH_KEYS: Readonly<Record<string, readonly SubjectKey[]>> = {
  'envelope.invalid': ['system'],
  'contract.required': ['system', 'docId', 'field'],
  'contract.allowed': ['system', 'docId', 'field'],
  'contract.rule': ['system', 'docId'],
  'contract.reference': ['system', 'docId'],
  'contract.null-rate': ['system', 'field'],
  'contract.schema': ['system', 'docId'],
  'freshness.sync-lag': ['system', 'docId'],
  'freshness.review-overdue': ['system', 'docId'],
  'freshness.connector-silent': ['system', 'connector'],
  'freshness.connector-failing': ['system', 'connector'],
  'parity.delete-missed': ['system', 'docId'],
  'parity.resurrected': ['system', 'docId'],
  'parity.acl-mismatch': ['system', 'docId'],
  'parity.orphan': ['system', 'docId'],
  'parity.missing': ['system', 'docId'],
  'parity.mass-removal': ['system'],
  'parity.snapshot-incomplete': ['system', 'feature'],
  'drift.numeric': ['system', 'feature'],
  'drift.categorical': ['system', 'feature'],
  'drift.volume': ['system', 'connector'],
};
const DEFAULT_MATCH_KEYS: readonly SubjectKey[] = [
  'system',
  'docId',
  'connector',
  'field',
  'feature',
];

const norm = (v: string | undefined) => (v === undefined ? undefined : v.replace(/^data\./, ''));

/** Whether a finding is about the subject of a truth entry (same check, strictly matching subject keys). */
export function truthMatches(entry: TruthEntry, finding: ScoredFinding): boolean {
  if (entry.check !== finding.check || entry.subject.system !== finding.subject.system)
    return false;
  const keys = MATCH_KEYS[entry.check] ?? DEFAULT_MATCH_KEYS;
  const compared = new Set<SubjectKey>();
  for (const key of keys) {
    // field and feature are one identity: compared once.
    const slot = key === 'feature' ? 'field' : key;
    if (key === 'system' || compared.has(slot)) continue;
    compared.add(slot);
    if (entry.covers?.includes(key)) continue;
    const want =
      slot === 'field'
        ? norm(entry.subject.field ?? entry.subject.feature)
        : norm(entry.subject[slot]);
    const have =
      slot === 'field'
        ? norm(finding.subject['field'] ?? finding.subject['feature'])
        : norm(finding.subject[slot]);
    // Absent on both sides is equal; absent on one side is not.
    if (want !== have) {
      if (slot !== 'field' || want === undefined || have === undefined) return false;
      // A finding may name the field and the feature (drift): the truth's value matches either.
      if (norm(finding.subject['feature']) !== want && norm(finding.subject['field']) !== want)
        return false;
    }
  }
  return true;
}

/** Time to detect over the detected faults of one check, in ms. */
export interface TimeToDetect {
  meanMs: number;
  /** Nearest-rank median (the lower middle value for an even count). */
  p50Ms: number;
  maxMs: number;
}

/** A firing finding that matches no injected fault. */
export interface FalseAlarm {
  fingerprint: string;
  subject: ScoredFinding['subject'];
  observedAt: string;
}

/** Detection counts and rates, of one check or of all of them. */
export interface ScoreCounts {
  /** Required truth entries (faults that must be found). */
  injected: number;
  detected: number;
  /** detected / injected; null when nothing was injected. */
  recall: number | null;
  /** Distinct problems (fingerprints) the check reported firing. */
  findings: number;
  truePositives: number;
  falsePositives: number;
  /** truePositives / findings; null when the check reported nothing. */
  precision: number | null;
}

/** How well one check did. */
export interface CheckScore extends ScoreCounts {
  check: string;
  ttd: TimeToDetect | null;
  /** Up to `sampleSize` missed faults. */
  missed: TruthEntry[];
  /** Up to `sampleSize` false alarms. */
  falseAlarms: FalseAlarm[];
}

/** Recall, precision and time to detect per check, and in total. */
export interface Scorecard {
  checks: CheckScore[];
  total: ScoreCounts;
}

/** Options of score(). */
export interface ScoreOptions {
  truth: readonly TruthEntry[];
  /** Findings as read back from `dq.findings.v1` or `findings.jsonl`, firing and resolved. */
  findings: Iterable<ScoredFinding>;
  /** How much earlier than `injectedAt` a finding may be observed and still count (clock rounding). @default 1000 */
  earlyToleranceMs?: number;
  /**
   * Count findings in shadow mode (a shadow contract's checks still detect; they just page nobody).
   * @default true
   */
  includeShadow?: boolean;
  /** Checks left out of the scorecard entirely (truth and findings). @default [] */
  ignoreChecks?: readonly string[];
  /** Missed faults and false alarms listed per check. @default 5 */
  sampleSize?: number;
}

interface Candidates {
  byDoc: Map<string, Array<{ entry: TruthEntry; at: number; n: number }>>;
  wildcard: Array<{ entry: TruthEntry; at: number; n: number }>;
}

/** Grades findings against the ground truth of a simulated run. */
export function score(options: ScoreOptions): Scorecard {
  const tolerance = options.earlyToleranceMs ?? 1000;
  const ignored = new Set(options.ignoreChecks ?? []);
  const sampleSize = options.sampleSize ?? 5;
  const truth = options.truth.filter((t) => !ignored.has(t.check));

  // Truth indexed by check and system, and by document where the check identifies documents.
  const index = new Map<string, Candidates>();
  const firstSeen: number[] = truth.map(() => Number.POSITIVE_INFINITY);
  truth.forEach((entry, n) => {
    const key = `${entry.check}\u0000${entry.subject.system}`;
    let c = index.get(key);
    if (!c) index.set(key, (c = { byDoc: new Map(), wildcard: [] }));
    const item = { entry, at: parseTime(entry.injectedAt), n };
    const docKeyed = (MATCH_KEYS[entry.check] ?? DEFAULT_MATCH_KEYS).includes('docId');
    if (docKeyed && entry.subject.docId !== undefined) {
      const list = c.byDoc.get(entry.subject.docId) ?? [];
      list.push(item);
      c.byDoc.set(entry.subject.docId, list);
    } else {
      c.wildcard.push(item);
    }
  });

  // Distinct problems per check: identity → whether any firing of it matched a fault.
  const identities = new Map<string, Map<string, { tp: boolean; first: ScoredFinding }>>();
  for (const finding of options.findings) {
    if (finding.status !== 'firing' || ignored.has(finding.check)) continue;
    if (finding.shadow && options.includeShadow === false) continue;
    const id = finding.fingerprint ?? canonicalJson({ c: finding.check, s: finding.subject });
    let perCheck = identities.get(finding.check);
    if (!perCheck) identities.set(finding.check, (perCheck = new Map()));
    let identity = perCheck.get(id);
    if (!identity) perCheck.set(id, (identity = { tp: false, first: finding }));
    const observed = parseTime(finding.observedAt);
    const c = index.get(`${finding.check}\u0000${finding.subject.system}`);
    if (!c) continue;
    const docId = finding.subject['docId'];
    const pool =
      docId === undefined
        ? [...c.wildcard, ...[...c.byDoc.values()].flat()]
        : [...c.wildcard, ...(c.byDoc.get(docId) ?? [])];
    for (const { entry, at, n } of pool) {
      if (observed < at - tolerance || !truthMatches(entry, finding)) continue;
      identity.tp = true;
      if (observed < firstSeen[n]!) firstSeen[n] = observed;
    }
  }

  const checks = new Set<string>([
    ...identities.keys(),
    ...truth.filter((t) => !t.optional).map((t) => t.check),
  ]);
  const order = (c: string) => {
    const k = (FAULT_KINDS as readonly string[]).indexOf(c);
    return k < 0 ? FAULT_KINDS.length : k;
  };
  const rows = [...checks]
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((check): CheckScore => {
      const required = truth
        .map((entry, n) => ({ entry, n }))
        .filter(({ entry }) => entry.check === check && !entry.optional);
      const detected = required.filter(({ n }) => Number.isFinite(firstSeen[n]!));
      const ttds = detected.map(({ entry, n }) =>
        Math.max(0, firstSeen[n]! - parseTime(entry.injectedAt)),
      );
      const found = [...(identities.get(check)?.entries() ?? [])];
      const tp = found.filter(([, v]) => v.tp).length;
      return {
        check,
        injected: required.length,
        detected: detected.length,
        recall: required.length === 0 ? null : detected.length / required.length,
        findings: found.length,
        truePositives: tp,
        falsePositives: found.length - tp,
        precision: found.length === 0 ? null : tp / found.length,
        ttd: ttds.length === 0 ? null : timeToDetect(ttds),
        missed: required
          .filter(({ n }) => !Number.isFinite(firstSeen[n]!))
          .slice(0, sampleSize)
          .map(({ entry }) => entry),
        falseAlarms: found
          .filter(([, v]) => !v.tp)
          .slice(0, sampleSize)
          .map(([fingerprint, v]) => ({
            fingerprint,
            subject: v.first.subject,
            observedAt: v.first.observedAt,
          })),
      };
    });
  const sum = (f: (r: CheckScore) => number) => rows.reduce((acc, r) => acc + f(r), 0);
  const injected = sum((r) => r.injected);
  const detected = sum((r) => r.detected);
  const findings = sum((r) => r.findings);
  const truePositives = sum((r) => r.truePositives);
  return {
    checks: rows,
    total: {
      injected,
      detected,
      recall: injected === 0 ? null : detected / injected,
      findings,
      truePositives,
      falsePositives: findings - truePositives,
      precision: findings === 0 ? null : truePositives / findings,
    },
  };
}

function timeToDetect(values: number[]): TimeToDetect {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p50Ms: sorted[Math.ceil(sorted.length / 2) - 1]!,
    maxMs: sorted[sorted.length - 1]!,
  };
}

/**
 * Reads one finding from a line of `findings.jsonl` or a `dq.findings.v1` record: a finding object, a
 * `tidemark.finding` CloudEvent, or a record envelope `{ topic, key, value }` holding one. Returns undefined for
 * other events (alerts, tickets); throws RangeError on a finding that lacks what the scorecard needs.
 */
export function readFinding(value: unknown): ScoredFinding | undefined {
  let v: unknown = value;
  if (isObject(v) && typeof v['value'] === 'string' && 'topic' in v)
    v = JSON.parse(v['value']) as unknown;
  if (isObject(v) && typeof v['type'] === 'string' && 'specversion' in v) {
    if (v['type'] !== 'tidemark.finding') return undefined;
    v = v['data'];
  }
  if (!isObject(v) || typeof v['check'] !== 'string') return undefined;
  const subject = v['subject'];
  if (
    (v['status'] !== 'firing' && v['status'] !== 'resolved') ||
    !isObject(subject) ||
    typeof subject['system'] !== 'string' ||
    typeof v['observedAt'] !== 'string'
  ) {
    throw new RangeError(`finding of ${v['check']} lacks status, subject.system or observedAt`);
  }
  parseTime(v['observedAt']);
  return v as unknown as ScoredFinding;
}

/** Reads ground truth as written by the CLI (`{ meta, truth }` or a bare array); throws ConfigError listing every problem. */
export function readTruth(value: unknown): TruthEntry[] {
  const list = Array.isArray(value) ? value : isObject(value) ? value['truth'] : undefined;
  if (!Array.isArray(list))
    throw new ConfigError('invalid truth', [
      'expected a list of truth entries or { truth: [...] }',
    ]);
  const problems: string[] = [];
  list.forEach((e, i) => {
    const at = `truth[${i}]`;
    if (!isObject(e)) return void problems.push(`${at}: must be an object`);
    if (typeof e['check'] !== 'string') problems.push(`${at}.check: must be a string`);
    if (!isObject(e['subject']) || typeof e['subject']['system'] !== 'string')
      problems.push(`${at}.subject.system: must be a string`);
    for (const key of ['injectedAt', 'detectableAt'] as const) {
      if (e[key] === undefined && key === 'detectableAt') continue;
      try {
        parseTime(e[key] as string);
      } catch {
        problems.push(`${at}.${key}: must be an RFC 3339 time, got ${JSON.stringify(e[key])}`);
      }
    }
    if (typeof e['fault'] !== 'number') problems.push(`${at}.fault: must be a number`);
  });
  if (problems.length > 0) throw new ConfigError('invalid truth', problems);
  return list as TruthEntry[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
