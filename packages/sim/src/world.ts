// The static side of a simulated run: which systems, how many documents, what each document is (class, owner,
// classification, ...), when connectors run and inventories are taken. Everything here is a pure function of the
// seed and an index, so the generator keeps only the few numbers per document that change.
import type { TopicCatalog } from '@tidemark/core';
import { docIdFor, titleFor, type ContentClassProfile, type SystemProfile } from './profiles.js';
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
  /** Offset of the connector's runs from the start of the run. */
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
  runEveryMs: number;
  inventoryEveryMs: number;
  inventoryChunkSize: number;
  duplicateShare: number;
  binaryShare: number;
  systems: SystemModel[];
}

/** What a document is, independent of time: a function of the seed, its system and its number. */
export interface DocStatic {
  docId: string;
  klass: ContentClassProfile;
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
    owner: p.owners[hash32(w.seed, s.idx, i, 2) % p.owners.length]!,
    classification: pickWeighted(p.classifications, unitHash(w.seed, s.idx, i, 3)),
    language: pickWeighted(p.languages, unitHash(w.seed, s.idx, i, 4)),
    title: titleFor(klass, x),
    effectiveDate: new Date(effectiveMs).toISOString().slice(0, 10),
    deprecated,
    supersededBy: deprecated ? `${p.system}/${docIdOf(w, s, i - 1)}` : null,
    isSuccessor: isDeprecated(w, s, i + 1),
    baseSizeBytes: Math.max(200, Math.round(logNormal(sizeRng, klass.sizeMedianBytes, 0.6))),
    initialRevision: i < s.initial ? 1 + (hash32(w.seed, s.idx, i, 8) % 40) : 1,
    attributes: p.attributes(x),
  };
}

/** Body size of a revision: the document's base size with a little per-revision variation. */
export function revisionSize(
  w: World,
  s: SystemModel,
  i: number,
  revision: number,
  base: number,
): number {
  const u = unitHash(w.seed, s.idx, i, revision, 9);
  return Math.max(1, Math.round(base * (0.85 + 0.3 * u)));
}

/** Start and end of a connector's n-th run (started, then succeeded or failed 2–6 minutes later). */
export function runSlot(w: World, s: SystemModel, n: number): { start: number; end: number } {
  const start = w.start + s.runOffsetMs + n * w.runEveryMs;
  const durationMs = 120_000 + Math.floor(unitHash(w.seed, s.idx, n, 10) * 240_000);
  return { start, end: start + durationMs };
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
