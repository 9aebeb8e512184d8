// The options of simulate(), validated and turned into the World every later step reads.
import { ConfigError, resolveTopics, type TopicCatalog } from '@tidemark/core';
import type { FaultPlan } from './faults.js';
import { missingCounts } from './plan.js';
import { profileFor, type SystemProfile } from './profiles.js';
import type { SystemModel, World } from './world.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Systems simulated when none are named: the three of the example contracts. */
export const DEFAULT_SYSTEMS = ['confluence', 'zendesk', 'gdrive'] as const;

/** Options of simulate(); times are epoch ms, durations ms. */
export interface SimulateOptions {
  /** Seed of every random choice: the same options give byte-identical output. */
  seed: number;
  /** Source systems. @default ['confluence', 'zendesk', 'gdrive'] */
  systems?: readonly string[];
  /** Documents in all, split evenly across systems (including those created during the run). */
  docs: number;
  /** Length of the run in days; may be fractional (0.1 = 2.4 hours). */
  days: number;
  /** Start of the run (epoch ms). */
  start: number;
  /** Faults to inject. @default no faults */
  faults?: FaultPlan;
  /** Content changes per document per day (Poisson). @default 1 */
  changesPerDocPerDay?: number;
  /** Deletions per document per day. @default 0.002 */
  deletesPerDocPerDay?: number;
  /** Share of the documents created during the run rather than present at the start. @default 0.05 */
  createShare?: number;
  /** Length of the initial load that publishes every document present at the start. @default min(1h, 5% of the run) */
  backfillMs?: number;
  /** Cadence of connector runs; a connector runs at least twice per heartbeat window. @default 1h */
  runEveryMs?: number;
  /** Cadence of inventory snapshots. @default min(6h, a quarter of the run) */
  inventoryEveryMs?: number;
  /** Ids per inventory chunk (the spec allows at most 10,000). @default 10000 */
  inventoryChunkSize?: number;
  /** Realistic delivery noise that no check should flag. */
  noise?: {
    /** Share of records delivered twice (same id and bytes, 1–30 s apart; poison records excepted). @default 0 */
    duplicateShare?: number;
    /**
     * Share of records (content, index, connector runs, inventory chunks) sent in CloudEvents binary mode: the
     * attributes as `ce_*` headers, `data` as the value, `content-type` for `datacontenttype` (the CloudEvents
     * Kafka protocol binding). @default 0
     */
    binaryShare?: number;
    /**
     * Share of documents whose superseded `index.upserted` (an older revision, with its own older `time`) is
     * delivered again 1–30 s after the index applied a newer one: an out-of-order, stale index event. @default 0
     */
    staleShare?: number;
  };
  /**
   * Shuffle the order of an inventory snapshot's chunks (the spec allows any order), seeded per snapshot.
   * @default false
   */
  shuffleChunks?: boolean;
  /** System profiles replacing or adding to the built-in ones (by system name). */
  profiles?: Readonly<Record<string, SystemProfile>>;
  /** Topic names. @default core's DEFAULT_TOPICS */
  topics?: Partial<TopicCatalog>;
}

/** Validates the options (ConfigError listing every problem) and fixes the run's world. */
export function buildWorld(o: SimulateOptions, plan: FaultPlan): World {
  const problems: string[] = [];
  const systems = [...(o.systems ?? DEFAULT_SYSTEMS)];
  const check = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  check(Number.isInteger(o.seed), `seed must be an integer, got ${o.seed}`);
  check(systems.length > 0, 'systems must name at least one system');
  check(new Set(systems).size === systems.length, `systems must not repeat: ${systems.join(', ')}`);
  check(
    systems.every((s) => /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(s)),
    `systems must be lowercase names, got ${systems.join(', ')}`,
  );
  check(
    Number.isInteger(o.docs) && o.docs >= systems.length * 10,
    `docs must be an integer ≥ 10 per system (${systems.length * 10}), got ${o.docs}`,
  );
  check(
    Number.isFinite(o.days) && o.days > 0 && o.days <= 366,
    `days must be in (0, 366], got ${o.days}`,
  );
  check(Number.isFinite(o.start), `start must be epoch milliseconds, got ${o.start}`);
  const positive = (name: string, v: number | undefined, allowZero = false) =>
    check(
      v === undefined || (Number.isFinite(v) && (allowZero ? v >= 0 : v > 0)),
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`,
    );
  positive('changesPerDocPerDay', o.changesPerDocPerDay, true);
  positive('deletesPerDocPerDay', o.deletesPerDocPerDay, true);
  positive('backfillMs', o.backfillMs);
  positive('runEveryMs', o.runEveryMs);
  positive('inventoryEveryMs', o.inventoryEveryMs);
  check(
    o.createShare === undefined || (o.createShare >= 0 && o.createShare < 1),
    `createShare must be in [0, 1), got ${o.createShare}`,
  );
  check(
    o.inventoryChunkSize === undefined ||
      (Number.isInteger(o.inventoryChunkSize) &&
        o.inventoryChunkSize >= 1 &&
        o.inventoryChunkSize <= 10_000),
    `inventoryChunkSize must be an integer from 1 to 10000, got ${o.inventoryChunkSize}`,
  );
  for (const key of ['duplicateShare', 'binaryShare', 'staleShare'] as const) {
    const v = o.noise?.[key];
    check(v === undefined || (v >= 0 && v <= 1), `noise.${key} must be in [0, 1], got ${v}`);
  }
  if (problems.length > 0) throw new ConfigError('invalid simulation options', problems);

  const durationMs = Math.round(o.days * DAY);
  const start = Math.round(o.start);
  const missing = missingCounts(plan, systems);
  const createShare = o.createShare ?? 0.05;
  return {
    seed: o.seed,
    start,
    end: start + durationMs,
    durationMs,
    topics: resolveTopics(o.topics),
    backfillEnd: start + (o.backfillMs ?? Math.min(HOUR, Math.round(durationMs / 20))),
    changesPerDocPerDay: o.changesPerDocPerDay ?? 1,
    deletesPerDocPerDay: o.deletesPerDocPerDay ?? 0.002,
    inventoryEveryMs: o.inventoryEveryMs ?? Math.min(6 * HOUR, Math.round(durationMs / 4)),
    inventoryChunkSize: o.inventoryChunkSize ?? 10_000,
    duplicateShare: o.noise?.duplicateShare ?? 0,
    binaryShare: o.noise?.binaryShare ?? 0,
    staleShare: o.noise?.staleShare ?? 0,
    shuffleChunks: o.shuffleChunks ?? false,
    systems: systems.map((system, idx): SystemModel => {
      const profile = profileFor(system, o.profiles);
      const docs = Math.floor(o.docs / systems.length) + (idx < o.docs % systems.length ? 1 : 0);
      const created = Math.round(docs * createShare);
      const initial = docs - created;
      return {
        idx,
        profile,
        docs,
        initial,
        createdEnd: docs,
        capacity: docs + (missing.get(system) ?? 0),
        // Connectors start their runs a few minutes apart, as schedulers spread them.
        connectors: profile.connectors.map((cp, c) => {
          const runEveryMs = Math.min(o.runEveryMs ?? HOUR, Math.floor(cp.heartbeatMs / 2));
          // Schedulers spread connectors apart by a few minutes.
          return {
            c,
            profile: cp,
            runEveryMs,
            runOffsetMs: ((idx * 7 + c * 11 + 3) * 60_000) % runEveryMs,
          };
        }),
      };
    }),
  };
}
