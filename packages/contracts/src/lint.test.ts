import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tidemark/core';
import {
  ContractLintError,
  formatProblems,
  isContractFile,
  lintContracts,
  loadContracts,
  loadContractsOrThrow,
  type ContractFile,
} from './index.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const contractsDir = fileURLToPath(new URL('../../../contracts/', import.meta.url));

function readCase(name: string): ContractFile[] {
  const dir = `${testdata}${name}/`;
  return readdirSync(dir)
    .sort()
    .map((file) => ({ path: file, text: readFileSync(dir + file, 'utf8') }));
}

// One fixture directory per invalid case (testdata/<case>/), with every problem it must produce, exactly.
const cases: Record<string, string[]> = {
  'yaml-syntax': ['c.yaml:9:1: YAML: Missing closing "quote'],
  'duplicate-key': ['c.yaml:7:3: YAML: Map keys must be unique'],
  'not-a-mapping': ['c.yaml:1:1: a contract document must be a mapping'],
  'api-version': [
    'c.yaml:1:13: apiVersion: must be "tidemark/v1" (got "tidemark/v2")',
    'd.yaml:1:1: missing required field "apiVersion" (tidemark/v1)',
  ],
  'unknown-kind': [
    'c.yaml:2:7: kind: must be one of SourceContract, Owners (got "Contract")',
    'd.yaml:1:1: missing required field "kind" (one of SourceContract, Owners)',
  ],
  'unknown-field': [
    'c.yaml:5:1: sla: unknown field (did you mean "slas"?)',
    'c.yaml:10:7: classes.policy.slas.reviewIntreval: unknown field (did you mean "reviewInterval"?)',
    'c.yaml:11:5: classes.policy.owners: unknown field (did you mean "owner"?)',
  ],
  'schema-types': [
    'c.yaml:4:10: version: must be a string or an integer (got a list)',
    'c.yaml:5:11: required: must be a list (got "owner")',
    'c.yaml:10:15: rules[0].severity: must be one of info, warning, high, critical (got "urgent")',
    'c.yaml:14:16: nullRates[0].threshold: must be <= 1 (got 1.5)',
    'c.yaml:15:15: nullRates[0].minCount: must be >= 1 (got 0)',
  ],
  'missing-required': [
    'c.yaml:1:1: missing required field "system"',
    'c.yaml:5:5: rules[0]: missing required field "expression"',
    'c.yaml:8:5: references[0]: missing required field "gracePeriod"',
  ],
  'invalid-name': [
    'c.yaml:3:9: system: must be lowercase letters, digits, ".", "_" or "-" (got "Wiki Pages")',
    'c.yaml:6:3: labels.team-name: invalid key "team-name": must be a label name (letters, digits, "_")',
    'c.yaml:8:3: allowed["attributes..region"]: invalid key "attributes..region": must be a field path such as classification or attributes.region',
    'c.yaml:11:3: classes["Policy Docs"]: invalid key "Policy Docs": must be lowercase letters, digits, ".", "_" or "-"',
  ],
  'bad-duration': [
    'c.yaml:6:12: slas.syncLag: not a duration: "15 minutes" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
    'c.yaml:7:19: slas.reviewInterval: not a duration: "1.5d" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
    'c.yaml:10:18: references[0].gracePeriod: must be a duration such as "30s", "15m", "4h", "7d" (got 10)',
    'c.yaml:13:13: nullRates[0].window: must be a duration such as "30s", "15m", "4h", "7d" (got 0)',
    'c.yaml:16:13: nullRates[1].window: must be longer than 0',
  ],
  'duplicate-rule': [
    'c.yaml:9:11: rules[1].name: duplicate rule name "has-owner" (first at rules[0])',
    'c.yaml:21:15: classes.policy.rules[2].name: duplicate rule name "dated" (first at classes.policy.rules[1])',
  ],
  'cel-syntax': [
    'c.yaml:7:36: rule "plain": syntax error: found & but expecting end of input',
    'c.yaml:10:34: rule "quoted": syntax error: found & but expecting end of input',
    'c.yaml:15:26: rule "block": syntax error: found & but expecting end of input',
  ],
  'cel-not-bool': [
    'c.yaml:7:17: rule "size-plus-one": must return bool, but returns int',
    'c.yaml:10:17: rule "title": must return bool, but returns string on a sample content.upserted event',
    'c.yaml:13:17: rule "mapped": must return bool, but returns list',
  ],
  'cel-undeclared': [
    'c.yaml:7:17: rule "typo": undeclared reference to \'dta\' (rules see data, id, source, type, time, subject, specversion)',
    'c.yaml:10:17: rule "unknown-function": unknown function \'lower\'',
    'c.yaml:13:27: rule "bad-overload": no matching overload for dyn.startsWith(int)',
    'c.yaml:13:49: rule "bad-overload": no matching overload for \'+\' applied to (string, int)',
  ],
  'bad-regex': [
    'c.yaml:7:14: allowed.language.pattern: invalid regular expression: error parsing regexp: missing closing ]: `[a-z`',
    'c.yaml:10:10: allowed.sizeBytes.max: must be >= min (10), got 1',
    'c.yaml:15:18: classes.policy.allowed["attributes.code"].pattern: invalid regular expression: error parsing regexp: invalid nested repetition operator: `**`',
  ],
  'unknown-class': [
    'c.yaml:9:23: rules[0].classes[1]: unknown content class "polcy" (did you mean "policy"? classes: policy, postmortem)',
    'c.yaml:13:15: references[0].classes[0]: unknown content class "runbook" (classes: policy, postmortem)',
  ],
  'unknown-team': [
    'c.yaml:6:9: owner.team: unknown team "complaince" (did you mean "compliance"?); teams are defined in the Owners file',
    'c.yaml:11:22: classes.policy.owner.platformOwner: unknown team "search"; teams are defined in the Owners file',
  ],
  'duplicate-system': [
    'b.yaml:3:9: system: "wiki" already has an enforced contract in a.yaml; a second contract of a system must be its candidate (mode: shadow)',
  ],
  'shadow-twice': [
    'c.yaml:3:9: system: "wiki" already has a shadow contract in b.yaml; a system takes at most one shadow candidate',
  ],
  'shadow-enforces': [
    'b.yaml:11:11: rules[0].mode: a shadow candidate (beside a.yaml) cannot enforce; remove it or use mode: shadow',
    'b.yaml:16:11: classes.policy.mode: a shadow candidate (beside a.yaml) cannot enforce; remove it or use mode: shadow',
  ],
  drift: [
    'c.yaml:8:12: drift[0].field: a volume feature counts events and takes no field',
    'c.yaml:9:5: drift[1]: a numeric feature needs a field',
    'c.yaml:11:11: drift[1].topK: only categorical features take "topK"',
    'c.yaml:12:29: drift[1].thresholds.jsDistance: does not apply to a numeric feature (use psi, ksPValue)',
    'c.yaml:16:15: drift[2].baseline: a pinned baseline needs "reference" (RFC 3339 start of the reference window)',
    'c.yaml:20:15: classes.policy.drift[0].name: duplicate drift feature name "size" (first at drift[1])',
    'c.yaml:23:46: classes.policy.drift[0].baseline.reference: not an RFC 3339 timestamp: "last-monday"',
  ],
};

describe('lintContracts on testdata fixtures', () => {
  it('has a table entry for every fixture directory', () => {
    expect(readdirSync(testdata).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(Object.entries(cases))('%s', (name, expected) => {
    expect(formatProblems(lintContracts(readCase(name))).split('\n')).toEqual(expected);
  });
});

describe('shipped contracts', () => {
  const files = readdirSync(contractsDir)
    .filter(isContractFile)
    .sort()
    .map((file) => ({
      path: `contracts/${file}`,
      text: readFileSync(contractsDir + file, 'utf8'),
    }));

  it('include confluence, zendesk, gdrive and owners', () => {
    expect(files.map((f) => f.path)).toEqual([
      'contracts/confluence.yaml',
      'contracts/gdrive.yaml',
      'contracts/owners.yaml',
      'contracts/zendesk.yaml',
    ]);
  });

  it('lint clean', () => {
    expect(formatProblems(lintContracts(files))).toBe('');
  });

  it('load every system', () => {
    expect(loadContractsOrThrow(files).systems).toEqual(['confluence', 'gdrive', 'zendesk']);
  });
});

describe('isContractFile', () => {
  it.each([
    ['contracts/confluence.yaml', true],
    ['contracts/owners.yml', true],
    ['contracts/routing.yaml', false],
    ['contracts/silences.yaml', false],
    ['contracts/schema/contract.schema.json', false],
    ['contracts/schema/extra.yaml', false],
    ['contracts/README.md', false],
    ['C:\\tidemark\\contracts\\gdrive.yaml', true],
  ])('%s → %s', (path, expected) => {
    expect(isContractFile(path)).toBe(expected);
  });
});

describe('loadContracts', () => {
  const good = `apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: 1
`;
  const bad = `apiVersion: tidemark/v1
kind: SourceContract
system: tickets
version: 1
slas: { syncLag: soon }
`;

  it('builds contracts from the documents without problems and reports the others', () => {
    const { contracts, problems } = loadContracts([
      { path: 'a.yaml', text: good },
      { path: 'b.yaml', text: bad },
    ]);
    expect(contracts.systems).toEqual(['wiki']);
    expect(formatProblems(problems)).toBe(
      'b.yaml:5:18: slas.syncLag: not a duration: "soon" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
    );
  });

  it('reads every document of a multi-document file', () => {
    const text = `${good}---\n${good.replace('wiki', 'crm')}`;
    expect(loadContractsOrThrow([{ path: 'a.yaml', text }]).systems).toEqual(['crm', 'wiki']);
  });

  it('accepts an empty file list and an empty file', () => {
    expect(loadContracts([]).problems).toEqual([]);
    expect(loadContracts([{ path: 'empty.yaml', text: '' }]).problems).toEqual([]);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const problems = lintContracts([{ path: 'bomb.yaml', text: lines.join('\n') }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^YAML: /);
  });

  it('fails closed: loadContractsOrThrow throws ContractLintError listing every problem', () => {
    let caught: unknown;
    try {
      loadContractsOrThrow([{ path: 'b.yaml', text: bad }]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ContractLintError);
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ContractLintError;
    expect(error.retriable).toBe(false);
    expect(error.problems).toEqual([
      'b.yaml:5:18: slas.syncLag: not a duration: "soon" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
    ]);
    expect(error.message).toBe(
      'contracts do not lint (1 problem):\n  - b.yaml:5:18: slas.syncLag: not a duration: "soon" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
    );
  });
});
