// Type checking of contract rules. @bufbuild/cel 0.6.1 does not export a type checker (its internal Checker handles
// only constants and identifiers), so checkExpression infers result types itself from the parsed AST and the overload
// signatures the library's own function resolver declares (env.funcs). It rejects what is certainly wrong —
// undeclared variables, unknown functions, calls no overload accepts, a result type that is not bool — and lets
// through what depends on the data (`data` is a map of dyn). The linter then evaluates each rule once on a sample
// content.upserted event (sampleActivation) and rejects a rule whose result there is a value that is not a bool.
// Whatever is left surfaces at run time as an error result (`{ ok: false }`) that the checker turns into a finding —
// never an exception.
import type { Expr, ParsedExpr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import type { RuleActivation } from './activation.js';
import { env, kindOf, RULE_VARIABLES, type CelKind, type CelProblem } from './env.js';

/** Every problem the analysis finds in a parsed rule, a result type that is not bool included (empty when usable). */
export function checkExpression(parsed: ParsedExpr & { expr: Expr }): CelProblem[] {
  const problems: CelProblem[] = [];
  const result = new Inference(parsed, problems).infer(
    parsed.expr,
    new Map(Object.entries(RULE_VARIABLES)),
  );
  if (problems.length === 0 && result !== 'bool' && result !== 'dyn') {
    problems.push({ message: `must return bool, but returns ${result}`, offset: undefined });
  }
  return problems;
}

interface Overload {
  target: CelKind | undefined;
  args: CelKind[];
  result: CelKind;
}

// Overload signatures by function name, read from the library's resolver so they never drift from the evaluator.
const overloads = new Map<string, Overload[]>();
for (const fn of env.funcs) {
  const list = overloads.get(fn.name) ?? [];
  list.push({
    target: fn.target === undefined ? undefined : kindOf(String(fn.target)),
    args: fn.arguments.map((a) => kindOf(String(a))),
    result: kindOf(String(fn.result)),
  });
  overloads.set(fn.name, list);
}

const TYPE_IDENTIFIERS = new Set([
  'bool',
  'int',
  'uint',
  'double',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
]);
const fits = (param: CelKind, arg: CelKind) => param === 'dyn' || arg === 'dyn' || param === arg;

/** Result-type inference over a parsed expression; records problems rather than throwing. */
class Inference {
  constructor(
    private readonly parsed: ParsedExpr,
    private readonly problems: CelProblem[],
  ) {}

  private at(expr: Expr): number | undefined {
    return this.parsed.sourceInfo?.positions[String(expr.id)];
  }

  private report(expr: Expr, message: string): CelKind {
    this.problems.push({ message, offset: this.at(expr) });
    return 'dyn';
  }

  infer(expr: Expr, scope: ReadonlyMap<string, CelKind>): CelKind {
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'constExpr':
        switch (kind.value.constantKind.case) {
          case 'boolValue':
            return 'bool';
          case 'int64Value':
            return 'int';
          case 'uint64Value':
            return 'uint';
          case 'doubleValue':
            return 'double';
          case 'stringValue':
            return 'string';
          case 'bytesValue':
            return 'bytes';
          case 'nullValue':
            return 'null';
          default:
            return 'dyn';
        }
      case 'identExpr': {
        const name = kind.value.name;
        const declared = scope.get(name);
        if (declared !== undefined) return declared;
        if (TYPE_IDENTIFIERS.has(name)) return 'type';
        return this.report(
          expr,
          `undeclared reference to '${name}' (rules see ${Object.keys(RULE_VARIABLES).join(', ')})`,
        );
      }
      case 'selectExpr': {
        // A qualified type name such as google.protobuf.Timestamp, when its root is not a variable.
        const qualified = qualifiedName(expr);
        if (
          qualified !== undefined &&
          !scope.has(qualified.split('.')[0] ?? '') &&
          env.registry.get(qualified)
        ) {
          return 'type';
        }
        const operand = kind.value.operand;
        const base = operand === undefined ? 'dyn' : this.infer(operand, scope);
        if (kind.value.testOnly) return 'bool';
        if (base === 'map' || base === 'dyn') return 'dyn';
        return this.report(expr, `cannot select field '${kind.value.field}' of a ${base}`);
      }
      case 'callExpr':
        return this.inferCall(expr, kind.value.function, kind.value.target, kind.value.args, scope);
      case 'listExpr':
        for (const element of kind.value.elements) this.infer(element, scope);
        return 'list';
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') this.infer(entry.keyKind.value, scope);
          if (entry.value) this.infer(entry.value, scope);
        }
        return kind.value.messageName === '' ? 'map' : 'dyn';
      case 'comprehensionExpr': {
        const c = kind.value;
        if (c.iterRange) this.infer(c.iterRange, scope);
        const accu = c.accuInit ? this.infer(c.accuInit, scope) : 'dyn';
        const inner = new Map(scope);
        inner.set(c.iterVar, 'dyn');
        if (c.iterVar2 !== '') inner.set(c.iterVar2, 'dyn');
        inner.set(c.accuVar, accu);
        if (c.loopCondition) this.infer(c.loopCondition, inner);
        const step = c.loopStep ? this.infer(c.loopStep, inner) : 'dyn';
        inner.set(c.accuVar, step === accu ? accu : 'dyn');
        return c.result ? this.infer(c.result, inner) : 'dyn';
      }
      default:
        return 'dyn';
    }
  }

  private inferCall(
    expr: Expr,
    name: string,
    target: Expr | undefined,
    args: Expr[],
    scope: ReadonlyMap<string, CelKind>,
  ): CelKind {
    // A namespaced function (strings.quote) parses as a method call on an identifier that is not a variable.
    const namespace = target === undefined ? undefined : qualifiedName(target);
    if (
      namespace !== undefined &&
      !scope.has(namespace.split('.')[0] ?? '') &&
      overloads.has(`${namespace}.${name}`)
    ) {
      return this.inferCall(expr, `${namespace}.${name}`, undefined, args, scope);
    }
    const targetKind = target === undefined ? undefined : this.infer(target, scope);
    const argKinds = args.map((a) => this.infer(a, scope));
    switch (name) {
      case '_&&_':
      case '_||_':
        argKinds.forEach((k, i) => {
          const arg = args[i];
          if (arg !== undefined && k !== 'bool' && k !== 'dyn')
            this.report(arg, `operand of ${name.slice(1, -1)} must be bool, not ${k}`);
        });
        return 'bool';
      case '@not_strictly_false':
        return 'bool';
      case '_?_:_': {
        const [, whenTrue, whenFalse] = argKinds;
        if (argKinds[0] !== 'bool' && argKinds[0] !== 'dyn' && args[0])
          this.report(args[0], `condition must be bool, not ${argKinds[0]}`);
        return whenTrue === whenFalse && whenTrue !== undefined ? whenTrue : 'dyn';
      }
      case '_[_]':
        return 'dyn';
      default:
        break;
    }
    const candidates = overloads.get(name);
    if (candidates === undefined) {
      // Internal helpers the parser emits for optional syntax and blocks evaluate fine; only user names are checked.
      return name.startsWith('@') ? 'dyn' : this.report(expr, `unknown function '${name}'`);
    }
    const shaped = candidates.filter(
      (o) =>
        (o.target === undefined) === (targetKind === undefined) &&
        o.args.length === argKinds.length,
    );
    if (shaped.length === 0) {
      return this.report(
        expr,
        `'${name}' does not take ${argKinds.length} argument(s)${targetKind ? ' as a method' : ''}`,
      );
    }
    const matching = shaped.filter(
      (o) =>
        (o.target === undefined || targetKind === undefined || fits(o.target, targetKind)) &&
        o.args.every((p, i) => fits(p, argKinds[i] ?? 'dyn')),
    );
    if (matching.length === 0) {
      const call =
        targetKind === undefined
          ? `'${displayName(name)}' applied to (${argKinds.join(', ')})`
          : `${targetKind}.${name}(${argKinds.join(', ')})`;
      return this.report(expr, `no matching overload for ${call}`);
    }
    const results = new Set(matching.map((o) => o.result));
    const [only] = results;
    return results.size === 1 && only !== undefined ? only : 'dyn';
  }
}

/** `a.b.c` for a chain of field selections on an identifier, else undefined. */
function qualifiedName(expr: Expr): string | undefined {
  const kind = expr.exprKind;
  if (kind.case === 'identExpr') return kind.value.name;
  if (kind.case !== 'selectExpr' || kind.value.testOnly || kind.value.operand === undefined)
    return undefined;
  const base = qualifiedName(kind.value.operand);
  return base === undefined ? undefined : `${base}.${kind.value.field}`;
}

function displayName(fn: string): string {
  const operators: Record<string, string> = {
    '_+_': '+',
    '_-_': '-',
    '_*_': '*',
    '_/_': '/',
    '_%_': '%',
    '_<_': '<',
    '_<=_': '<=',
    '_>_': '>',
    '_>=_': '>=',
    '_==_': '==',
    '_!=_': '!=',
    '!_': '!',
    '-_': '-',
    '@in': 'in',
  };
  return operators[fn] ?? fn;
}

/** A content.upserted event with every spec field filled, used by the linter to probe a rule's result type. */
export function sampleActivation(system: string, contentClass: string | undefined): RuleActivation {
  return {
    specversion: '1.0',
    id: 'lint-sample',
    source: `connector/${system}`,
    type: 'content.upserted',
    time: '2025-01-01T00:00:00Z',
    subject: `${system}/sample`,
    data: {
      system,
      docId: 'sample',
      revision: 1,
      contentClass: contentClass ?? 'document',
      title: 'Sample',
      owner: 'steward@example.com',
      effectiveDate: '2025-01-01',
      reviewedAt: '2025-01-01T00:00:00Z',
      deprecated: false,
      supersededBy: null,
      classification: 'internal',
      language: 'en',
      sizeBytes: 1024,
      aclHash: 'sha256:0',
      attributes: {},
    },
  };
}
