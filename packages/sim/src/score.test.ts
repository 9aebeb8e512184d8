import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { defaultFaultPlan } from './default-faults.js';
import { readFinding, readTruth, score, truthMatches, type ScoredFinding } from './score.js';
import { failures, formatScorecard } from './scorecard.js';
import { simulate } from './simulate.js';
import type { TruthEntry } from './types.js';

const truthEntry = (
  check: string,
  subject: TruthEntry['subject'],
  injectedAt: string,
  extra: Partial<TruthEntry> = {},
): TruthEntry => ({
  check,
  subject,
  injectedAt,
  fault: 0,
  ...extra,
});
const firing = (
  check: string,
  subject: ScoredFinding['subject'],
  observedAt: string,
  fingerprint?: string,
): ScoredFinding => ({
  check,
  status: 'firing',
  subject,
  observedAt,
  ...(fingerprint ? { fingerprint } : {}),
});

describe('truthMatches', () => {
  const at = '2025-03-03T10:00:00.000Z';
  it.each([
    [
      'same document',
      truthEntry('freshness.sync-lag', { system: 'c', docId: '1' }, at),
      firing('freshness.sync-lag', { system: 'c', docId: '1' }, at),
      true,
    ],
    [
      'another document',
      truthEntry('freshness.sync-lag', { system: 'c', docId: '1' }, at),
      firing('freshness.sync-lag', { system: 'c', docId: '2' }, at),
      false,
    ],
    [
      'another system',
      truthEntry('freshness.sync-lag', { system: 'c', docId: '1' }, at),
      firing('freshness.sync-lag', { system: 'z', docId: '1' }, at),
      false,
    ],
    [
      'another check',
      truthEntry('freshness.sync-lag', { system: 'c', docId: '1' }, at),
      firing('parity.orphan', { system: 'c', docId: '1' }, at),
      false,
    ],
    // Strict (issue 13): a key missing on either side is a mismatch, not a match.
    [
      'a system-wide finding is not the document’s',
      truthEntry('parity.orphan', { system: 'c', docId: '1' }, at),
      firing('parity.orphan', { system: 'c' }, at),
      false,
    ],
    [
      'a system-wide finding matches a system-wide entry',
      truthEntry('parity.orphan', { system: 'c' }, at),
      firing('parity.orphan', { system: 'c' }, at),
      true,
    ],
    [
      'a truth entry without document does not match a document’s finding',
      truthEntry('freshness.sync-lag', { system: 'c' }, at),
      firing('freshness.sync-lag', { system: 'c', docId: '9' }, at),
      false,
    ],
    [
      'unless it covers every document explicitly',
      truthEntry('freshness.sync-lag', { system: 'c' }, at, { covers: ['docId'] }),
      firing('freshness.sync-lag', { system: 'c', docId: '9' }, at),
      true,
    ],
    [
      'a finding without the field the truth names',
      truthEntry('contract.required', { system: 'c', docId: '1', field: 'owner' }, at),
      firing('contract.required', { system: 'c', docId: '1' }, at),
      false,
    ],
    [
      'a drift finding without field or feature',
      truthEntry('drift.numeric', { system: 'c', feature: 'sizeBytes' }, at),
      firing('drift.numeric', { system: 'c' }, at),
      false,
    ],
    [
      'the same field',
      truthEntry('contract.required', { system: 'c', docId: '1', field: 'owner' }, at),
      firing('contract.required', { system: 'c', docId: '1', field: 'owner' }, at),
      true,
    ],
    [
      'the same field with a data. prefix',
      truthEntry('contract.required', { system: 'c', docId: '1', field: 'owner' }, at),
      firing('contract.required', { system: 'c', docId: '1', field: 'data.owner' }, at),
      true,
    ],
    [
      'another field',
      truthEntry('contract.required', { system: 'c', docId: '1', field: 'owner' }, at),
      firing('contract.required', { system: 'c', docId: '1', field: 'title' }, at),
      false,
    ],
    [
      'a rule finding names its rule, not a field',
      truthEntry('contract.rule', { system: 'c', docId: '1' }, at),
      firing('contract.rule', { system: 'c', docId: '1', field: 'deprecated-needs-successor' }, at),
      true,
    ],
    [
      'a drift feature matched by its field',
      truthEntry('drift.numeric', { system: 'c', feature: 'sizeBytes' }, at),
      firing('drift.numeric', { system: 'c', feature: 'size-bytes', field: 'sizeBytes' }, at),
      true,
    ],
    [
      'another drift feature',
      truthEntry('drift.numeric', { system: 'c', feature: 'sizeBytes' }, at),
      firing('drift.numeric', { system: 'c', feature: 'language', field: 'language' }, at),
      false,
    ],
    [
      'another connector',
      truthEntry('freshness.connector-silent', { system: 'c', connector: 'a' }, at),
      firing('freshness.connector-silent', { system: 'c', connector: 'b' }, at),
      false,
    ],
    [
      'volume per connector of a system-wide entry',
      truthEntry('drift.volume', { system: 'c' }, at),
      firing('drift.volume', { system: 'c', connector: 'a', feature: 'change-volume' }, at),
      false,
    ],
    [
      'volume per connector of an entry covering every connector',
      truthEntry('drift.volume', { system: 'c' }, at, { covers: ['connector'] }),
      firing('drift.volume', { system: 'c', connector: 'a', feature: 'change-volume' }, at),
      true,
    ],
    [
      'envelope findings are per system and service',
      truthEntry('envelope.invalid', { system: 'c', docId: '1' }, at),
      firing(
        'envelope.invalid',
        { system: 'c', feature: 'freshness-monitor:content.changes.v1' },
        at,
      ),
      true,
    ],
  ] as const)('%s', (_, entry, finding, expected) => {
    expect(truthMatches(entry, finding)).toBe(expected);
  });
});

describe('score', () => {
  const truth: TruthEntry[] = [
    truthEntry('freshness.sync-lag', { system: 'c', docId: '1' }, '2025-03-03T10:00:00.000Z'),
    truthEntry('freshness.sync-lag', { system: 'c', docId: '2' }, '2025-03-03T10:00:00.000Z'),
    truthEntry('freshness.sync-lag', { system: 'c', docId: '3' }, '2025-03-03T10:00:00.000Z'),
    truthEntry('freshness.sync-lag', { system: 'z' }, '2025-03-03T09:00:00.000Z', {
      optional: true,
      covers: ['docId'],
    }),
    truthEntry(
      'freshness.connector-silent',
      { system: 'c', connector: 'c-prod' },
      '2025-03-03T10:00:00.000Z',
    ),
  ];
  const findings: ScoredFinding[] = [
    firing('freshness.sync-lag', { system: 'c', docId: '1' }, '2025-03-03T10:30:00.000Z', 'f1'),
    firing('freshness.sync-lag', { system: 'c', docId: '1' }, '2025-03-03T10:40:00.000Z', 'f1'), // same problem again
    firing('freshness.sync-lag', { system: 'c', docId: '2' }, '2025-03-03T11:00:00.000Z', 'f2'),
    {
      ...firing(
        'freshness.sync-lag',
        { system: 'c', docId: '2' },
        '2025-03-03T11:10:00.000Z',
        'f2',
      ),
      status: 'resolved',
    },
    firing('freshness.sync-lag', { system: 'c', docId: '9' }, '2025-03-03T10:20:00.000Z', 'f3'), // clean document
    firing('freshness.sync-lag', { system: 'z', docId: '77' }, '2025-03-03T10:00:00.000Z', 'f4'), // an allowed consequence
    firing('freshness.sync-lag', { system: 'c', docId: '3' }, '2025-03-03T09:00:00.000Z', 'f5'), // before the fault
    {
      ...firing(
        'freshness.connector-silent',
        { system: 'c', connector: 'c-prod' },
        '2025-03-03T12:00:00.000Z',
        'f6',
      ),
      shadow: true,
    },
    firing('drift.volume', { system: 'c' }, '2025-03-03T12:00:00.000Z', 'f7'), // nothing injected
  ];
  const card = score({ truth, findings });
  const row = (check: string) => card.checks.find((r) => r.check === check)!;
  const MIN = 60_000;

  it('counts recall over required faults and precision over distinct firing problems', () => {
    expect(card.checks.map((r) => r.check)).toEqual([
      'freshness.sync-lag',
      'freshness.connector-silent',
      'drift.volume',
    ]);
    const lag = row('freshness.sync-lag');
    expect([lag.injected, lag.detected, lag.recall]).toEqual([3, 2, 2 / 3]);
    expect([lag.findings, lag.truePositives, lag.falsePositives, lag.precision]).toEqual([
      5,
      3,
      2,
      3 / 5,
    ]);
    expect(lag.missed.map((m) => m.subject.docId)).toEqual(['3']);
    expect(lag.falseAlarms.map((f) => f.fingerprint)).toEqual(['f3', 'f5']);
  });

  it('measures time to detect from injection to the first firing finding', () => {
    expect(row('freshness.sync-lag').ttd).toEqual({
      meanMs: 45 * MIN,
      p50Ms: 30 * MIN,
      maxMs: 60 * MIN,
    });
    expect(row('freshness.connector-silent').ttd).toEqual({
      meanMs: 120 * MIN,
      p50Ms: 120 * MIN,
      maxMs: 120 * MIN,
    });
  });

  it('reports a check nobody injected with no recall and zero precision', () => {
    const volume = row('drift.volume');
    expect([volume.injected, volume.recall, volume.findings, volume.precision, volume.ttd]).toEqual(
      [0, null, 1, 0, null],
    );
  });

  it('totals over every check', () => {
    expect(card.total).toEqual({
      injected: 4,
      detected: 3,
      recall: 3 / 4,
      findings: 7,
      truePositives: 4,
      falsePositives: 3,
      precision: 4 / 7,
    });
  });

  it('leaves shadow findings out when asked, and ignored checks entirely', () => {
    const strict = score({ truth, findings, includeShadow: false, ignoreChecks: ['drift.volume'] });
    expect(strict.checks.map((r) => [r.check, r.detected, r.findings])).toEqual([
      ['freshness.sync-lag', 2, 5],
      ['freshness.connector-silent', 0, 0],
    ]);
  });

  it('accepts a finding observed slightly before the injection only within the tolerance', () => {
    const early = [
      firing('freshness.sync-lag', { system: 'c', docId: '1' }, '2025-03-03T09:59:59.500Z'),
    ];
    const only = [truth[0]!];
    expect(score({ truth: only, findings: early }).total.detected).toBe(1);
    expect(score({ truth: only, findings: early, earlyToleranceMs: 0 }).total.detected).toBe(0);
  });

  it('lists every way the card falls short of the thresholds', () => {
    expect(failures(card, { minRecall: 0.9, minPrecision: 0.9, maxTtdMs: 90 * MIN })).toEqual([
      'freshness.sync-lag: recall 0.67 < 0.90 (1 of 3 injected faults not found)',
      'freshness.sync-lag: precision 0.60 < 0.90 (2 of 5 findings match no injected fault)',
      'freshness.connector-silent: time to detect up to 2h > 1h30m',
      'drift.volume: precision 0.00 < 0.90 (1 of 1 findings match no injected fault)',
    ]);
    expect(failures(card, { minRecall: 0.5, minPrecision: 0 })).toEqual([]);
  });

  it('formats a readable table with what was missed and what was wrongly reported', () => {
    expect(formatScorecard(card)).toBe(
      [
        'check                       injected  detected  recall  findings  FP  precision  TTD p50  mean  max',
        '--------------------------  --------  --------  ------  --------  --  ---------  -------  ----  ---',
        'freshness.sync-lag                 3         2    0.67         5   2       0.60      30m   45m   1h',
        'freshness.connector-silent         1         1    1.00         1   0       1.00       2h    2h   2h',
        'drift.volume                       0         0       —         1   1       0.00        —     —    —',
        '--------------------------  --------  --------  ------  --------  --  ---------  -------  ----  ---',
        'total                              4         3    0.75         7   3       0.57',
        'missed      freshness.sync-lag c/3 (injected 2025-03-03T10:00:00.000Z)',
        'false alarm freshness.sync-lag c/9 (observed 2025-03-03T10:20:00.000Z)',
        'false alarm freshness.sync-lag c/3 (observed 2025-03-03T09:00:00.000Z)',
        'false alarm drift.volume c (observed 2025-03-03T12:00:00.000Z)',
        '',
      ].join('\n'),
    );
  });
});

describe('score on a simulated run', () => {
  const run = simulate({
    seed: 3,
    docs: 600,
    days: 0.5,
    start: Date.parse('2025-03-03T00:00:00Z'),
    faults: defaultFaultPlan(),
    changesPerDocPerDay: 4,
  });
  const required = run.truth.filter((t) => !t.optional);
  // A perfect detector: one finding per injected fault, when it becomes decidable.
  const perfect = required.map((t, k) =>
    firing(t.check, { ...t.subject }, t.detectableAt ?? t.injectedAt, `p${k}`),
  );

  it('gives a perfect detector recall and precision 1 for every check', () => {
    const card = score({ truth: run.truth, findings: perfect });
    for (const r of card.checks) expect([r.check, r.recall, r.precision]).toEqual([r.check, 1, 1]);
    expect(failures(card, { minRecall: 1, minPrecision: 1 })).toEqual([]);
  });

  it('misses exactly the faults no remaining finding covers', () => {
    const dropped = perfect.filter((_, k) => k % 5 !== 0);
    const card = score({ truth: run.truth, findings: dropped });
    const covered = (t: TruthEntry) =>
      dropped.some(
        (f) => truthMatches(t, f) && Date.parse(f.observedAt) >= Date.parse(t.injectedAt),
      );
    let missed = 0;
    for (const r of card.checks) {
      const expectedMissed = required.filter((t) => t.check === r.check && !covered(t)).length;
      expect([r.check, r.injected - r.detected]).toEqual([r.check, expectedMissed]);
      expect(r.precision).toBe(r.findings === 0 ? null : 1);
      missed += expectedMissed;
    }
    // Per-document faults are identified by their document, so most dropped findings are real misses.
    expect(missed).toBeGreaterThan(required.length / 10);
  });
});

describe('readFinding', () => {
  const finding = {
    check: 'parity.orphan',
    status: 'firing',
    severity: 'warning',
    fingerprint: 'abc',
    subject: { system: 'c', docId: '1' },
    owner: {},
    summary: 's',
    evidence: {},
    observedAt: '2025-03-03T10:00:00.000Z',
  };
  const event = {
    specversion: '1.0',
    id: 'x',
    source: 'tidemark/parity-verifier',
    type: 'tidemark.finding',
    time: finding.observedAt,
    data: finding,
  };

  it.each([
    ['a finding', finding],
    ['a tidemark.finding CloudEvent', event],
    ['a record envelope', { topic: 'dq.findings.v1', key: 'abc', value: JSON.stringify(event) }],
  ])('reads %s', (_, value) => {
    expect(readFinding(value)).toEqual(finding);
  });

  it('skips other events', () => {
    expect(readFinding({ ...event, type: 'tidemark.alert' })).toBeUndefined();
  });

  it('rejects a finding without what the scorecard needs', () => {
    expect(() => readFinding({ ...finding, observedAt: undefined })).toThrow(
      new RangeError('finding of parity.orphan lacks status, subject.system or observedAt'),
    );
    expect(() => readFinding({ ...finding, observedAt: 'yesterday' })).toThrow(RangeError);
  });
});

describe('readTruth', () => {
  it('reads { meta, truth } and bare lists', () => {
    const entries = [truthEntry('parity.orphan', { system: 'c' }, '2025-03-03T10:00:00.000Z')];
    expect(readTruth({ meta: {}, truth: entries })).toEqual(entries);
    expect(readTruth(entries)).toEqual(entries);
  });

  it('lists every problem', () => {
    let error: unknown;
    try {
      readTruth([{ check: 1, subject: {}, injectedAt: 'x', fault: 0 }, 'nope']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'truth[0].check: must be a string',
      'truth[0].subject.system: must be a string',
      'truth[0].injectedAt: must be an RFC 3339 time, got "x"',
      'truth[1]: must be an object',
    ]);
  });
});
