import type { Severity } from './schema.js';

/**
 * Every default the contract format fills in, in one place (durations as written in contracts).
 * A contract states only what differs; `settingsFor` returns these values where it is silent.
 */
export const CONTRACT_DEFAULTS = {
  /** Severity per finding kind when the contract entry names none. */
  severity: {
    required: 'warning',
    allowed: 'warning',
    rule: 'warning',
    reference: 'warning',
    nullRate: 'warning',
    drift: 'warning',
  } satisfies Record<string, Severity>,
  slas: {
    /** No review clock unless the contract sets one: not every class is attested. */
    reviewInterval: undefined as string | undefined,
    syncLag: '1h',
    deleteSla: '1h',
    aclSla: '1h',
  },
  connectors: {
    heartbeat: '1h',
    failingRuns: 3,
  },
  parity: {
    massRemoval: { share: 0.5, window: '15m', minDocuments: 100 },
    inventoryTolerance: '15m',
    snapshotExpiry: '1h',
    maxDocumentFindings: 100,
  },
  nullRate: { minCount: 20 },
  drift: {
    window: '1h',
    baseline: { mode: 'rolling' as const, windows: 24 },
    minSamples: 100,
    bins: 10,
    topK: 20,
    by: 'system' as const,
    thresholds: {
      psi: 0.2,
      ksPValue: 0.01,
      chiSquarePValue: 0.01,
      jsDistance: 0.1,
      volumeScore: 3.5,
    },
  },
} as const;

/** Which drift thresholds apply to which feature kind (others are a lint error). */
export const DRIFT_THRESHOLDS_BY_KIND = {
  numeric: ['psi', 'ksPValue'],
  categorical: ['chiSquarePValue', 'jsDistance'],
  volume: ['volumeScore'],
} as const;
