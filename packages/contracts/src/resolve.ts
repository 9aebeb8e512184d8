// Resolution: system-level settings merged with a content class's into one plain object per (system, class).
// Merge rules (documented in README.md): scalars and maps — the class wins key by key; `required` — union;
// rules — by name, references and null-rate limits — by field: a class entry replaces the system entry of the same
// name/field; drift features are added (names are unique per system).
// One file because every resolved setting type below is built by SystemResolver with its merge rule: a field, its
// default and its rule change together.
import { RE2JS } from '@bufbuild/re2';
import { parseDuration, parseTime } from '@tidemark/core';
import { compileRule, type CompiledRule } from './cel/compile.js';
import { CONTRACT_DEFAULTS, DRIFT_THRESHOLDS_BY_KIND } from './defaults.js';
import { fieldSegments } from './fields.js';
import type {
  ContentClassDocument,
  ContractMode,
  DriftFeatureDocument,
  OwnersDocument,
  Severity,
  SourceContractDocument,
} from './schema.js';

/** Which contract file and version produced a finding (the finding's `contract` field). */
export interface ContractRef {
  readonly file: string;
  readonly version: string;
}

/** Where to escalate: a receiver of contracts/routing.yaml, after an optional delay. */
export interface EscalationSettings {
  readonly receiver: string;
  /** Delay before escalating; undefined = at once. */
  readonly afterMs: number | undefined;
}

/** A team from the Owners file. */
export interface TeamSettings {
  readonly name: string;
  readonly description: string | undefined;
  readonly contact: string | undefined;
  readonly ticketQueue: string | undefined;
  readonly escalation: EscalationSettings | undefined;
  readonly members: readonly string[];
}

/** Owner of a system or content class; team details filled in from the Owners file. */
export interface OwnerSettings {
  readonly steward: string | undefined;
  readonly team: string | undefined;
  readonly platformOwner: string | undefined;
  /** The contract's escalation, else the team's. */
  readonly escalation: EscalationSettings | undefined;
  /** The team's ticket queue, if the Owners file names one. */
  readonly ticketQueue: string | undefined;
  /** The team's contact, if the Owners file names one. */
  readonly contact: string | undefined;
}

/** An allowed-values / range / pattern check on one field. */
export interface AllowedCheck {
  readonly field: string;
  /** `field` split on dots, for readField. */
  readonly segments: readonly string[];
  readonly severity: Severity;
  readonly shadow: boolean;
  readonly values: readonly (string | number | boolean)[] | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly pattern: string | undefined;
  /** What a valid value looks like, for findings' evidence ("one of public, internal"). */
  readonly expected: string;
  /** Whether a present value is allowed; a list passes when every element does. */
  test(value: unknown): boolean;
}

/** A reference field that must name a known, non-deleted document once the grace period has passed. */
export interface ReferenceSettings {
  readonly field: string;
  readonly segments: readonly string[];
  readonly gracePeriodMs: number;
  readonly severity: Severity;
  readonly shadow: boolean;
}

/** A null-rate limit: share of missing/null values of a field per tumbling window. */
export interface NullRateSettings {
  readonly field: string;
  readonly segments: readonly string[];
  readonly windowMs: number;
  /** Fires when nulls / events > threshold. */
  readonly threshold: number;
  /** No verdict for a window with fewer events. */
  readonly minCount: number;
  readonly severity: Severity;
  readonly shadow: boolean;
  /**
   * What one window counts: `system` — every event of the system its entry applies to, whatever the class (a
   * system-level entry without `classes:`); `class` — the events of one content class (a class's own entry, or a
   * system-level entry that lists `classes:`).
   */
  readonly scope: 'system' | 'class';
}

/** SLAs per content class. */
export interface SlaSettings {
  /** reviewedAt + this is the review deadline (freshness.review-overdue); undefined = no review clock. */
  readonly reviewIntervalMs: number | undefined;
  /** Index must apply a source revision within this (freshness.sync-lag). */
  readonly syncLagMs: number;
  /** Index must remove a source deletion within this (parity.delete-missed). */
  readonly deleteSlaMs: number;
  /** Index ACL may differ from the source's for at most this (parity.acl-mismatch). */
  readonly aclSlaMs: number;
}

/** Per-system parity settings. */
export interface ParitySettings {
  /** One parity.mass-removal finding when the index removes more than `share` of the known documents in `windowMs`. */
  readonly massRemoval: {
    readonly share: number;
    readonly windowMs: number;
    readonly minDocuments: number;
  };
  /** Source and index snapshots compared only when taken within this of each other. */
  readonly inventoryToleranceMs: number;
  /** An incomplete snapshot is dropped (with an info finding) after this. */
  readonly snapshotExpiryMs: number;
  /** Cap on per-document orphan/missing findings per reconciliation. */
  readonly maxDocumentFindings: number;
}

/** Heartbeat settings of one connector (freshness.connector-silent / connector-failing). */
export interface ConnectorSettings {
  readonly system: string;
  readonly connector: string;
  readonly heartbeatMs: number;
  /** Failed runs in a row that make connector-failing fire. */
  readonly failingRuns: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly owner: OwnerSettings;
  readonly contract: ContractRef;
  readonly shadow: boolean;
}

/** Drift thresholds; only those of the feature's kind are set. A window fires when effect size AND p-value cross. */
export interface DriftThresholds {
  /** numeric effect size: PSI > psi. */
  readonly psi?: number;
  /** numeric significance: the KS/Mood p-value < ksPValue. */
  readonly ksPValue?: number;
  /** categorical significance: the chi-square homogeneity p-value < chiSquarePValue. */
  readonly chiSquarePValue?: number;
  /** categorical effect size: the Jensen–Shannon distance > jsDistance. */
  readonly jsDistance?: number;
  /** volume: fire when |robust score| > volumeScore. */
  readonly volumeScore?: number;
}

/** A drift baseline: the last N windows, or one pinned reference window. */
export type DriftBaseline =
  | { readonly mode: 'rolling'; readonly windows: number }
  | { readonly mode: 'pinned'; readonly reference: string; readonly referenceStartMs: number };

/** A drift feature; accumulate it per (system, name) — names are unique within a system. */
export interface DriftFeatureSettings {
  readonly system: string;
  readonly name: string;
  readonly kind: 'numeric' | 'categorical' | 'volume';
  /** The data field (numeric/categorical); undefined for volume. */
  readonly field: string | undefined;
  readonly segments: readonly string[] | undefined;
  /** volume: count per system or per connector. */
  readonly by: 'system' | 'connector';
  /** Only events of these content classes feed it; undefined = every class. */
  readonly contentClasses: readonly string[] | undefined;
  readonly windowMs: number;
  readonly baseline: DriftBaseline;
  readonly minSamples: number;
  readonly bins: number;
  readonly topK: number;
  readonly thresholds: DriftThresholds;
  readonly severity: Severity;
  readonly shadow: boolean;
  readonly contract: ContractRef;
}

/** Everything the checks need for events of one (system, content class), already merged and defaulted. */
export interface ResolvedSettings {
  readonly system: string;
  /** The class whose settings apply; undefined when the contract does not define the event's class (system defaults). */
  readonly contentClass: string | undefined;
  readonly contract: ContractRef;
  readonly mode: ContractMode;
  /** mode === 'shadow': findings carry shadow: true. Items (rules, checks, features) carry their own flag too. */
  readonly shadow: boolean;
  readonly owner: OwnerSettings;
  readonly labels: Readonly<Record<string, string>>;
  readonly required: readonly string[];
  readonly requiredSeverity: Severity;
  readonly allowed: readonly AllowedCheck[];
  readonly rules: readonly CompiledRule[];
  readonly references: readonly ReferenceSettings[];
  readonly nullRates: readonly NullRateSettings[];
  readonly slas: SlaSettings;
  readonly parity: ParitySettings;
  /** Drift features events of this class feed (system-wide ones and this class's own). */
  readonly drift: readonly DriftFeatureSettings[];
}

/** Resolved contracts: what every checker reads its settings from. */
export interface ContractSet {
  /** Systems with a contract, sorted. */
  readonly systems: readonly string[];
  /** Teams from the Owners file(s), by name. */
  readonly teams: ReadonlyMap<string, TeamSettings>;
  /** Whether a contract exists for the system. */
  has(system: string): boolean;
  /** Content classes the system's contract defines, sorted. */
  contentClasses(system: string): readonly string[];
  /** Connectors the system's contract names (`connectors.instances`), sorted. */
  connectors(system: string): readonly string[];
  /** Merged settings for events of (system, contentClass); undefined when the system has no contract. */
  settingsFor(system: string, contentClass?: string): ResolvedSettings | undefined;
  /** Heartbeat settings of a connector of the system; undefined when the system has no contract. */
  connectorSettings(system: string, connector: string): ConnectorSettings | undefined;
  /** Every drift feature (of one system, or all), each once. */
  driftFeatures(system?: string): readonly DriftFeatureSettings[];
  /** The contract file and version of a system. */
  contractRef(system: string): ContractRef | undefined;
  /** Systems with a shadow candidate (a second contract, `mode: shadow`) beside their enforced one, sorted. */
  readonly shadowSystems: readonly string[];
  /**
   * The shadow candidate's merged settings for (system, contentClass), every item in shadow mode; undefined when the
   * system has no candidate. The enforced contract's settings stay those of `settingsFor`.
   */
  shadowSettingsFor(system: string, contentClass?: string): ResolvedSettings | undefined;
}

/** A valid SourceContract with the file it came from. */
export interface SourceContractInput {
  readonly file: string;
  readonly document: SourceContractDocument;
}

const ms = (duration: string | undefined, fallback: string): number =>
  parseDuration(duration ?? fallback);
const optionalMs = (duration: string | undefined): number | undefined =>
  duration === undefined ? undefined : parseDuration(duration);

/** Builds the ContractSet from documents that passed lint. */
export function buildContractSet(
  sources: readonly SourceContractInput[],
  owners: readonly OwnersDocument[],
): ContractSet {
  const teams = new Map<string, TeamSettings>();
  for (const doc of owners) {
    for (const [name, team] of Object.entries(doc.teams)) {
      teams.set(
        name,
        Object.freeze({
          name,
          description: team.description,
          contact: team.contact,
          ticketQueue: team.ticketQueue,
          escalation: escalation(team.escalation),
          members: Object.freeze([...(team.members ?? [])]),
        }),
      );
    }
  }
  const systems = new Map<string, SystemResolver>();
  const candidates = new Map<string, SystemResolver>();
  const { enforced, shadow } = splitCandidates(sources);
  for (const source of enforced)
    systems.set(source.document.system, new SystemResolver(source, teams));
  for (const source of shadow)
    candidates.set(source.document.system, new SystemResolver(source, teams));
  const sortedSystems = Object.freeze([...systems.keys()].sort());
  return Object.freeze({
    systems: sortedSystems,
    teams,
    has: (system: string) => systems.has(system),
    contentClasses: (system: string) => systems.get(system)?.classNames ?? [],
    connectors: (system: string) => systems.get(system)?.connectorNames ?? [],
    settingsFor: (system: string, contentClass?: string) =>
      systems.get(system)?.settingsFor(contentClass),
    connectorSettings: (system: string, connector: string) =>
      systems.get(system)?.connectorSettings(connector),
    driftFeatures: (system?: string) =>
      system === undefined
        ? sortedSystems.flatMap((s) => systems.get(s)?.allDriftFeatures ?? [])
        : (systems.get(system)?.allDriftFeatures ?? []),
    contractRef: (system: string) => systems.get(system)?.ref,
    shadowSystems: Object.freeze([...candidates.keys()].sort()),
    shadowSettingsFor: (system: string, contentClass?: string) =>
      candidates.get(system)?.settingsFor(contentClass),
  });
}

/**
 * Tells each system's enforced contract from its shadow candidate: a `mode: shadow` contract is a candidate when
 * the system also has one that enforces; a system's only contract is its contract, whatever its mode (lint allows
 * one of each per system; past that, the later document wins, as before).
 */
function splitCandidates(sources: readonly SourceContractInput[]): {
  enforced: SourceContractInput[];
  shadow: SourceContractInput[];
} {
  const enforcedSystems = new Set(
    sources.filter((s) => s.document.mode !== 'shadow').map((s) => s.document.system),
  );
  const isCandidate = (s: SourceContractInput) =>
    s.document.mode === 'shadow' && enforcedSystems.has(s.document.system);
  return {
    enforced: sources.filter((s) => !isCandidate(s)),
    shadow: sources.filter(isCandidate),
  };
}

function escalation(
  doc: { receiver: string; after?: string } | undefined,
): EscalationSettings | undefined {
  return doc === undefined
    ? undefined
    : Object.freeze({ receiver: doc.receiver, afterMs: optionalMs(doc.after) });
}

class SystemResolver {
  readonly ref: ContractRef;
  readonly classNames: readonly string[];
  readonly connectorNames: readonly string[];
  readonly allDriftFeatures: readonly DriftFeatureSettings[];
  private readonly doc: SourceContractDocument;
  private readonly parity: ParitySettings;
  private readonly systemFeatures: readonly DriftFeatureSettings[];
  private readonly classFeatures = new Map<string, readonly DriftFeatureSettings[]>();
  private readonly cache = new Map<string, ResolvedSettings>();
  private readonly connectors = new Map<string, ConnectorSettings>();

  constructor(
    source: SourceContractInput,
    private readonly teams: ReadonlyMap<string, TeamSettings>,
  ) {
    this.doc = source.document;
    this.ref = Object.freeze({ file: source.file, version: String(source.document.version) });
    this.classNames = Object.freeze(Object.keys(this.doc.classes ?? {}).sort());
    this.connectorNames = Object.freeze(Object.keys(this.doc.connectors?.instances ?? {}).sort());
    const parity = this.doc.parity ?? {};
    const defaults = CONTRACT_DEFAULTS.parity;
    this.parity = Object.freeze({
      massRemoval: Object.freeze({
        share: parity.massRemoval?.share ?? defaults.massRemoval.share,
        windowMs: ms(parity.massRemoval?.window, defaults.massRemoval.window),
        minDocuments: parity.massRemoval?.minDocuments ?? defaults.massRemoval.minDocuments,
      }),
      inventoryToleranceMs: ms(parity.inventoryTolerance, defaults.inventoryTolerance),
      snapshotExpiryMs: ms(parity.snapshotExpiry, defaults.snapshotExpiry),
      maxDocumentFindings: parity.maxDocumentFindings ?? defaults.maxDocumentFindings,
    });
    const systemMode = this.doc.mode ?? 'enforce';
    this.systemFeatures = (this.doc.drift ?? []).map((f) => this.feature(f, f.classes, systemMode));
    for (const name of this.classNames) {
      const body = this.doc.classes?.[name] as ContentClassDocument;
      const mode = body.mode ?? systemMode;
      this.classFeatures.set(
        name,
        (body.drift ?? []).map((f) => this.feature(f, [name], mode)),
      );
    }
    this.allDriftFeatures = Object.freeze([
      ...this.systemFeatures,
      ...this.classNames.flatMap((n) => this.classFeatures.get(n) ?? []),
    ]);
  }

  settingsFor(contentClass: string | undefined): ResolvedSettings {
    const defined =
      contentClass !== undefined && this.classNames.includes(contentClass)
        ? contentClass
        : undefined;
    const key = defined ?? '';
    let settings = this.cache.get(key);
    if (settings === undefined) {
      settings = this.resolve(defined);
      this.cache.set(key, settings);
    }
    return settings;
  }

  connectorSettings(connector: string): ConnectorSettings {
    let settings = this.connectors.get(connector);
    if (settings === undefined) {
      const connectors = this.doc.connectors ?? {};
      // Connector names come from events: look up own keys only ("constructor" is not a connector).
      const known =
        connectors.instances !== undefined && Object.hasOwn(connectors.instances, connector);
      const instance = known ? (connectors.instances?.[connector] ?? {}) : {};
      const defaults = CONTRACT_DEFAULTS.connectors;
      settings = Object.freeze({
        system: this.doc.system,
        connector,
        heartbeatMs: ms(instance.heartbeat ?? connectors.heartbeat, defaults.heartbeat),
        failingRuns: instance.failingRuns ?? connectors.failingRuns ?? defaults.failingRuns,
        labels: Object.freeze({ ...this.doc.labels, ...instance.labels }),
        owner: this.owner(undefined),
        contract: this.ref,
        shadow: this.doc.mode === 'shadow',
      });
      // Connector names come from events; only remember the ones the contract names, so the cache stays bounded.
      if (known) this.connectors.set(connector, settings);
    }
    return settings;
  }

  private owner(cls: ContentClassDocument | undefined): OwnerSettings {
    const merged = { ...this.doc.owner, ...cls?.owner };
    const team = merged.team === undefined ? undefined : this.teams.get(merged.team);
    return Object.freeze({
      steward: merged.steward,
      team: merged.team,
      platformOwner: merged.platformOwner,
      escalation: escalation(merged.escalation) ?? team?.escalation,
      ticketQueue: team?.ticketQueue,
      contact: team?.contact,
    });
  }

  private feature(
    f: DriftFeatureDocument,
    classes: readonly string[] | undefined,
    mode: ContractMode,
  ): DriftFeatureSettings {
    const d = CONTRACT_DEFAULTS.drift;
    const thresholds: Record<string, number> = {};
    for (const key of DRIFT_THRESHOLDS_BY_KIND[f.kind])
      thresholds[key] = f.thresholds?.[key] ?? d.thresholds[key];
    const baseline: DriftBaseline =
      f.baseline?.mode === 'pinned' && f.baseline.reference !== undefined
        ? Object.freeze({
            mode: 'pinned',
            reference: f.baseline.reference,
            referenceStartMs: parseTime(f.baseline.reference),
          })
        : Object.freeze({ mode: 'rolling', windows: f.baseline?.windows ?? d.baseline.windows });
    return Object.freeze({
      system: this.doc.system,
      name: f.name,
      kind: f.kind,
      field: f.field,
      segments: f.field === undefined ? undefined : fieldSegments(f.field),
      by: f.kind === 'volume' ? (f.by ?? d.by) : 'system',
      contentClasses: classes === undefined ? undefined : Object.freeze([...classes]),
      windowMs: ms(f.window, d.window),
      baseline,
      minSamples: f.minSamples ?? d.minSamples,
      bins: f.bins ?? d.bins,
      topK: f.topK ?? d.topK,
      thresholds: Object.freeze(thresholds),
      severity: f.severity ?? CONTRACT_DEFAULTS.severity.drift,
      shadow: (f.mode ?? mode) === 'shadow',
      contract: this.ref,
    });
  }

  private resolve(contentClass: string | undefined): ResolvedSettings {
    const doc = this.doc;
    const cls = contentClass === undefined ? undefined : doc.classes?.[contentClass];
    const mode: ContractMode = cls?.mode ?? doc.mode ?? 'enforce';
    const appliesHere = (entry: { classes?: string[] }) =>
      entry.classes === undefined ||
      (contentClass !== undefined && entry.classes.includes(contentClass));
    const byKey = <T>(system: readonly T[], own: readonly T[], key: (t: T) => string): T[] => {
      const merged = new Map<string, T>();
      for (const entry of [...system, ...own]) merged.set(key(entry), entry);
      return [...merged.values()];
    };

    const rules = byKey((doc.rules ?? []).filter(appliesHere), cls?.rules ?? [], (r) => r.name).map(
      (rule) =>
        compileRule({
          name: rule.name,
          expression: rule.expression,
          message: rule.message,
          severity: rule.severity ?? CONTRACT_DEFAULTS.severity.rule,
          mode: rule.mode ?? mode,
        }),
    );
    const references = byKey(
      (doc.references ?? []).filter(appliesHere),
      cls?.references ?? [],
      (r) => r.field,
    ).map((r) =>
      Object.freeze({
        field: r.field,
        segments: fieldSegments(r.field),
        gracePeriodMs: parseDuration(r.gracePeriod),
        severity: r.severity ?? CONTRACT_DEFAULTS.severity.reference,
        shadow: (r.mode ?? mode) === 'shadow',
      }),
    );
    const nullRates = byKey(
      (doc.nullRates ?? []).filter(appliesHere).map((r) => ({
        r,
        scope: r.classes === undefined ? ('system' as const) : ('class' as const),
      })),
      (cls?.nullRates ?? []).map((r) => ({ r, scope: 'class' as const })),
      (e) => e.r.field,
    ).map(({ r, scope }) =>
      Object.freeze({
        field: r.field,
        segments: fieldSegments(r.field),
        windowMs: parseDuration(r.window),
        threshold: r.threshold,
        minCount: r.minCount ?? CONTRACT_DEFAULTS.nullRate.minCount,
        severity: r.severity ?? CONTRACT_DEFAULTS.severity.nullRate,
        shadow: (r.mode ?? mode) === 'shadow',
        scope,
      }),
    );
    const allowedSpecs = { ...doc.allowed, ...cls?.allowed };
    const allowed = Object.entries(allowedSpecs).map(([field, spec]) =>
      allowedCheck(field, spec, mode),
    );
    const slas = { ...doc.slas, ...cls?.slas };
    const slaDefaults = CONTRACT_DEFAULTS.slas;
    const drift = [
      ...this.systemFeatures.filter(
        (f) =>
          f.contentClasses === undefined ||
          (contentClass !== undefined && f.contentClasses.includes(contentClass)),
      ),
      ...(contentClass === undefined ? [] : (this.classFeatures.get(contentClass) ?? [])),
    ];

    return Object.freeze({
      system: doc.system,
      contentClass,
      contract: this.ref,
      mode,
      shadow: mode === 'shadow',
      owner: this.owner(cls),
      labels: Object.freeze({ ...doc.labels, ...cls?.labels }),
      required: Object.freeze([...new Set([...(doc.required ?? []), ...(cls?.required ?? [])])]),
      requiredSeverity: CONTRACT_DEFAULTS.severity.required,
      allowed: Object.freeze(allowed),
      rules: Object.freeze(rules),
      references: Object.freeze(references),
      nullRates: Object.freeze(nullRates),
      slas: Object.freeze({
        reviewIntervalMs: optionalMs(slas.reviewInterval ?? slaDefaults.reviewInterval),
        syncLagMs: ms(slas.syncLag, slaDefaults.syncLag),
        deleteSlaMs: ms(slas.deleteSla, slaDefaults.deleteSla),
        aclSlaMs: ms(slas.aclSla, slaDefaults.aclSla),
      }),
      parity: this.parity,
      drift: Object.freeze(drift),
    });
  }
}

type AllowedDocument = NonNullable<SourceContractDocument['allowed']>[string];

function allowedCheck(field: string, spec: AllowedDocument, mode: ContractMode): AllowedCheck {
  const values = spec.values === undefined ? undefined : Object.freeze([...spec.values]);
  const valueSet = values === undefined ? undefined : new Set<unknown>(values);
  const regex = spec.pattern === undefined ? undefined : RE2JS.compile(spec.pattern);
  const { min, max } = spec;
  const expected: string[] = [];
  if (values !== undefined)
    expected.push(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
  if (min !== undefined && max !== undefined) expected.push(`a number from ${min} to ${max}`);
  else if (min !== undefined) expected.push(`a number >= ${min}`);
  else if (max !== undefined) expected.push(`a number <= ${max}`);
  if (spec.pattern !== undefined) expected.push(`a string matching ${spec.pattern}`);
  const one = (value: unknown): boolean => {
    if (valueSet !== undefined && !valueSet.has(value)) return false;
    if (min !== undefined || max !== undefined) {
      if (typeof value !== 'number' || Number.isNaN(value)) return false;
      if (min !== undefined && value < min) return false;
      if (max !== undefined && value > max) return false;
    }
    if (regex !== undefined && (typeof value !== 'string' || !regex.test(value))) return false;
    return true;
  };
  return Object.freeze({
    field,
    segments: fieldSegments(field),
    severity: spec.severity ?? CONTRACT_DEFAULTS.severity.allowed,
    shadow: (spec.mode ?? mode) === 'shadow',
    values,
    min,
    max,
    pattern: spec.pattern,
    expected: expected.join(' and '),
    test: (value: unknown) => (Array.isArray(value) ? value.every(one) : one(value)),
  });
}
