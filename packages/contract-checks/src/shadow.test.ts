import { describe, expect, it } from 'vitest';
import { findingFingerprint } from '@tidemark/core';
import type { Violation } from './evaluate.js';
import {
  candidateFingerprint,
  closeShadowDiff,
  compareViolations,
  countShadowDiff,
  type ShadowDiffContext,
  type ShadowDiffEntry,
} from './shadow.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-02T10:00:00Z');
const v = (check: Violation['check'], key: string): Violation => ({
  check,
  key,
  severity: 'warning',
  shadow: false,
  summary: '',
  evidence: {},
});
const context: ShadowDiffContext = {
  system: 'kb',
  partition: 2,
  enforced: { file: 'contracts/kb.yaml', version: '3' },
  candidate: { file: 'contracts/kb-next.yaml', version: '4' },
  owner: { team: 'docs' },
};

describe('compareViolations', () => {
  it.each([
    ['nothing found by either', [], [], []],
    ['the candidate only', [], [v('contract.rule', 'r')], ['contract.rule r candidate']],
    [
      'the enforced only',
      [v('contract.required', 'owner')],
      [],
      ['contract.required owner enforced'],
    ],
    [
      'both, told apart per check and key',
      [v('contract.required', 'owner'), v('contract.allowed', 'owner')],
      [v('contract.required', 'owner'), v('contract.rule', 'owner')],
      [
        'contract.required owner both',
        'contract.allowed owner enforced',
        'contract.rule owner candidate',
      ],
    ],
  ])('%s', (_, enforced, candidate, expected) => {
    expect(
      compareViolations(enforced, candidate).map((c) => `${c.check} ${c.key} ${c.side}`),
    ).toEqual(expected);
  });
});

describe('countShadowDiff', () => {
  it('starts a period aligned to its length and counts revisions and sides', () => {
    let tally = countShadowDiff(
      undefined,
      [{ check: 'contract.rule', key: 'r', side: 'candidate' }],
      T0 + 10 * 60_000,
      HOUR,
    );
    tally = countShadowDiff(
      tally,
      [
        { check: 'contract.rule', key: 'r', side: 'both' },
        { check: 'contract.required', key: 'owner', side: 'enforced' },
      ],
      T0 + 20 * 60_000,
      HOUR,
    );
    tally = countShadowDiff(tally, [], T0 + 30 * 60_000, HOUR);
    expect(tally).toEqual({
      start: T0,
      end: T0 + HOUR,
      revisions: 3,
      counts: { 'contract.rule|r': [1, 0, 1], 'contract.required|owner': [0, 1, 0] },
      firing: false,
    });
  });

  it('starts a new period from an idle tally, keeping its firing flag', () => {
    const idle: ShadowDiffEntry = { start: 0, end: 0, revisions: 0, counts: {}, firing: true };
    expect(countShadowDiff(idle, [], T0 + 2 * HOUR + 5, HOUR)).toMatchObject({
      start: T0 + 2 * HOUR,
      end: T0 + 3 * HOUR,
      revisions: 1,
      firing: true,
    });
  });

  it('never changes the tally it is given', () => {
    const before = countShadowDiff(undefined, [], T0, HOUR);
    const copy = structuredClone(before);
    countShadowDiff(before, [{ check: 'contract.rule', key: 'r', side: 'both' }], T0 + 1, HOUR);
    expect(before).toEqual(copy);
  });
});

describe('closeShadowDiff', () => {
  const tally = (counts: ShadowDiffEntry['counts'], firing = false): ShadowDiffEntry => ({
    start: T0,
    end: T0 + HOUR,
    revisions: 40,
    counts,
    firing,
  });

  it.each([
    [
      'a period not over yet',
      tally({ 'contract.rule|r': [1, 0, 0] }),
      T0 + HOUR - 1,
      undefined,
      'kept',
    ],
    ['disagreement', tally({ 'contract.rule|r': [1, 0, 0] }), T0 + HOUR, 'firing', 'idle, firing'],
    [
      'agreement after nothing fired',
      tally({ 'contract.rule|r': [0, 0, 5] }),
      T0 + HOUR,
      undefined,
      'gone',
    ],
    ['agreement after a firing diff', tally({}, true), T0 + HOUR, 'resolved', 'gone'],
    [
      'an idle firing tally (no evidence)',
      { start: 0, end: 0, revisions: 0, counts: {}, firing: true },
      T0 + 5 * HOUR,
      undefined,
      'kept',
    ],
    [
      'an idle quiet tally',
      { start: 0, end: 0, revisions: 0, counts: {}, firing: false },
      T0,
      undefined,
      'gone',
    ],
  ] as const)('%s', (_, entry, now, status, next) => {
    const closed = closeShadowDiff(entry, now, context);
    expect(closed.finding?.status).toBe(status);
    const shown =
      closed.entry === undefined
        ? 'gone'
        : closed.entry === entry
          ? 'kept'
          : `idle, ${closed.entry.firing ? 'firing' : 'quiet'}`;
    expect(shown).toBe(next);
  });

  it('names per rule what each side found alone, as a shadow info finding with a stable identity', () => {
    const entry = tally({
      'contract.rule|titled': [0, 3, 1],
      'contract.required|owner': [12, 0, 0],
      'contract.allowed|language': [0, 0, 7],
    });
    const { finding } = closeShadowDiff(entry, T0 + HOUR + 30_000, context);
    expect(finding).toMatchObject({
      check: 'contract.shadow-diff',
      status: 'firing',
      severity: 'info',
      shadow: true,
      subject: { system: 'kb', partition: '2' },
      owner: { team: 'docs' },
      contract: { file: 'contracts/kb-next.yaml', version: '4' },
      observedAt: '2026-11-02T11:00:00.000Z',
      summary:
        'kb: shadow candidate v4 vs enforced v3 over 40 revisions (partition 2): candidate only 12 (owner ×12); enforced only 3 (titled ×3)',
      evidence: {
        window: { start: '2026-11-02T10:00:00.000Z', end: '2026-11-02T11:00:00.000Z' },
        revisions: 40,
        candidate: { file: 'contracts/kb-next.yaml', version: '4' },
        enforced: { file: 'contracts/kb.yaml', version: '3' },
        rules: [
          {
            check: 'contract.required',
            rule: 'owner',
            candidateOnly: 12,
            enforcedOnly: 0,
            both: 0,
          },
          { check: 'contract.rule', rule: 'titled', candidateOnly: 0, enforcedOnly: 3, both: 1 },
          {
            check: 'contract.allowed',
            rule: 'language',
            candidateOnly: 0,
            enforcedOnly: 0,
            both: 7,
          },
        ],
      },
    });
    // Same state and time, same finding: the fingerprint is per system and partition, not per period.
    expect(closeShadowDiff(entry, T0 + HOUR + 30_000, context).finding).toEqual(finding);
    expect(finding?.fingerprint).toBe(
      findingFingerprint('contract.shadow-diff', { system: 'kb', partition: '2' }),
    );
  });
});

describe('closeShadowDiff summary', () => {
  it('names each side’s rules by that side’s count, at most three, in code-unit order on ties', () => {
    const entry: ShadowDiffEntry = {
      start: T0,
      end: T0 + HOUR,
      revisions: 9,
      counts: {
        'contract.rule|a': [1, 5, 0],
        'contract.rule|b': [3, 0, 0],
        'contract.rule|Z': [1, 0, 0],
        'contract.rule|c': [1, 0, 0],
      },
      firing: false,
    };
    expect(closeShadowDiff(entry, T0 + HOUR, context).finding?.summary).toBe(
      'kb: shadow candidate v4 vs enforced v3 over 9 revisions (partition 2): candidate only 6 (b ×3, Z ×1, a ×1, …); enforced only 5 (a ×5)',
    );
  });
});

describe('candidateFingerprint', () => {
  it('differs from the enforced finding about the same check and subject, and is stable', () => {
    const subject = { system: 'kb', docId: 'a', field: 'owner' };
    expect(candidateFingerprint('contract.required', subject)).not.toBe(
      findingFingerprint('contract.required', subject),
    );
    expect(candidateFingerprint('contract.required', subject)).toBe(
      candidateFingerprint('contract.required', { ...subject }),
    );
  });
});
