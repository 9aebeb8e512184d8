import { describe, expect, it } from 'vitest';
import {
  getConformanceSuite,
  type IncrementalTest,
  type IncrementalTestSuite,
} from '@bufbuild/cel-spec/testdata/tests.js';
import {
  analyzeExpression,
  compileRule,
  prepareActivation,
  RuleCompileError,
  toRegistryExpression,
  type CelProblem,
  type RuleActivation,
  type RuleResult,
} from '../index.js';

const event = (data: Record<string, unknown>, attributes: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'e-1',
  source: 'connector/confluence-prod',
  type: 'content.upserted',
  time: '2025-03-01T12:00:00Z',
  subject: 'confluence/42',
  data,
  ...attributes,
});

describe('analyzeExpression', () => {
  it.each<[string, CelProblem[]]>([
    ['!data.deprecated || has(data.supersededBy)', []],
    ['data.owner != null && data.owner != ""', []],
    ['data.tags.all(t, t.startsWith("x")) && size(data.tags) > 0', []],
    ['timestamp(data.reviewedAt) + duration("24h") > timestamp(time)', []],
    ['data.classification in ["public", "internal"]', []],
    ['subject.startsWith(data.system + "/")', []],
    ['data.sizeBytes > 1.5 && data.sizeBytes < 10', []],
    ['data.title.matches("^[A-Z]")', []],
    ['data.title.lowerAscii() == "x"', []],
    ['type(data.x) == string', []],
    ['strings.quote(data.title) != ""', []],
    ['google.protobuf.Timestamp == type(timestamp(time))', []],
    ['data.owner', []], // dyn: only evaluation can tell (the linter probes a sample event)
    [
      'dta.owner',
      [
        {
          message:
            "undeclared reference to 'dta' (rules see data, id, source, type, time, subject, specversion)",
          offset: 0,
        },
      ],
    ],
    ['lower(data.title) == "x"', [{ message: "unknown function 'lower'", offset: 0 }]],
    [
      '"a" + 1 == "a1"',
      [{ message: "no matching overload for '+' applied to (string, int)", offset: 3 }],
    ],
    [
      'data.title.startsWith(1)',
      [{ message: 'no matching overload for dyn.startsWith(int)', offset: 10 }],
    ],
    ['size(1, 2) == 0', [{ message: "'size' does not take 2 argument(s)", offset: 0 }]],
    ['time.seconds == 0', [{ message: "cannot select field 'seconds' of a string", offset: 4 }]],
    ['data.flag && 1', [{ message: 'operand of && must be bool, not int', offset: 13 }]],
    ['1 ? true : false', [{ message: 'condition must be bool, not int', offset: 0 }]],
    ['data.sizeBytes + 1', [{ message: 'must return bool, but returns int', offset: undefined }]],
    ['data.tags.map(t, t)', [{ message: 'must return bool, but returns list', offset: undefined }]],
    [
      'data.owner ==',
      [{ message: expect.stringMatching(/^syntax error: /) as unknown as string, offset: 11 }],
    ],
    [
      'x.exists(data, data > 1) && data',
      [
        {
          message:
            "undeclared reference to 'x' (rules see data, id, source, type, time, subject, specversion)",
          offset: 0,
        },
        // the comprehension's `data` shadows the variable inside it only; the last `data` is the map
        { message: 'operand of && must be bool, not map', offset: 28 },
      ],
    ],
  ])('%s', (expression, problems) => {
    expect(analyzeExpression(expression)).toEqual(problems);
  });
});

describe('compileRule', () => {
  const rule = (expression: string) => compileRule({ name: 'r', expression, message: 'm' });

  it.each<[string, RuleActivation, RuleResult]>([
    [
      '!data.deprecated || has(data.supersededBy)',
      event({ deprecated: false }),
      { ok: true, value: true },
    ],
    [
      '!data.deprecated || has(data.supersededBy)',
      event({ deprecated: true }),
      { ok: true, value: false },
    ],
    [
      '!data.deprecated || has(data.supersededBy)',
      event({ deprecated: true, supersededBy: 'c/2' }),
      { ok: true, value: true },
    ],
    // missing vs null: a missing field is an error in CEL, a null one is a value
    ['data.owner != null', event({ owner: null }), { ok: true, value: false }],
    ['data.owner != null', event({}), { ok: false, error: 'field not found: owner' }],
    ['has(data.owner) && data.owner != null', event({}), { ok: true, value: false }],
    // JSON numbers are doubles; comparisons across int/double work
    ['data.sizeBytes > 0', event({ sizeBytes: 10 }), { ok: true, value: true }],
    ['data.revision == 3', event({ revision: 3 }), { ok: true, value: true }],
    [
      'data.attributes.region in ["eu", "us"]',
      event({ attributes: { region: 'apac' } }),
      { ok: true, value: false },
    ],
    [
      'data.tags.exists(t, t == "gdpr")',
      event({ tags: ['hr', 'gdpr'] }),
      { ok: true, value: true },
    ],
    [
      'timestamp(data.reviewedAt) + duration("720h") >= timestamp(time)',
      event({ reviewedAt: '2025-02-20T00:00:00Z' }),
      { ok: true, value: true },
    ],
    [
      'timestamp(data.reviewedAt) + duration("720h") >= timestamp(time)',
      event({ reviewedAt: '2024-02-20T00:00:00Z' }),
      { ok: true, value: false },
    ],
    [
      'subject == data.system + "/" + data.docId',
      event({ system: 'confluence', docId: '42' }),
      { ok: true, value: true },
    ],
    // runtime errors come back as results
    [
      'timestamp(data.reviewedAt) < timestamp(time)',
      event({ reviewedAt: 'last week' }),
      { ok: false, error: expect.stringMatching(/timestamp/) as unknown as string },
    ],
    ['data.owner', event({ owner: 'ann' }), { ok: false, error: 'returned string, not bool' }],
    ['data.flag', event({ flag: 1 }), { ok: false, error: 'returned double, not bool' }],
    ['data.flag', event({ flag: null }), { ok: false, error: 'returned null, not bool' }],
    ['data.x > 1', {}, { ok: false, error: 'unresolved attribute' }],
    [
      'data.x > 1',
      { data: 'not a map' },
      { ok: false, error: expect.any(String) as unknown as string },
    ],
    [
      'subject == "x"',
      event({}, { subject: undefined }),
      { ok: false, error: 'unresolved attribute' },
    ],
  ])('%s on %j', (expression, activation, expected) => {
    expect(rule(expression).evaluate(activation)).toEqual(expected);
    expect(rule(expression).evaluate(prepareActivation(activation))).toEqual(expected);
  });

  it('evaluates many rules on one prepared event, which is a snapshot of the event', () => {
    const e = event({ owner: 'ann', deprecated: false });
    const ready = prepareActivation(e);
    e.data.owner = null;
    const rules = ['data.owner == "ann"', '!data.deprecated', 'has(data.owner)'].map(rule);
    expect(rules.map((r) => r.evaluate(ready))).toEqual([
      { ok: true, value: true },
      { ok: true, value: true },
      { ok: true, value: true },
    ]);
    expect(rules[0]?.evaluate(e)).toEqual({ ok: true, value: false });
  });

  it.each<[string, readonly string[] | undefined]>([
    ['!data.deprecated || has(data.supersededBy)', ['deprecated', 'supersededBy']],
    ['has(data.attributes) && data.attributes.service != ""', ['attributes']],
    ['subject.startsWith(data.system + "/")', ['system']],
    ['data.tags.all(t, t.startsWith("x"))', ['tags']],
    ['time != ""', []],
    ['size(data) > 0', undefined],
    ['data["owner"] != null', undefined],
    ['[data].size() == 1 && data.owner != null', undefined],
    ['[{"x": 1}].exists(data, data.x == 1)', undefined],
  ])('%s reads data fields %j', (expression, expected) => {
    expect(rule(expression).dataFields).toEqual(expected);
  });

  it('gives the same results on an activation prepared with only the fields the rules read', () => {
    const e = event({
      owner: 'ann',
      deprecated: true,
      supersededBy: null,
      attributes: { service: 'billing', skipped: undefined },
      tags: ['x1', 'x2'],
      title: 'Never read',
    });
    const rules = [
      'data.owner == "ann"',
      '!data.deprecated || has(data.supersededBy) && data.supersededBy != null',
      'has(data.attributes.service) && !has(data.attributes.skipped)',
      'data.tags.all(t, t.startsWith("x"))',
      'has(data.missing)',
      'data.missing == 1',
    ].map(rule);
    const fields = [...new Set(rules.flatMap((r) => r.dataFields ?? []))];
    const restricted = prepareActivation(e, fields);
    const results = rules.map((r) => r.evaluate(restricted));
    expect(results).toEqual(rules.map((r) => r.evaluate(prepareActivation(e))));
    expect(results).toEqual([
      { ok: true, value: true },
      { ok: true, value: false },
      { ok: true, value: true },
      { ok: true, value: true },
      { ok: true, value: false },
      { ok: false, error: expect.any(String) as unknown as string },
    ]);
    // The restricted snapshot holds only the named fields.
    expect(rule('has(data.title)').evaluate(restricted)).toEqual({ ok: true, value: false });
  });

  it('carries name, message, severity and mode (defaults warning, enforce)', () => {
    const compiled = compileRule({
      name: 'owner',
      expression: 'has(data.owner)',
      message: 'needs owner',
    });
    expect([
      compiled.name,
      compiled.message,
      compiled.severity,
      compiled.shadow,
      compiled.expression,
    ]).toEqual(['owner', 'needs owner', 'warning', false, 'has(data.owner)']);
    const shadow = compileRule({
      name: 's',
      expression: 'true',
      message: 'm',
      severity: 'critical',
      mode: 'shadow',
    });
    expect([shadow.severity, shadow.shadow]).toEqual(['critical', true]);
  });

  it('throws RuleCompileError naming the rule and every problem', () => {
    let caught: unknown;
    try {
      compileRule({ name: 'bad', expression: 'dta.x + lower(1)', message: 'm' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RuleCompileError);
    const error = caught as RuleCompileError;
    expect(error.rule).toBe('bad');
    expect(error.retriable).toBe(false);
    expect(error.message).toBe(
      "rule \"bad\": undeclared reference to 'dta' (rules see data, id, source, type, time, subject, specversion); unknown function 'lower'",
    );
  });

  it('never throws while evaluating, whatever the activation holds', () => {
    const compiled = rule('data.a.b.c == 1 && data.list[3] > 0 && data.m["k"].size() > 0');
    const odd: RuleActivation[] = [
      {},
      { data: null },
      { data: { a: { b: { c: 1n } } } },
      { data: { a: { b: { c: 1 } }, list: [1], m: {} } },
      { data: { a: { b: { c: 1 } }, list: [1, 2, 3, 4], m: { k: 7 } } },
      { data: new Map([['a', 1]]) },
      { data: { a: () => 1 } },
    ];
    for (const activation of odd) {
      const result = compiled.evaluate(activation);
      expect(result.ok).toBe(false);
    }
  });
});

describe('toRegistryExpression', () => {
  it.each([
    [
      '!data.deprecated || has(data.supersededBy)',
      '!message.data.deprecated || has(message.data.supersededBy)',
    ],
    ['subject.startsWith(data.system)', 'message.subject.startsWith(message.data.system)'],
    [
      'data.tags.exists(t, t == data.owner)',
      'message.data.tags.exists(t, t == message.data.owner)',
    ],
    // a comprehension variable that shadows a rule variable stays as is
    ['data.tags.all(data, data != "")', 'message.data.tags.all(data, data != "")'],
    ['[1, 2].map(x, x + size(id)).size() > 0', '[1, 2].map(x, x + size(message.id)).size() > 0'],
    ['{"k": time}.k == type', '{"k": message.time}.k == message.type'],
  ])('%s', (expression, expected) => {
    expect(toRegistryExpression(expression)).toBe(expected);
  });
});

// CEL conformance: every cel-spec case of the listed suites that runs without bindings, containers or type
// declarations, evaluated through compileRule. A case expecting a bool must give that bool; a case expecting
// another value must be refused as "not bool" (at compile time or by its result type); a case expecting an
// error must give an error result or be refused at compile time. Suites left out need what contract rules do
// not offer: protobuf messages and enums, optional types, extension libraries other than strings, two-variable
// comprehensions (not supported by @bufbuild/cel 0.6.1).
const SUITES = [
  'basic',
  'comparisons',
  'conversions',
  'fields',
  'fp_math',
  'integer_math',
  'lists',
  'logic',
  'macros',
  'parse',
  'plumbing',
  'string',
  'string_ext',
  'timestamps',
];
const KNOWN_DIFFERENCES: Record<string, string> = {
  'conversions/type/type_denotation': 'here `type` is the CloudEvents attribute, a rule variable',
  'fields/quoted_map_fields/field_access_slash':
    'backtick-quoted field names: not parsed by @bufbuild/cel 0.6.1',
  'fields/quoted_map_fields/field_access_dash':
    'backtick-quoted field names: not parsed by @bufbuild/cel 0.6.1',
  'fields/quoted_map_fields/field_access_dot':
    'backtick-quoted field names: not parsed by @bufbuild/cel 0.6.1',
  'fields/quoted_map_fields/has_field_slash':
    'backtick-quoted field names: not parsed by @bufbuild/cel 0.6.1',
  'fields/quoted_map_fields/has_field_dash':
    'backtick-quoted field names: not parsed by @bufbuild/cel 0.6.1',
  'fields/quoted_map_fields/has_field_dot':
    'backtick-quoted field names: not parsed by @bufbuild/cel 0.6.1',
};
const VALUE_KINDS: Record<string, string> = {
  boolValue: 'bool',
  int64Value: 'int',
  uint64Value: 'uint',
  doubleValue: 'double',
  stringValue: 'string',
  bytesValue: 'bytes',
  nullValue: 'null',
  listValue: 'list',
  mapValue: 'map',
  typeValue: 'type',
};

function usableCases(suite: IncrementalTestSuite, path: string): Array<[string, IncrementalTest]> {
  const own = suite.tests
    .filter((t) => {
      const o = t.original;
      const plain =
        Object.keys(o.bindings).length === 0 &&
        o.container === '' &&
        o.typeEnv.length === 0 &&
        !o.disableMacros;
      const matcher = o.resultMatcher.case;
      const expected =
        matcher === 'evalError' ||
        (matcher === 'value' && VALUE_KINDS[o.resultMatcher.value.kind.case ?? ''] !== undefined);
      return (
        plain &&
        expected &&
        !/TestAllTypes|google\.protobuf\.[A-Z][A-Za-z]*Value\b|google\.protobuf\.(Any|Struct)\b/.test(
          o.expr,
        )
      );
    })
    .map((t): [string, IncrementalTest] => [`${path}/${t.name}`, t]);
  return [...own, ...suite.suites.flatMap((s) => usableCases(s, `${path}/${s.name}`))];
}

describe('CEL conformance (cel-spec sample through compileRule)', () => {
  const root = getConformanceSuite();
  const cases = SUITES.flatMap((name) => {
    const suite = root.suites.find((s) => s.name === name);
    if (suite === undefined) throw new Error(`cel-spec has no suite ${name}`);
    return usableCases(suite, name);
  });

  it('covers a substantial sample', () => {
    expect(cases.length).toBeGreaterThan(1000);
  });

  it('agrees with every case except the documented differences', () => {
    const failures: string[] = [];
    for (const [name, test] of cases) {
      const o = test.original;
      const outcome = runCase(o.expr);
      const matcher = o.resultMatcher;
      let ok: boolean;
      if (matcher.case === 'evalError') {
        ok = outcome.kind === 'refused' || (outcome.kind === 'result' && !outcome.result.ok);
      } else if (matcher.case === 'value') {
        const kind = VALUE_KINDS[matcher.value.kind.case ?? ''];
        if (kind === 'bool') {
          ok =
            outcome.kind === 'result' &&
            outcome.result.ok &&
            outcome.result.value === matcher.value.kind.value;
        } else {
          const notBool = `must return bool, but returns ${kind}`;
          ok =
            (outcome.kind === 'refused' && outcome.problems.join() === notBool) ||
            (outcome.kind === 'result' &&
              !outcome.result.ok &&
              outcome.result.error === `returned ${kind}, not bool`) ||
            // cel-go's checker refuses these too; the spec marks them "disable_check"
            (outcome.kind === 'refused' && o.disableCheck);
        }
        if (outcome.kind === 'refused' && o.disableCheck && kind === 'bool') ok = true;
      } else ok = false;
      if (!ok && KNOWN_DIFFERENCES[name] === undefined)
        failures.push(`${name}: ${o.expr} → ${JSON.stringify(outcome)}`);
      if (ok && KNOWN_DIFFERENCES[name] !== undefined)
        failures.push(`${name}: listed as a known difference but passes`);
    }
    expect(failures).toEqual([]);
  });
});

function runCase(
  expression: string,
): { kind: 'refused'; problems: string[] } | { kind: 'result'; result: RuleResult } {
  try {
    return {
      kind: 'result',
      result: compileRule({ name: 'case', expression, message: 'm' }).evaluate({}),
    };
  } catch (error) {
    if (error instanceof RuleCompileError)
      return { kind: 'refused', problems: error.problems.map((p) => p.message) };
    throw error;
  }
}
