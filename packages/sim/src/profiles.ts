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
  /** Sync-lag SLA of the class (how long the index may take to apply a change). */
  syncLagMs: number;
  /** Median body size in bytes (sizes are log-normal around it). */
  sizeMedianBytes: number;
  /** Title prefix, e.g. "Runbook". */
  titlePrefix: string;
}

/** What the simulator knows about one source system: its connector, classes, vocabularies and SLAs. */
export interface SystemProfile {
  system: string;
  /** Connector instance that syncs it, e.g. `confluence-prod`. */
  connector: string;
  classes: readonly ContentClassProfile[];
  /** Steward ids (email-like) documents are owned by. */
  owners: readonly string[];
  classifications: ReadonlyArray<readonly [string, number]>;
  languages: ReadonlyArray<readonly [string, number]>;
  /** Time the index may take to apply a source deletion. */
  deleteSlaMs: number;
  /** Time the index may enforce an access list different from the source's. */
  aclSlaMs: number;
  /** Window within which the connector must have a successful run. */
  heartbeatMs: number;
  /** Failed runs in a row that make the connector "failing". */
  failingRuns: number;
  /** Grace period of `supersededBy` references. */
  referenceGraceMs: number;
  /** Window of the contract's null-rate limits. */
  nullRateWindowMs: number;
  /** Window of the drift features. */
  driftWindowMs: number;
  /** Shape of document ids. */
  idStyle: 'numeric9' | 'numeric12' | 'drive' | 'slug';
  /** System-specific `attributes` of a document, from a per-document random number in [0, 2^32). */
  attributes: (h: number) => Record<string, unknown>;
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

const SPACES = ['ENG', 'OPS', 'SEC', 'HR', 'FIN', 'SUPPORT', 'PLATFORM', 'LEGAL'];
const SECTIONS = ['billing', 'accounts', 'shipping', 'returns', 'security', 'integrations'];
const MIME = [
  'application/vnd.google-apps.document',
  'application/vnd.google-apps.spreadsheet',
  'application/vnd.google-apps.presentation',
  'application/pdf',
];

/** Built-in profiles of the example systems; SLAs and vocabularies mirror contracts/<system>.yaml. */
export const DEFAULT_PROFILES: Readonly<Record<string, SystemProfile>> = {
  confluence: {
    system: 'confluence',
    connector: 'confluence-prod',
    classes: [
      {
        name: 'policy',
        weight: 15,
        reviewIntervalMs: h('180d'),
        syncLagMs: h('1h'),
        sizeMedianBytes: 14_000,
        titlePrefix: 'Policy',
      },
      {
        name: 'runbook',
        weight: 30,
        reviewIntervalMs: h('90d'),
        syncLagMs: h('30m'),
        sizeMedianBytes: 9_000,
        titlePrefix: 'Runbook',
      },
      {
        name: 'postmortem',
        weight: 15,
        syncLagMs: h('1h'),
        sizeMedianBytes: 12_000,
        titlePrefix: 'Postmortem',
      },
      {
        name: 'howto',
        weight: 40,
        reviewIntervalMs: h('180d'),
        syncLagMs: h('1h'),
        sizeMedianBytes: 6_000,
        titlePrefix: 'How to',
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
    deleteSlaMs: h('1h'),
    aclSlaMs: h('1h'),
    heartbeatMs: h('2h'),
    failingRuns: 3,
    referenceGraceMs: h('1h'),
    nullRateWindowMs: h('1h'),
    driftWindowMs: h('1h'),
    idStyle: 'numeric9',
    attributes: (x) => ({
      space: SPACES[x % SPACES.length]!,
      labels: x % 3 === 0 ? ['kb'] : ['kb', SPACES[(x >>> 8) % SPACES.length]!.toLowerCase()],
    }),
  },
  zendesk: {
    system: 'zendesk',
    connector: 'zendesk-prod',
    classes: [
      {
        name: 'article',
        weight: 50,
        reviewIntervalMs: h('90d'),
        syncLagMs: h('30m'),
        sizeMedianBytes: 4_500,
        titlePrefix: 'Article',
      },
      {
        name: 'macro',
        weight: 30,
        reviewIntervalMs: h('60d'),
        syncLagMs: h('15m'),
        sizeMedianBytes: 900,
        titlePrefix: 'Macro',
      },
      {
        name: 'faq',
        weight: 20,
        reviewIntervalMs: h('90d'),
        syncLagMs: h('30m'),
        sizeMedianBytes: 2_000,
        titlePrefix: 'FAQ',
      },
    ],
    owners: owners('zendesk', 10),
    classifications: [
      ['public', 60],
      ['internal', 35],
      ['restricted', 5],
    ],
    languages: [
      ['en', 50],
      ['es', 15],
      ['fr', 10],
      ['de', 10],
      ['pt-BR', 10],
      ['ja', 5],
    ],
    deleteSlaMs: h('30m'),
    aclSlaMs: h('30m'),
    heartbeatMs: h('2h'),
    failingRuns: 3,
    referenceGraceMs: h('1h'),
    nullRateWindowMs: h('1h'),
    driftWindowMs: h('1h'),
    idStyle: 'numeric12',
    attributes: (x) => ({ section: SECTIONS[x % SECTIONS.length]!, votes: x % 200 }),
  },
  gdrive: {
    system: 'gdrive',
    connector: 'gdrive-prod',
    classes: [
      {
        name: 'policy',
        weight: 30,
        reviewIntervalMs: h('365d'),
        syncLagMs: h('1h'),
        sizeMedianBytes: 40_000,
        titlePrefix: 'Policy',
      },
      {
        name: 'procedure',
        weight: 35,
        reviewIntervalMs: h('180d'),
        syncLagMs: h('1h'),
        sizeMedianBytes: 25_000,
        titlePrefix: 'Procedure',
      },
      {
        name: 'presentation',
        weight: 35,
        syncLagMs: h('2h'),
        sizeMedianBytes: 300_000,
        titlePrefix: 'Deck',
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
    deleteSlaMs: h('1h'),
    aclSlaMs: h('1h'),
    heartbeatMs: h('2h'),
    failingRuns: 3,
    referenceGraceMs: h('1h'),
    nullRateWindowMs: h('1h'),
    driftWindowMs: h('1h'),
    idStyle: 'drive',
    attributes: (x) => ({
      mimeType: MIME[x % MIME.length]!,
      folder: `/${SPACES[(x >>> 4) % SPACES.length]!.toLowerCase()}`,
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
    connector: `${system}-prod`,
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
