import { loadContractsOrThrow } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { resolveDriftConfig } from './check/config.js';
import { driftConfigFromContracts } from './contracts.js';

const WIKI = `
apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: 3
owner: { team: docs, platformOwner: platform }
labels: { tier: gold }
drift:
  - { name: size, kind: numeric, field: sizeBytes, window: 2h, minSamples: 50, bins: 8, thresholds: { psi: 0.3 } }
  - { name: per-connector, kind: volume, by: connector, window: 1h, mode: shadow }
  - { name: changes, kind: volume, window: 1d, baseline: { mode: pinned, reference: '2026-01-05T00:00:00Z' } }
classes:
  policy:
    owner: { steward: policy@example.com }
    labels: { tier: platinum }
    drift:
      - { name: language, kind: categorical, field: language, topK: 5, severity: high }
`;
const DOCS = `
apiVersion: tidemark/v1
kind: SourceContract
system: docs
version: 1
mode: shadow
drift:
  - { name: size, kind: numeric, field: attributes.words, classes: [faq, macro] }
classes:
  faq: {}
  macro: {}
`;
const OWNERS = `
apiVersion: tidemark/v1
kind: Owners
teams:
  docs: {}
  platform: {}
`;

const contracts = loadContractsOrThrow([
  { path: 'contracts/wiki.yaml', text: WIKI },
  { path: 'contracts/docs.yaml', text: DOCS },
  { path: 'contracts/owners.yaml', text: OWNERS },
]);

describe('driftConfigFromContracts', () => {
  const config = driftConfigFromContracts(contracts, { allowedLatenessMs: 5000 });
  const byKey = new Map(config.features.map((f) => [`${f.systems![0]}/${f.name}`, f]));
  const wikiOwner = { team: 'docs', platformOwner: 'platform' };
  const wiki = { file: 'contracts/wiki.yaml', version: '3' };

  it.each([
    [
      'docs/size',
      {
        kind: 'numeric',
        field: 'attributes.words',
        eventTypes: ['content.upserted'],
        systems: ['docs'],
        contentClasses: ['faq', 'macro'],
        groupBy: 'system',
        windowMs: 3_600_000,
        baseline: { mode: 'rolling', windows: 24 },
        minSamples: 100,
        thresholds: { psi: 0.2, ksPValue: 0.01 },
        bins: 10,
        topK: 20,
        severity: 'warning',
        owner: {},
        contract: { file: 'contracts/docs.yaml', version: '1' },
        shadow: true,
        labels: {},
      },
    ],
    [
      'wiki/size',
      {
        kind: 'numeric',
        systems: ['wiki'],
        windowMs: 7_200_000,
        minSamples: 50,
        bins: 8,
        thresholds: { psi: 0.3, ksPValue: 0.01 },
        owner: wikiOwner,
        labels: { tier: 'gold' },
        contract: wiki,
        shadow: false,
      },
    ],
    [
      'wiki/per-connector',
      {
        kind: 'volume',
        eventTypes: ['index.upserted', 'index.removed'],
        groupBy: 'connector',
        thresholds: { volumeScore: 3.5 },
        shadow: true,
      },
    ],
    [
      'wiki/changes',
      {
        kind: 'volume',
        eventTypes: ['content.upserted', 'content.deleted'],
        groupBy: 'system',
        baseline: {
          mode: 'pinned',
          reference: {
            name: '2026-01-05T00:00:00Z',
            from: Date.UTC(2026, 0, 5),
            to: Date.UTC(2026, 0, 6),
          },
        },
      },
    ],
    [
      'wiki/language',
      {
        kind: 'categorical',
        field: 'language',
        contentClasses: ['policy'],
        topK: 5,
        severity: 'high',
        thresholds: { chiSquarePValue: 0.01, jsDistance: 0.1 },
        owner: { ...wikiOwner, steward: 'policy@example.com' },
        labels: { tier: 'platinum' },
      },
    ],
  ])('maps %s', (key, expected) => {
    expect(byKey.get(key)).toMatchObject(expected);
  });

  it('maps every feature once, keeps the settings, and resolves (same names in two systems are fine)', () => {
    expect([...byKey.keys()].sort()).toEqual([
      'docs/size',
      'wiki/changes',
      'wiki/language',
      'wiki/per-connector',
      'wiki/size',
    ]);
    expect(config.allowedLatenessMs).toBe(5000);
    expect(resolveDriftConfig(config).features).toHaveLength(5);
  });
});
