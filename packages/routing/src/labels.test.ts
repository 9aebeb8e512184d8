import { buildFinding } from '@tidemark/core';
import type { FindingInput } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { findingLabels, routingKey } from './labels.js';
import { resolveOwner } from './owners.js';
import type { OwnersLookup } from './owners.js';

const base: FindingInput = {
  check: 'contract.required',
  status: 'firing',
  severity: 'high',
  subject: { system: 'wiki', docId: 'd1', connector: 'c1', contentClass: 'policy' },
  owner: { team: 'legal' },
  summary: 's',
  evidence: {},
  observedAt: '2025-03-03T10:00:00Z',
};

describe('findingLabels', () => {
  it.each([
    [
      base,
      {
        alertname: 'contract.required',
        check: 'contract.required',
        severity: 'high',
        system: 'wiki',
        connector: 'c1',
        contentClass: 'policy',
        team: 'legal',
      },
    ],
    [
      { ...base, subject: { system: 'crm' }, owner: {} },
      {
        alertname: 'contract.required',
        check: 'contract.required',
        severity: 'high',
        system: 'crm',
      },
    ],
    // contract labels are added, but cannot replace the finding's own (alertname included)
    [
      { ...base, labels: { region: 'eu', system: 'spoofed', alertname: 'spoofed', empty: '' } },
      {
        region: 'eu',
        alertname: 'contract.required',
        check: 'contract.required',
        severity: 'high',
        system: 'wiki',
        connector: 'c1',
        contentClass: 'policy',
        team: 'legal',
      },
    ],
  ])('%#', (input, labels) => {
    expect(findingLabels(buildFinding(input))).toEqual(labels);
  });

  it('re-keys by the partition label', () => {
    expect(routingKey(buildFinding(base))).toBe('wiki');
    expect(routingKey(buildFinding(base), 'team')).toBe('legal');
  });
});

describe('resolveOwner', () => {
  const owners: OwnersLookup = {
    contentClassSteward: (s, c) => (s === 'wiki' && c === 'policy' ? 'carol' : ''),
    systemTeam: (s) => (s === 'wiki' ? 'wiki-team' : undefined),
    platformOwner: () => 'platform',
  };
  it.each([
    [
      { steward: 'alice', team: 'legal' },
      'policy',
      owners,
      { assignee: 'alice', team: 'legal', via: 'document' },
    ],
    [{}, 'policy', owners, { assignee: 'carol', team: 'wiki-team', via: 'content-class' }],
    [{}, 'page', owners, { assignee: 'wiki-team', team: 'wiki-team', via: 'system-team' }],
    [{ team: 'legal' }, 'page', owners, { assignee: 'legal', team: 'legal', via: 'system-team' }],
    [{}, 'page', { platformOwner: () => 'platform' }, { assignee: 'platform', via: 'platform' }],
    [{ steward: '' }, 'page', {}, { assignee: 'unowned', via: 'unowned' }],
  ])('%j %s', (owner, contentClass, lookup, expected) => {
    const f = buildFinding({
      ...base,
      owner,
      subject: { system: 'wiki', docId: 'd1', contentClass },
    });
    expect(resolveOwner(f, lookup)).toEqual(expected);
  });
});
