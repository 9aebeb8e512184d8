import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS_YAML, defaultFaultPlan } from './default-faults.js';
import {
  FAULT_KEYS,
  FAULT_KINDS,
  parseFaultPlan,
  resolveOffset,
  validateFaultPlan,
} from './faults.js';

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('validateFaultPlan', () => {
  it.each([
    ['not a mapping', [], ['plan: must be a mapping with a "faults" list']],
    ['no faults list', { faults: 'x' }, ['faults: must be a list of faults']],
    [
      'unknown top-level key',
      { faults: [], extra: 1 },
      ['extra: unknown key (allowed: name, description, faults)'],
    ],
    [
      'unknown kind',
      { faults: [{ kind: 'parity.gone', at: '1h' }] },
      [`faults[0].kind: must be one of ${FAULT_KINDS.join(', ')}; got "parity.gone"`],
    ],
    [
      'missing at',
      { faults: [{ kind: 'parity.orphan' }] },
      ['faults[0].at: is required (a duration such as "2h" or a share such as "40%")'],
    ],
    [
      'bad at',
      { faults: [{ kind: 'parity.orphan', at: 'soon' }] },
      [
        'faults[0].at: not a duration: "soon" (use e.g. "30s", "15m", "4h", "7d", "1h30m"), or a share of the run such as "40%"',
      ],
    ],
    [
      'at ≥ 100%',
      { faults: [{ kind: 'parity.orphan', at: '100%' }] },
      ['faults[0].at: must be below 100%, got 100%'],
    ],
    [
      'number at',
      { faults: [{ kind: 'parity.orphan', at: 5 }] },
      ['faults[0].at: must be a duration such as "2h" or a share such as "40%", got 5'],
    ],
    [
      'key of another kind',
      { faults: [{ kind: 'freshness.sync-lag', at: '1h', factor: 0.5 }] },
      [
        `faults[0].factor: not a setting of freshness.sync-lag (allowed: ${FAULT_KEYS['freshness.sync-lag'].join(', ')})`,
      ],
    ],
    [
      'count 0',
      { faults: [{ kind: 'parity.orphan', at: '1h', count: 0 }] },
      ['faults[0].count: must be an integer from 1 to 1000000, got 0'],
    ],
    [
      'count vs targets',
      { faults: [{ kind: 'parity.acl-mismatch', at: '1h', count: 2, targets: ['a'] }] },
      ['faults[0].count: is 2 but 1 targets are listed'],
    ],
    [
      'empty targets',
      { faults: [{ kind: 'parity.acl-mismatch', at: '1h', targets: [] }] },
      ['faults[0].targets: must be a non-empty list of document ids'],
    ],
    [
      'bad duration',
      { faults: [{ kind: 'freshness.connector-silent', at: '1h', for: '3 hours' }] },
      ['faults[0].for: not a duration: "3 hours" (use e.g. "30s", "15m", "4h", "7d", "1h30m")'],
    ],
    [
      'zero duration',
      { faults: [{ kind: 'parity.resurrected', at: '1h', after: '0' }] },
      ['faults[0].after: must be longer than 0'],
    ],
    [
      'bad field',
      { faults: [{ kind: 'contract.required', at: '1h', field: 'data..owner' }] },
      [
        'faults[0].field: must be a field path such as "owner" or "attributes.region", got "data..owner"',
      ],
    ],
    [
      'bad as',
      { faults: [{ kind: 'contract.required', at: '1h', as: 'gone' }] },
      ['faults[0].as: must be one of null, missing, empty; got "gone"'],
    ],
    [
      'bad form',
      { faults: [{ kind: 'envelope.invalid', at: '1h', form: 'binary' }] },
      [
        'faults[0].form: must be one of invalid-json, not-cloudevent, unknown-type, schema, mixed; got "binary"',
      ],
    ],
    [
      'bad topic',
      { faults: [{ kind: 'envelope.invalid', at: '1h', topic: 'alerts' }] },
      ['faults[0].topic: must be one of content, sync, inventory; got "alerts"'],
    ],
    [
      'bad inventory side',
      { faults: [{ kind: 'parity.snapshot-incomplete', at: '1h', side: 'both' }] },
      ['faults[0].side: must be one of source, index; got "both"'],
    ],
    [
      'a key of another kind on a mass removal',
      { faults: [{ kind: 'parity.mass-removal', at: '1h', side: 'index' }] },
      [
        `faults[0].side: not a setting of parity.mass-removal (allowed: ${FAULT_KEYS['parity.mass-removal'].join(', ')})`,
      ],
    ],
    [
      'share 0',
      { faults: [{ kind: 'drift.categorical', at: '1h', share: 0 }] },
      ['faults[0].share: must be a number in (0, 1], got 0'],
    ],
    [
      'factor 1',
      { faults: [{ kind: 'drift.volume', at: '1h', factor: 1 }] },
      ['faults[0].factor: must be a number ≥ 0 other than 1, got 1'],
    ],
    [
      'empty set',
      { faults: [{ kind: 'contract.rule', at: '1h', set: {} }] },
      ['faults[0].set: must be a mapping of data fields to values'],
    ],
    [
      'bad schemaId',
      { faults: [{ kind: 'contract.schema', at: '1h', schemaId: -1 }] },
      ['faults[0].schemaId: must be an integer from 0 to 2147483647, got -1'],
    ],
    [
      'empty system',
      { faults: [{ kind: 'drift.volume', at: '1h', system: '' }] },
      ['faults[0].system: must be a non-empty string'],
    ],
    [
      'every problem at once',
      { faults: [{ kind: 'parity.orphan', at: 'x', count: -1 }, 7] },
      [
        'faults[0].at: not a duration: "x" (use e.g. "30s", "15m", "4h", "7d", "1h30m"), or a share of the run such as "40%"',
        'faults[0].count: must be an integer from 1 to 1000000, got -1',
        'faults[1]: must be a mapping with "kind" and "at"',
      ],
    ],
  ])('%s', (_, plan, expected) => {
    expect(problemsOf(() => validateFaultPlan(plan))).toEqual(expected);
  });

  it('accepts a plan using every setting of its kind', () => {
    const plan = {
      name: 'n',
      description: 'd',
      faults: [
        {
          kind: 'envelope.invalid',
          at: '10%',
          system: 'zendesk',
          count: 2,
          every: '30s',
          form: 'schema',
          topic: 'sync',
          note: 'x',
        },
        {
          kind: 'contract.required',
          at: '2h',
          field: 'effectiveDate',
          as: 'missing',
          targets: ['a', 'b'],
        },
        {
          kind: 'drift.numeric',
          at: '50%',
          for: '25%',
          field: 'sizeBytes',
          factor: 3,
          share: 0.5,
          contentClass: 'runbook',
        },
      ],
    };
    expect(validateFaultPlan(plan)).toBe(plan);
  });
});

describe('parseFaultPlan', () => {
  it('names file, line and column of each problem', () => {
    const text = [
      'faults:',
      '  - kind: parity.orphan',
      '    at: 2h',
      '    count: 0',
      '  - kind: drift.volume',
      '    at: later',
    ].join('\n');
    expect(problemsOf(() => parseFaultPlan(text, 'plan.yaml'))).toEqual([
      'plan.yaml:4:12: faults[0].count: must be an integer from 1 to 1000000, got 0',
      'plan.yaml:6:9: faults[1].at: not a duration: "later" (use e.g. "30s", "15m", "4h", "7d", "1h30m"), or a share of the run such as "40%"',
    ]);
  });

  it('points an unknown key at the key', () => {
    const text = 'faults:\n  - kind: parity.orphan\n    at: 2h\n    field: owner\n';
    expect(problemsOf(() => parseFaultPlan(text, 'p.yaml'))).toEqual([
      `p.yaml:4:5: faults[0].field: not a setting of parity.orphan (allowed: ${FAULT_KEYS['parity.orphan'].join(', ')})`,
    ]);
  });

  it('points an unknown top-level key at the key', () => {
    expect(problemsOf(() => parseFaultPlan('faults: []\nextra: 1\n', 'p.yaml'))).toEqual([
      'p.yaml:2:1: extra: unknown key (allowed: name, description, faults)',
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const problems = problemsOf(() => parseFaultPlan('faults:\n  - kind: [unclosed\n', 'bad.yaml'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('rejects duplicate keys', () => {
    const problems = problemsOf(() =>
      parseFaultPlan('faults:\n  - kind: parity.orphan\n    at: 1h\n    at: 2h\n', 'dup.yaml'),
    );
    expect(problems[0]).toMatch(/^dup\.yaml:4:5: YAML: Map keys must be unique/);
  });
});

describe('the default plan', () => {
  it('parses and injects every check id of the outputs spec', () => {
    const plan = defaultFaultPlan();
    expect(new Set(plan.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    expect(DEFAULT_FAULTS_YAML).toContain('kind: envelope.invalid');
  });
});

describe('resolveOffset', () => {
  it.each([
    ['2h', 86_400_000, 7_200_000],
    ['25%', 86_400_000, 21_600_000],
    ['12.5%', 8_000, 1_000],
    ['0', 1000, 0],
  ])('%s of a %d ms run is %d ms', (value, duration, expected) => {
    expect(resolveOffset(value, duration)).toBe(expected);
  });
});
