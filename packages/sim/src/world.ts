// The static side of a simulated run: which systems, how many documents, what each document is (class, owner,
// classification, ...), when connectors run and inventories are taken. Everything here is a pure function of the
// seed and an index, so the generator keeps only the few numbers per document that change.
import type { TopicCatalog } from '@tidemark/core';
import {
  connectorIndexFor,
  docIdFor,
  titleFor,
  type ConnectorProfile,
  type ContentClassProfile,
  type SystemProfile,
} from './profiles.js';
import { createRng, hash32, logNormal, pickWeighted, unitHash } from './prng.js';

const DAY = 86_400_000;

/** Share of documents that are deprecated and name their successor (`supersededBy`). */
const DEPRECATED_SHARE = 0.03;

/** One simulated system with its document numbering. */
export interface SystemModel {
  /** Position in the run's system list (part of every per-document hash). */
  idx: number;
  profile: SystemProfile;
  /** Documents of the system: present at the start plus created during the run. */
  docs: number;
  /** Documents present at the start: numbers [0, initial). */
  initial: number;
  /** Documents created during the run by the normal creation process: [initial, createdEnd). */
  createdEnd: number;
  /** All document numbers in use, including those created by `parity.missing` faults: [0, capacity). */
  capacity: number;
  connectors: ConnectorModel[];
}

/** One connector of a system and when it runs. */
export interface ConnectorModel {
  /** Position in the system's connector list. */
  c: number;
  profile: ConnectorProfile;
  /** Cadence of its runs: the run's cadence, but at most half its heartbeat, so healthy runs never look silent. */
  runEveryMs: number;
  /** Offset of its first run from the start of the run (schedulers spread connectors apart). */
  runOffsetMs: number;
}

/** Run-wide settings after defaults. */
export interface World {
  seed: number;
  start: number;
  end: number;
  durationMs: number;
  topics: TopicCatalog;
  /** End of the initial load in which every document present at the start is published once. */
  backfillEnd: number;
  changesPerDocPerDay: number;
  deletesPerDocPerDay: number;
  inventoryEveryMs: number;
  inventoryChunkSize: number;
  duplicateShare: number;
  binaryShare: number;
  staleShare: number;
  shuffleChunks: boolean;
  systems: SystemModel[];
}

/** What a document is, independent of time: a function of the seed, its system and its number. */
export interface DocStatic {
  docId: string;
  klass: ContentClassProfile;
  /** Index of the connector that syncs it. */
  connector: number;
  owner: string;
  classification: string;
  language: string;
  title: string;
  effectiveDate: string;
  deprecated: boolean;
  /** `<system>/<docId>` of the successor, for deprecated documents. */
  supersededBy: string | null;
  /** Named as the successor of a deprecated document: never deleted, never a fault victim. */
  isSuccessor: boolean;
  baseSizeBytes: number;
  initialRevision: number;
  attributes: Record<string, unknown>;
}

const rawDeprecated = (w: World, s: SystemModel, i: number) =>
  unitHash(w.seed, s.idx, i, 5) < DEPRECATED_SHARE;

/** Whether document `i` is deprecated; its successor is document i−1, which is never deprecated itself. */
export function isDeprecated(w: World, s: SystemModel, i: number): boolean {
  return i >= 1 && i < s.initial && rawDeprecated(w, s, i) && !rawDeprecated(w, s, i - 1);
}

/** The document id of number `i` of a system (also for ghost numbers beyond `capacity`). */
export function docIdOf(w: World, s: SystemModel, i: number): string {
  return docIdFor(s.profile, w.seed ^ (s.idx * 0x9e3779b1), i);
}

/** The content class of document `i` (cheaper than docStatic when only the class is needed). */
export function docClass(w: World, s: SystemModel, i: number): ContentClassProfile {
  return pickWeighted(
    s.profile.classes.map((c) => [c, c.weight] as const),
    unitHash(w.seed, s.idx, i, 1),
  );
}

/** Index of the connector that syncs document `i`. */
export function docConnector(w: World, s: SystemModel, i: number): number {
  return connectorIndexFor(s.profile, docClass(w, s, i).name);
}

/** The time-independent facts of document `i`. */
export function docStatic(w: World, s: SystemModel, i: number): DocStatic {
  const p = s.profile;
  const x = hash32(w.seed, s.idx, i, 0);
  const klass = docClass(w, s, i);
  const deprecated = isDeprecated(w, s, i);
  const sizeRng = createRng(w.seed, s.idx, i, 6);
  // Documents present at the start took effect some time in the last three years; new ones on the first day.
  const effectiveMs =
    i < s.initial ? w.start - Math.floor(1 + unitHash(w.seed, s.idx, i, 7) * 1000) * DAY : w.start;
  return {
    docId: docIdOf(w, s, i),
    klass,
    connector: connectorIndexFor(p, klass.name),
    owner: p.owners[hash32(w.seed, s.idx, i, 2) % p.owners.length]!,
    classification: pickWeighted(
      klass.classifications ?? p.classifications,
      unitHash(w.seed, s.idx, i, 3),
    ),
    language: pickWeighted(p.languages, unitHash(w.seed, s.idx, i, 4)),
    title: titleFor(klass, x),
    effectiveDate: new Date(effectiveMs).toISOString().slice(0, 10),
    deprecated,
    supersededBy: deprecated ? `${p.system}/${docIdOf(w, s, i - 1)}` : null,
    isSuccessor: isDeprecated(w, s, i + 1),
    baseSizeBytes: Math.max(200, Math.round(logNormal(sizeRng, klass.sizeMedianBytes, 0.6))),
    initialRevision: i < s.initial ? 1 + (hash32(w.seed, s.idx, i, 8) % 40) : 1,
    attributes: p.attributes(x, klass.name),
  };
}

/** Body size of a revision: the document's base size with a little per-revision variation, within the class's limit. */
export function revisionSize(
  w: World,
  s: SystemModel,
  i: number,
  revision: number,
  stat: DocStatic,
): number {
  const u = unitHash(w.seed, s.idx, i, revision, 9);
  const size = Math.max(1, Math.round(stat.baseSizeBytes * (0.85 + 0.3 * u)));
  return Math.min(size, stat.klass.sizeMaxBytes ?? Number.POSITIVE_INFINITY);
}

/** Start and end of a connector's n-th run (started, then succeeded or failed 2–6 minutes later). */
export function runSlot(
  w: World,
  s: SystemModel,
  c: number,
  n: number,
): { start: number; end: number } {
  const model = s.connectors[c]!;
  const start = w.start + model.runOffsetMs + n * model.runEveryMs;
  const durationMs = 120_000 + Math.floor(unitHash(w.seed, s.idx, c, n, 10) * 240_000);
  return { start, end: start + durationMs };
}

/** The first run slot that starts at or after `t`. */
export function slotAtOrAfter(w: World, s: SystemModel, c: number, t: number): number {
  const model = s.connectors[c]!;
  return Math.max(0, Math.ceil((t - w.start - model.runOffsetMs) / model.runEveryMs));
}

/** Longest a run takes (runSlot's upper bound), for heartbeat checks. */
export const MAX_RUN_MS = 360_000;

/** Times of the inventory snapshots: every `inventoryEveryMs`, the last one just before the end. */
export function inventoryTimes(w: World): number[] {
  const times: number[] = [];
  for (
    let t = w.start + w.inventoryEveryMs;
    t < w.end + w.inventoryEveryMs;
    t += w.inventoryEveryMs
  ) {
    const at = Math.min(t, w.end - 1000);
    if (at > w.backfillEnd && !times.includes(at)) times.push(at);
  }
  return times;
}

/** Time at which document `k` of the initial load is published. */
export function backfillTime(w: World, s: SystemModel, k: number): number {
  return w.start + Math.floor(((k + 0.5) * (w.backfillEnd - w.start)) / Math.max(1, s.initial));
}

/** Time at which the k-th document created during the run appears at the source. */
export function creationTime(w: World, s: SystemModel, k: number): number {
  const count = s.createdEnd - s.initial;
  return w.backfillEnd + Math.floor(((k + 0.5) * (w.end - w.backfillEnd)) / Math.max(1, count));
}

/** Digest of a document's access list at an ACL version, as the source and the index report it. */
export function aclHashOf(w: World, s: SystemModel, i: number, version: number): string {
  return `sha256:${hex8(hash32(w.seed, s.idx, i, version, 16))}${hex8(hash32(w.seed, s.idx, i, version, 17))}`;
}

/** The `data` of a clean revision of document `i` (faults are applied on top by the generator). */
export function revisionData(
  w: World,
  s: SystemModel,
  i: number,
  stat: DocStatic,
  state: { revision: number; reviewedAt: number; aclVersion: number },
): Record<string, unknown> {
  return {
    system: s.profile.system,
    docId: stat.docId,
    revision: state.revision,
    contentClass: stat.klass.name,
    title: stat.title,
    owner: stat.owner,
    effectiveDate: stat.effectiveDate,
    reviewedAt: new Date(state.reviewedAt).toISOString(),
    deprecated: stat.deprecated,
    supersededBy: stat.supersededBy,
    classification: stat.classification,
    language: stat.language,
    sizeBytes: revisionSize(w, s, i, state.revision, stat),
    aclHash: aclHashOf(w, s, i, state.aclVersion),
    attributes: stat.attributes,
  };
}

// Number#toString(16) is slow in V8 (a generic radix conversion for doubles); a byte table is ~10x faster.
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Eight lowercase hex digits of a 32-bit number. */
export function hex8(n: number): string {
  return HEX[(n >>> 24) & 255]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

/** Sets a dotted field path in event data, creating objects on the way. */
export function setPath(data: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let node = data;
  for (const seg of segments.slice(0, -1)) {
    const next = node[seg];
    // Copy rather than mutate: attribute objects may be shared with the document's static facts.
    node[seg] =
      typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...next } : {};
    node = node[seg] as Record<string, unknown>;
  }
  node[segments[segments.length - 1]!] = value;
}

/** Reads a dotted field path from event data. */
export function getPath(data: Record<string, unknown>, path: string): unknown {
  let node: unknown = data;
  for (const seg of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** Removes a dotted field path from event data (copying the objects on the way). */
export function deletePath(data: Record<string, unknown>, path: string): void {
  const segments = path.split('.');
  const last = segments.pop()!;
  let node = data;
  for (const seg of segments) {
    const next = node[seg];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) return;
    node[seg] = { ...next };
    node = node[seg] as Record<string, unknown>;
  }
  delete node[last];
}
