import { ConfigError, type FindingOwner } from '@tidemark/core';

/**
 * What the parity checks need for documents of one (system, content class), in milliseconds. Field names
 * follow `@tidemark/contracts` (`slas.*` and `parity.*` of its resolved settings) so a resolver is a plain
 * mapping; `massRemoval` and the inventory fields are per system and read with the system alone.
 */
export interface ParitySettings {
  /** How long the index may take to apply a source deletion (`parity.delete-missed`). @default 1h */
  readonly deleteSlaMs: number;
  /** How long the index may enforce an ACL other than the source's (`parity.acl-mismatch`). @default 1h */
  readonly aclSlaMs: number;
  /** How long the index may take to add a source document before reconciliation calls it missing. @default 1h */
  readonly syncLagMs: number;
  /** One `parity.mass-removal` finding when the index removes more than `share` of the known documents in `windowMs`. */
  readonly massRemoval: {
    /** Share of known documents, in (0, 1]. @default 0.5 */
    readonly share: number;
    /** @default 15m */
    readonly windowMs: number;
    /** Fewer removals than this in the window never count as a mass removal. @default 100 */
    readonly minDocuments: number;
  };
  /** Source and index snapshots are compared only when taken within this of each other. @default 15m */
  readonly inventoryToleranceMs: number;
  /** An incomplete snapshot is dropped with a `parity.snapshot-incomplete` finding after this. @default 1h */
  readonly snapshotExpiryMs: number;
  /** Cap on per-document `parity.orphan` / `parity.missing` findings per system and kind. @default 100 */
  readonly maxDocumentFindings: number;
  /** Document ids in the evidence sample of a reconciliation summary. @default 20 */
  readonly sampleSize: number;
  /** How long a deleted-and-removed document stays in the ledger so a late re-upsert is seen as a resurrection. @default 7d */
  readonly ledgerRetentionMs: number;
  /** Who is told. @default {} */
  readonly owner?: FindingOwner;
  /** The contract that set these values, copied onto findings. */
  readonly contract?: { readonly file: string; readonly version: string };
  /** Findings are recorded but never alerted (contract in shadow mode). @default false */
  readonly shadow?: boolean;
  /** Extra routing labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Settings for one system and, where known, one content class; contracts provide one, tests use staticParitySettings. */
export type ParitySettingsResolver = (system: string, contentClass?: string) => ParitySettings;

const HOUR = 3_600_000;

/** Defaults of every parity setting (the same values `@tidemark/contracts` fills in where a contract is silent). */
export const DEFAULT_PARITY_SETTINGS: ParitySettings = Object.freeze({
  deleteSlaMs: HOUR,
  aclSlaMs: HOUR,
  syncLagMs: HOUR,
  massRemoval: Object.freeze({ share: 0.5, windowMs: 15 * 60_000, minDocuments: 100 }),
  inventoryToleranceMs: 15 * 60_000,
  snapshotExpiryMs: HOUR,
  maxDocumentFindings: 100,
  sampleSize: 20,
  ledgerRetentionMs: 7 * 24 * HOUR,
});

/** Overrides of ParitySettings; `massRemoval` may be given in part. */
export type ParitySettingsOverrides = Partial<Omit<ParitySettings, 'massRemoval'>> & {
  massRemoval?: Partial<ParitySettings['massRemoval']>;
};

/** Lists every problem of a settings object, each naming its field (empty when valid). */
export function paritySettingsProblems(settings: ParitySettings, where = 'parity'): string[] {
  const problems: string[] = [];
  const duration = (name: string, value: number, allowZero: boolean): void => {
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      problems.push(
        `${where}.${name} must be a ${allowZero ? 'non-negative' : 'positive'} duration in ms, got ${value}`,
      );
    }
  };
  duration('deleteSlaMs', settings.deleteSlaMs, true);
  duration('aclSlaMs', settings.aclSlaMs, true);
  duration('syncLagMs', settings.syncLagMs, true);
  duration('massRemoval.windowMs', settings.massRemoval.windowMs, false);
  duration('inventoryToleranceMs', settings.inventoryToleranceMs, true);
  duration('snapshotExpiryMs', settings.snapshotExpiryMs, false);
  duration('ledgerRetentionMs', settings.ledgerRetentionMs, true);
  const share = settings.massRemoval.share;
  if (!(share > 0 && share <= 1)) {
    problems.push(`${where}.massRemoval.share must be in (0, 1], got ${share}`);
  }
  const count = (name: string, value: number, min: number): void => {
    if (!Number.isInteger(value) || value < min) {
      problems.push(`${where}.${name} must be an integer >= ${min}, got ${value}`);
    }
  };
  count('massRemoval.minDocuments', settings.massRemoval.minDocuments, 1);
  count('maxDocumentFindings', settings.maxDocumentFindings, 0);
  count('sampleSize', settings.sampleSize, 0);
  return problems;
}

/** The defaults with overrides applied; throws ConfigError listing every bad field. */
export function paritySettings(overrides: ParitySettingsOverrides = {}): ParitySettings {
  const settings: ParitySettings = Object.freeze({
    ...DEFAULT_PARITY_SETTINGS,
    ...overrides,
    massRemoval: Object.freeze({
      ...DEFAULT_PARITY_SETTINGS.massRemoval,
      ...overrides.massRemoval,
    }),
  });
  const problems = paritySettingsProblems(settings);
  if (problems.length > 0) throw new ConfigError('invalid parity settings', problems);
  return settings;
}

/** A resolver that returns the same settings for every system and class (tests, single-tenant setups). */
export function staticParitySettings(
  overrides: ParitySettingsOverrides = {},
): ParitySettingsResolver {
  const settings = paritySettings(overrides);
  return () => settings;
}
