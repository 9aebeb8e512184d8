import { describe, expect, it } from 'vitest';
import { CONTRACT_DEFAULTS, loadContractsOrThrow, type ContractSet } from './index.js';

const owners = `apiVersion: tidemark/v1
kind: Owners
teams:
  wiki-team:
    ticketQueue: WIKI
    contact: wiki@example.com
    escalation: { receiver: wiki-email, after: 1d }
  compliance:
    ticketQueue: COMP
  platform: {}
`;

const wiki = `apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: 7
owner: { team: wiki-team, platformOwner: platform, steward: wiki-admins@example.com }
labels: { tier: gold, region: eu }
required: [title, owner]
allowed:
  classification: { values: [public, internal, restricted] }
  sizeBytes: { min: 1, max: 100, severity: high }
rules:
  - name: has-owner
    expression: has(data.owner)
    message: system rule
  - name: policy-only
    expression: has(data.effectiveDate)
    message: only for policies
    classes: [policy]
  - name: watched
    expression: 'true'
    message: shadow rule
    mode: shadow
references:
  - { field: supersededBy, gracePeriod: 1h }
nullRates:
  - { field: owner, window: 1h, threshold: 0.1 }
  - { field: title, window: 2h, threshold: 0.2, minCount: 5, classes: [runbook] }
slas: { syncLag: 15m, reviewInterval: 180d }
connectors:
  heartbeat: 2h
  instances:
    wiki-prod: { heartbeat: 30m, failingRuns: 5, labels: { env: prod } }
parity:
  massRemoval: { share: 0.25, window: 10m }
drift:
  - { name: size, kind: numeric, field: sizeBytes, bins: 12 }
  - { name: volume, kind: volume, by: connector, window: 1d }
  - { name: policy-lang, kind: categorical, field: language, classes: [policy], baseline: { mode: pinned, reference: '2025-01-06T00:00:00Z' } }
classes:
  policy:
    owner: { team: compliance, steward: policy@example.com }
    labels: { region: us, regulated: 'true' }
    required: [effectiveDate, owner]
    allowed:
      classification: { values: [internal, restricted] }
    rules:
      - name: has-owner
        expression: has(data.owner) && data.owner != ""
        message: class override
        severity: high
    references:
      - { field: supersededBy, gracePeriod: 4h, severity: high }
    slas: { reviewInterval: 365d, aclSla: 5m }
    drift:
      - { name: policy-size, kind: numeric, field: sizeBytes, mode: shadow }
  runbook:
    mode: shadow
    rules:
      - name: enforced-anyway
        expression: 'true'
        message: explicit enforce inside a shadow class
        mode: enforce
`;

const load = (...texts: string[]): ContractSet =>
  loadContractsOrThrow(texts.map((text, i) => ({ path: `contracts/f${i}.yaml`, text })));

describe('settingsFor', () => {
  const contracts = load(owners, wiki);
  const policy = contracts.settingsFor('wiki', 'policy');
  const runbook = contracts.settingsFor('wiki', 'runbook');
  const other = contracts.settingsFor('wiki', 'faq');
  const system = contracts.settingsFor('wiki');

  it('is undefined for a system without a contract', () => {
    expect(contracts.settingsFor('crm', 'policy')).toBeUndefined();
    expect(contracts.has('crm')).toBe(false);
    expect(contracts.has('wiki')).toBe(true);
  });

  it('gives system defaults for a class the contract does not define', () => {
    expect(other?.contentClass).toBeUndefined();
    expect(other).toBe(system);
    expect(policy?.contentClass).toBe('policy');
    expect(contracts.contentClasses('wiki')).toEqual(['policy', 'runbook']);
  });

  it('lists the connectors a contract names, none for a system without one', () => {
    expect(contracts.connectors('wiki')).toEqual(['wiki-prod']);
    expect(contracts.connectors('crm')).toEqual([]);
  });

  it('returns the same object for the same (system, class)', () => {
    expect(contracts.settingsFor('wiki', 'policy')).toBe(policy);
  });

  it('carries the contract file and version', () => {
    expect(policy?.contract).toEqual({ file: 'contracts/f1.yaml', version: '7' });
    expect(contracts.contractRef('wiki')).toEqual({ file: 'contracts/f1.yaml', version: '7' });
  });

  it('merges the owner field by field and adds the team from the Owners file', () => {
    expect(policy?.owner).toEqual({
      steward: 'policy@example.com',
      team: 'compliance',
      platformOwner: 'platform',
      escalation: undefined,
      ticketQueue: 'COMP',
      contact: undefined,
    });
    expect(system?.owner).toEqual({
      steward: 'wiki-admins@example.com',
      team: 'wiki-team',
      platformOwner: 'platform',
      escalation: { receiver: 'wiki-email', afterMs: 86_400_000 },
      ticketQueue: 'WIKI',
      contact: 'wiki@example.com',
    });
  });

  it('merges labels (class wins) and unions required fields', () => {
    expect(policy?.labels).toEqual({ tier: 'gold', region: 'us', regulated: 'true' });
    expect(policy?.required).toEqual(['title', 'owner', 'effectiveDate']);
    expect(system?.required).toEqual(['title', 'owner']);
    expect(policy?.requiredSeverity).toBe(CONTRACT_DEFAULTS.severity.required);
  });

  it('overrides allowed checks per field', () => {
    const summary = (s: typeof policy) => s?.allowed.map((a) => [a.field, a.expected, a.severity]);
    expect(summary(policy)).toEqual([
      ['classification', 'one of "internal", "restricted"', 'warning'],
      ['sizeBytes', 'a number from 1 to 100', 'high'],
    ]);
    expect(summary(system)?.[0]).toEqual([
      'classification',
      'one of "public", "internal", "restricted"',
      'warning',
    ]);
  });

  it('overrides rules by name and applies class-scoped system rules to their classes only', () => {
    const summary = (s: typeof policy) =>
      s?.rules.map((r) => [r.name, r.message, r.severity, r.shadow]);
    expect(summary(policy)).toEqual([
      ['has-owner', 'class override', 'high', false],
      ['policy-only', 'only for policies', 'warning', false],
      ['watched', 'shadow rule', 'warning', true],
    ]);
    expect(summary(system)).toEqual([
      ['has-owner', 'system rule', 'warning', false],
      ['watched', 'shadow rule', 'warning', true],
    ]);
  });

  it('lets the most specific mode win: rule over class over contract', () => {
    expect(runbook?.mode).toBe('shadow');
    expect(runbook?.shadow).toBe(true);
    expect(runbook?.rules.map((r) => [r.name, r.shadow])).toEqual([
      ['has-owner', true],
      ['watched', true],
      ['enforced-anyway', false],
    ]);
    expect(runbook?.nullRates.map((n) => [n.field, n.shadow])).toEqual([
      ['owner', true],
      ['title', true],
    ]);
  });

  it('overrides references and null rates per field, with defaults', () => {
    expect(policy?.references).toEqual([
      {
        field: 'supersededBy',
        segments: ['supersededBy'],
        gracePeriodMs: 4 * 3_600_000,
        severity: 'high',
        shadow: false,
      },
    ]);
    expect(runbook?.nullRates).toEqual([
      {
        field: 'owner',
        segments: ['owner'],
        windowMs: 3_600_000,
        threshold: 0.1,
        minCount: CONTRACT_DEFAULTS.nullRate.minCount,
        severity: 'warning',
        shadow: true,
        scope: 'system', // a system-level entry without classes: judged over the whole system
      },
      {
        field: 'title',
        segments: ['title'],
        windowMs: 7_200_000,
        threshold: 0.2,
        minCount: 5,
        severity: 'warning',
        shadow: true,
        scope: 'class', // it lists classes: judged per class
      },
    ]);
  });

  it('merges SLAs key by key over the defaults', () => {
    expect(policy?.slas).toEqual({
      reviewIntervalMs: 365 * 86_400_000,
      syncLagMs: 15 * 60_000,
      deleteSlaMs: 3_600_000,
      aclSlaMs: 5 * 60_000,
    });
    expect(system?.slas.reviewIntervalMs).toBe(180 * 86_400_000);
    expect(
      load(wiki.replace('slas: { syncLag: 15m, reviewInterval: 180d }', '')).settingsFor('wiki')
        ?.slas,
    ).toEqual({
      reviewIntervalMs: undefined,
      syncLagMs: 3_600_000,
      deleteSlaMs: 3_600_000,
      aclSlaMs: 3_600_000,
    });
  });

  it('gives the system parity settings to every class', () => {
    expect(policy?.parity).toEqual({
      massRemoval: { share: 0.25, windowMs: 600_000, minDocuments: 100 },
      inventoryToleranceMs: 15 * 60_000,
      snapshotExpiryMs: 3_600_000,
      maxDocumentFindings: 100,
    });
    expect(system?.parity).toBe(policy?.parity);
  });

  it('lists the drift features an event of the class feeds', () => {
    expect(policy?.drift.map((f) => f.name)).toEqual([
      'size',
      'volume',
      'policy-lang',
      'policy-size',
    ]);
    expect(runbook?.drift.map((f) => f.name)).toEqual(['size', 'volume']);
    expect(system?.drift.map((f) => f.name)).toEqual(['size', 'volume']);
  });
});

describe('driftFeatures', () => {
  const contracts = load(owners, wiki);

  it('lists each feature once, with defaults filled by kind', () => {
    const features = contracts.driftFeatures();
    expect(features.map((f) => [f.name, f.contentClasses, f.shadow])).toEqual([
      ['size', undefined, false],
      ['volume', undefined, false],
      ['policy-lang', ['policy'], false],
      ['policy-size', ['policy'], true],
    ]);
    expect(contracts.driftFeatures('wiki')).toEqual(features);
    expect(contracts.driftFeatures('crm')).toEqual([]);
    const [size, volume, lang] = features;
    expect(size).toMatchObject({
      system: 'wiki',
      kind: 'numeric',
      field: 'sizeBytes',
      segments: ['sizeBytes'],
      by: 'system',
      windowMs: 3_600_000,
      baseline: { mode: 'rolling', windows: 24 },
      minSamples: 100,
      bins: 12,
      topK: 20,
      thresholds: { psi: 0.2, ksPValue: 0.01 },
      severity: 'warning',
      contract: { file: 'contracts/f1.yaml', version: '7' },
    });
    expect(volume).toMatchObject({
      kind: 'volume',
      field: undefined,
      by: 'connector',
      windowMs: 86_400_000,
      thresholds: { volumeScore: 3.5 },
    });
    expect(lang).toMatchObject({
      baseline: {
        mode: 'pinned',
        reference: '2025-01-06T00:00:00Z',
        referenceStartMs: Date.UTC(2025, 0, 6),
      },
      thresholds: { chiSquarePValue: 0.01, jsDistance: 0.1 },
    });
  });
});

describe('connectorSettings', () => {
  const contracts = load(owners, wiki);

  it.each([
    [
      'wiki-prod',
      {
        heartbeatMs: 30 * 60_000,
        failingRuns: 5,
        labels: { tier: 'gold', region: 'eu', env: 'prod' },
      },
    ],
    [
      'wiki-staging',
      { heartbeatMs: 2 * 3_600_000, failingRuns: 3, labels: { tier: 'gold', region: 'eu' } },
    ],
  ])('%s', (connector, expected) => {
    expect(contracts.connectorSettings('wiki', connector)).toMatchObject({
      system: 'wiki',
      connector,
      ...expected,
      owner: { team: 'wiki-team', platformOwner: 'platform' },
      contract: { file: 'contracts/f1.yaml', version: '7' },
      shadow: false,
    });
  });

  it('is undefined for a system without a contract', () => {
    expect(contracts.connectorSettings('crm', 'crm-prod')).toBeUndefined();
  });
});

describe('AllowedCheck.test', () => {
  const contracts = load(`apiVersion: tidemark/v1
kind: SourceContract
system: s
version: 1
allowed:
  classification: { values: [public, internal] }
  sizeBytes: { min: 0, max: 10 }
  language: { pattern: '^[a-z]{2}$' }
  attributes.tier: { values: [1, 2], min: 2 }
  attributes.tags: { pattern: '^[a-z]+$' }
`);
  const check = (field: string) => {
    const found = contracts.settingsFor('s')?.allowed.find((a) => a.field === field);
    if (found === undefined) throw new Error(`no allowed check for ${field}`);
    return found;
  };

  it.each<[string, unknown, boolean]>([
    ['classification', 'public', true],
    ['classification', 'secret', false],
    ['classification', 1, false],
    ['sizeBytes', 0, true],
    ['sizeBytes', 10, true],
    ['sizeBytes', 10.5, false],
    ['sizeBytes', -1, false],
    ['sizeBytes', '5', false],
    ['sizeBytes', Number.NaN, false],
    ['language', 'en', true],
    ['language', 'eng', false],
    ['language', 3, false],
    ['attributes.tier', 2, true],
    ['attributes.tier', 1, false],
    ['attributes.tags', ['a', 'b'], true],
    ['attributes.tags', ['a', 'B'], false],
    ['attributes.tags', [], true],
  ])('%s: %j → %s', (field, value, expected) => {
    expect(check(field).test(value)).toBe(expected);
  });

  it('describes what is expected', () => {
    expect(check('attributes.tier').expected).toBe('one of 1, 2 and a number >= 2');
    expect(check('language').expected).toBe('a string matching ^[a-z]{2}$');
  });
});

describe('shadow candidates', () => {
  const enforced = `apiVersion: tidemark/v1
kind: SourceContract
system: kb
version: 3
required: [title]
rules:
  - { name: titled, expression: 'has(data.title)', message: needs a title }
`;
  const candidate = `apiVersion: tidemark/v1
kind: SourceContract
system: kb
version: 4
mode: shadow
required: [title, owner]
classes:
  faq:
    rules:
      - { name: short, expression: 'size(data.title) < 80', message: short titles }
`;
  const lone = `apiVersion: tidemark/v1
kind: SourceContract
system: crm
version: 1
mode: shadow
`;

  it.each([
    ['enforced first', [enforced, candidate]],
    ['candidate first', [candidate, enforced]],
  ])('keeps the enforced contract in settingsFor and the candidate apart (%s)', (_, texts) => {
    const contracts = load(...texts);
    expect(contracts.systems).toEqual(['kb']);
    expect(contracts.shadowSystems).toEqual(['kb']);
    const live = contracts.settingsFor('kb', 'faq');
    expect(live).toMatchObject({ shadow: false, required: ['title'], contract: { version: '3' } });
    const next = contracts.shadowSettingsFor('kb', 'faq');
    expect(next).toMatchObject({ shadow: true, required: ['title', 'owner'] });
    expect(next?.contract.version).toBe('4');
    expect(next?.rules.map((r) => [r.name, r.shadow])).toEqual([['short', true]]);
    expect(contracts.contractRef('kb')?.version).toBe('3');
  });

  it.each([
    ['a system without a candidate', 'crm', undefined],
    ['a system without any contract', 'gdrive', undefined],
  ])('shadowSettingsFor is undefined for %s', (_, system, expected) => {
    const contracts = load(enforced, candidate, lone);
    expect(contracts.shadowSettingsFor(system)).toBe(expected);
  });

  it('keeps a lone shadow contract as its system contract (no candidate)', () => {
    const contracts = load(lone);
    expect(contracts.systems).toEqual(['crm']);
    expect(contracts.shadowSystems).toEqual([]);
    expect(contracts.settingsFor('crm')?.shadow).toBe(true);
  });
});
