import { parseDuration } from '@tidemark/core';
import { hash32, mix32 } from './prng.js';

/** What the simulator knows about one content class of a system. */
export interface ContentClassProfile {
  /** Class name as in `data.contentClass` and the contract's `classes`. */
  name: string;
  /** Share of the system's documents in this class (relative weight). */
  weight: number;
  /** Review clock of the class; clean documents are re-attested well before it runs out. Absent: no clock. */
  reviewIntervalMs?: number;
  /** How long the index may take to apply a change. */
  syncLagMs: number;
  /** How long the index may take to apply a deletion. */
  deleteSlaMs: number;
  /** How long the index may enforce an access list different from the source's. */
  aclSlaMs: number;
  /** Median body size in bytes (sizes are log-normal around it). */
  sizeMedianBytes: number;
  /** Largest body size a clean document of the class has (the contract's limit). */
  sizeMaxBytes?: number;
  /** Classifications of this class, when narrower than the system's. */
  classifications?: ReadonlyArray<readonly [string, number]>;
  /** Title prefix, e.g. "Runbook". */
  titlePrefix: string;
}

/** A connector instance that syncs (some classes of) a system into the index. */
export interface ConnectorProfile {
  name: string;
  /** Classes it syncs; absent: every class no other connector names. */
  classes?: readonly string[];
  /** Window within which it must have a successful run (the contract's heartbeat). */
  heartbeatMs: number;
  /** Failed runs in a row that make it "failing". */
  failingRuns: number;
}

/** What the simulator knows about one source system: its connectors, classes, vocabularies and SLAs. */
export interface SystemProfile {
  system: string;
  connectors: readonly ConnectorProfile[];
  classes: readonly ContentClassProfile[];
  /** Steward ids (email-like) documents are owned by. */
  owners: readonly string[];
  classifications: ReadonlyArray<readonly [string, number]>;
  languages: ReadonlyArray<readonly [string, number]>;
  /** Grace period of `supersededBy` references. */
  referenceGraceMs: number;
  /**
   * The contract's mass-removal threshold: more than `share` of the system's documents removed from the index
   * within `windowMs`, and at least `minDocuments`. @default the contracts' defaults (0.5, 15m, 100)
   */
  massRemoval?: { share: number; windowMs: number; minDocuments: number };
  /** How long an incomplete inventory snapshot waits for its chunks. @default 1h (the contracts' default) */
  snapshotExpiryMs?: number;
  /** Window of the contract's null-rate limits. */
  nullRateWindowMs: number;
  /** Window of the drift features: by `<kind>:<field>` (e.g. `categorical:language`), else by kind. */
  driftWindowMs: Readonly<Record<string, number>>;
  /** Shape of document ids. */
  idStyle: 'numeric9' | 'numeric12' | 'drive' | 'slug';
  /** System-specific `attributes` of a document, from a per-document random number in [0, 2^32). */
  attributes: (h: number, contentClass: string) => Record<string, unknown>;
}

const h = parseDuration;

const FIRST = [
  'ana',
  'ben',
  'chloe',
  'dmitri',
  'elif',
  'farah',
  'goran',
  'hana',
  'ines',
  'jonas',
  'kemal',
  'lena',
  'mateo',
  'nora',
  'oskar',
  'priya',
  'quentin',
  'rosa',
  'sven',
  'tariq',
  'ulla',
  'viktor',
  'wen',
  'yusuf',
];
const LAST = [
  'alvarez',
  'brandt',
  'chen',
  'dubois',
  'eriksen',
  'fischer',
  'garcia',
  'haddad',
  'ivanova',
  'jensen',
  'kowalski',
  'lindqvist',
  'moreau',
  'nakamura',
  'okafor',
  'petrov',
  'rossi',
  'sato',
  'tanaka',
  'weber',
];

/** Deterministic steward ids for a system: `first.last@example.com`. */
function owners(system: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const f = FIRST[(i * 7 + system.length) % FIRST.length]!;
    const l = LAST[(i * 11 + system.charCodeAt(0)) % LAST.length]!;
    out.push(`${f}.${l}@example.com`);
  }
  return [...new Set(out)];
}

const SPACES = ['ENG', 'OPS', 'POL'];
const SERVICES = ['payments', 'search', 'identity', 'billing', 'kafka', 'storage', 'edge'];
const SECTIONS = ['billing', 'accounts', 'shipping', 'returns', 'security', 'integrations'];
const MACRO_CATEGORIES = ['refunds', 'escalation', 'greeting', 'shipping', 'account'];
const MIME = ['application/vnd.google-apps.document', 'application/pdf'];

/**
 * Built-in profiles of the example systems. Classes, vocabularies and SLAs mirror contracts/<system>.yaml so that
 * clean documents satisfy them (a test checks every clean event against the loaded contracts).
 */
export const DEFAULT_PROFILES: Readonly<Record<string, SystemProfile>> = {
  confluence: {
    system: 'confluence',
    connectors: [{ name: 'confluence-prod', heartbeatMs: h('1h'), failingRuns: 3 }],
    classes: [
      {
        name: 'policy',
        weight: 15,
        reviewIntervalMs: h('365d'),
        syncLagMs: h('10m'),
        deleteSlaMs: h('30m'),
        aclSlaMs: h('15m'),
        sizeMedianBytes: 14_000,
        classifications: [
          ['internal', 60],
          ['confidential', 30],
          ['restricted', 10],
        ],
        titlePrefix: 'Policy',
      },
      {
        name: 'runbook',
        weight: 45,
        reviewIntervalMs: h('90d'),
        syncLagMs: h('5m'),
        deleteSlaMs: h('30m'),
        aclSlaMs: h('15m'),
        sizeMedianBytes: 9_000,
        titlePrefix: 'Runbook',
      },
      {
        name: 'postmortem',
        weight: 40,
        syncLagMs: h('1h'),
        deleteSlaMs: h('30m'),
        aclSlaMs: h('15m'),
        sizeMedianBytes: 12_000,
        titlePrefix: 'Postmortem',
      },
    ],
    owners: owners('confluence', 14),
    classifications: [
      ['public', 10],
      ['internal', 60],
      ['confidential', 25],
      ['restricted', 5],
    ],
    languages: [
      ['en', 80],
      ['de', 10],
      ['fr', 5],
      ['ja', 5],
    ],
    referenceGraceMs: h('1h'),
    massRemoval: { share: 0.2, windowMs: h('15m'), minDocuments: 200 },
    snapshotExpiryMs: h('2h'),
    nullRateWindowMs: h('1h'),
    driftWindowMs: {
      numeric: h('1h'),
      categorical: h('6h'),
      'categorical:classification': h('1d'),
      volume: h('1h'),
    },
    idStyle: 'numeric9',
    attributes: (x, klass) => ({
      space: klass === 'policy' ? 'POL' : SPACES[x % 2]!,
      labels: x % 3 === 0 ? ['kb'] : ['kb', klass],
      ...(klass === 'runbook' ? { service: SERVICES[(x >>> 4) % SERVICES.length]! } : {}),
      ...(klass === 'postmortem' ? { severity: `sev${1 + ((x >>> 6) % 4)}` } : {}),
    }),
  },
  zendesk: {
    system: 'zendesk',
    connectors: [{ name: 'zendesk-guide', heartbeatMs: h('6h'), failingRuns: 2 }],
    classes: [
      {
        name: 'article',
        weight: 50,
        reviewIntervalMs: h('180d'),
        syncLagMs: h('30m'),
        deleteSlaMs: h('1h'),
        aclSlaMs: h('30m'),
        sizeMedianBytes: 4_500,
        titlePrefix: 'Article',
      },
      {
        name: 'faq',
        weight: 25,
        reviewIntervalMs: h('90d'),
        syncLagMs: h('30m'),
        deleteSlaMs: h('1h'),
        aclSlaMs: h('30m'),
        sizeMedianBytes: 2_000,
        sizeMaxBytes: 20_000,
        titlePrefix: 'FAQ',
      },
      {
        name: 'macro',
        weight: 25,
        syncLagMs: h('1h'),
        deleteSlaMs: h('1h'),
        aclSlaMs: h('30m'),
        sizeMedianBytes: 900,
        classifications: [['internal', 1]],
        titlePrefix: 'Macro',
      },
    ],
    owners: owners('zendesk', 10),
    classifications: [
      ['public', 65],
      ['internal', 35],
    ],
    languages: [
      ['en', 55],
      ['en-GB', 5],
      ['es', 15],
      ['fr', 10],
      ['de', 10],
      ['ja', 5],
    ],
    referenceGraceMs: h('2h'),
    massRemoval: { share: 0.3, windowMs: h('30m'), minDocuments: 50 },
    snapshotExpiryMs: h('1h'),
    nullRateWindowMs: h('1h'),
    driftWindowMs: { numeric: h('6h'), categorical: h('1d'), volume: h('1d') },
    idStyle: 'numeric12',
    attributes: (x, klass) => ({
      section: SECTIONS[x % SECTIONS.length]!,
      locale_count: 1 + ((x >>> 3) % 12),
      ...(klass === 'macro'
        ? { category: MACRO_CATEGORIES[(x >>> 7) % MACRO_CATEGORIES.length]! }
        : {}),
    }),
  },
  gdrive: {
    system: 'gdrive',
    connectors: [
      { name: 'gdrive-policies', classes: ['policy'], heartbeatMs: h('2h'), failingRuns: 3 },
      { name: 'gdrive-people', classes: ['doc'], heartbeatMs: h('6h'), failingRuns: 5 },
    ],
    classes: [
      {
        name: 'policy',
        weight: 40,
        reviewIntervalMs: h('365d'),
        syncLagMs: h('30m'),
        deleteSlaMs: h('15m'),
        aclSlaMs: h('10m'),
        sizeMedianBytes: 40_000,
        titlePrefix: 'Policy',
      },
      {
        name: 'doc',
        weight: 60,
        reviewIntervalMs: h('180d'),
        syncLagMs: h('30m'),
        deleteSlaMs: h('15m'),
        aclSlaMs: h('10m'),
        sizeMedianBytes: 25_000,
        titlePrefix: 'Guide',
      },
    ],
    owners: owners('gdrive', 12),
    classifications: [
      ['internal', 40],
      ['confidential', 45],
      ['restricted', 15],
    ],
    languages: [
      ['en', 85],
      ['de', 10],
      ['fr', 5],
    ],
    referenceGraceMs: h('4h'),
    massRemoval: { share: 0.1, windowMs: h('1h'), minDocuments: 50 },
    snapshotExpiryMs: h('3h'),
    nullRateWindowMs: h('6h'),
    driftWindowMs: { numeric: h('1h'), categorical: h('1d'), volume: h('1h') },
    idStyle: 'drive',
    attributes: (x) => ({
      mimeType: MIME[x % MIME.length]!,
      folder: `/${['policies', 'people', 'forms'][(x >>> 4) % 3]!}`,
    }),
  },
};

/** The profile of a system: the built-in one, or a generic one for a system the simulator does not know. */
export function profileFor(
  system: string,
  overrides: Readonly<Record<string, SystemProfile>> = {},
): SystemProfile {
  const known = overrides[system] ?? DEFAULT_PROFILES[system];
  if (known) return known;
  return {
    ...DEFAULT_PROFILES['confluence']!,
    system,
    connectors: [{ name: `${system}-prod`, heartbeatMs: parseDuration('1h'), failingRuns: 3 }],
    owners: owners(system, 10),
    idStyle: 'slug',
    attributes: () => ({}),
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Multiplying by a constant coprime with the modulus is a bijection of [0, modulus): document numbers map to
// ids that look random yet can never collide.
const SPREAD = 48_271;

/** The id of document number `index` of a system: unique per index, realistic in shape, fixed per seed. */
export function docIdFor(profile: SystemProfile, seed: number, index: number): string {
  const offset = mix32(seed ^ 0x5bd1e995);
  switch (profile.idStyle) {
    case 'numeric9':
      return String(100_000_000 + ((index * SPREAD + offset) % 900_000_000));
    case 'numeric12':
      return String(360_000_000_000 + ((index * SPREAD + offset) % 10_000_000_000));
    case 'drive': {
      const modulus = 62 ** 6; // 2^6·31^6, coprime with SPREAD
      let unique = (index * SPREAD + offset) % modulus;
      let id = '1';
      for (let i = 0; i < 6; i++) {
        id += BASE62[unique % 62];
        unique = Math.floor(unique / 62);
      }
      for (let i = 0; i < 26; i++) id += BASE62[hash32(seed, index, i) % 62];
      return id;
    }
    case 'slug':
      return `doc-${String(index).padStart(7, '0')}`;
  }
}

const TOPICS = [
  'payments gateway',
  'customer data export',
  'on-call handover',
  'VPN access',
  'incident review',
  'password reset',
  'refund requests',
  'data retention',
  'vendor onboarding',
  'release freeze',
  'SSO login errors',
  'backup restore',
  'expense approval',
  'laptop encryption',
  'API rate limits',
  'shipping delays',
  'account deletion',
  'travel booking',
  'key rotation',
  'Kafka consumer lag',
];
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-south-1', 'global', 'EMEA', 'NA'];

/** A realistic title for a document of a class. */
export function titleFor(klass: ContentClassProfile, x: number): string {
  return `${klass.titlePrefix}: ${TOPICS[x % TOPICS.length]!} (${REGIONS[(x >>> 5) % REGIONS.length]!})`;
}

/** Index (into `profile.connectors`) of the connector that syncs a content class. */
export function connectorIndexFor(profile: SystemProfile, contentClass: string): number {
  const named = profile.connectors.findIndex((c) => c.classes?.includes(contentClass));
  if (named >= 0) return named;
  const catchAll = profile.connectors.findIndex((c) => c.classes === undefined);
  return catchAll >= 0 ? catchAll : 0;
}
