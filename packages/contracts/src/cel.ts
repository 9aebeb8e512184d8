// CEL for contract rules.
//
// Evaluator: @bufbuild/cel 0.6.1, used directly. Why this one:
// - it is the engine @confluentinc/schemaregistry's CEL executor is built on (that one pins @bufbuild/cel 0.3), so a
//   rule published in a Schema Registry ruleSet means the same thing there as here;
// - used directly we parse and plan each rule once and call the planned program per event, whereas the
//   registry's executor stringifies rule and schema on every evaluation (see DESIGN.md, known traps);
// - its parser and `unparse` let `planPublish` rewrite a rule for the registry's `message` variable;
// - 0.6 passes more of the cel-spec conformance suite than 0.3 (cel.test.ts runs a sample of it here).
//
// Type checking: @bufbuild/cel 0.6.1 does not export a type checker (its internal Checker handles only constants and
// identifiers), so `analyzeExpression` infers result types itself from the parsed AST and the overload signatures the
// library's own function resolver declares (env.funcs). It rejects what is certainly wrong — undeclared variables,
// unknown functions, calls no overload accepts, a result type that is not bool — and lets through what depends on the
// data (`data` is a map of dyn). The linter then evaluates each rule once on a sample content.upserted event and
// rejects a rule whose result there is a value that is not a bool. Whatever is left surfaces at run time as an error
// result (`{ ok: false }`) that the checker turns into a finding — never an exception.
import {
  celEnv,
  celList,
  celMap,
  celType,
  isCelError,
  parse,
  plan,
  unparse,
  type CelEnv,
  type CelInput,
  type CelResult,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { create } from '@bufbuild/protobuf';
import {
  ExprSchema,
  Expr_IdentSchema,
  Expr_SelectSchema,
  type Expr,
  type ParsedExpr,
} from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { TidemarkError } from '@tidemark/core';
import { CONTRACT_DEFAULTS } from './defaults.js';
import type { ContractMode, Severity } from './schema.js';

/** Variables a rule may use: the event's `data` and its CloudEvents attributes. */
export const RULE_VARIABLES: Readonly<Record<string, CelKind>> = {
  data: 'map',
  id: 'string',
  source: 'string',
  type: 'string',
  time: 'string',
  subject: 'string',
  specversion: 'string',
};

/** Coarse CEL types the analysis distinguishes; `dyn` means "known only at run time". */
export type CelKind =
  | 'bool'
  | 'int'
  | 'uint'
  | 'double'
  | 'string'
  | 'bytes'
  | 'null'
  | 'list'
  | 'map'
  | 'timestamp'
  | 'duration'
  | 'type'
  | 'dyn';

/** One reason an expression cannot be used; `offset` is a character offset into the expression when known. */
export interface CelProblem {
  message: string;
  offset: number | undefined;
}

/** A contract rule as the evaluator needs it. */
export interface RuleSpec {
  name: string;
  expression: string;
  message: string;
  /** @default 'warning' */
  severity?: Severity;
  /** @default 'enforce' */
  mode?: ContractMode;
}

/** The result of evaluating a rule on one event: a bool, or the error a finding should carry. */
export type RuleResult = { ok: true; value: boolean } | { ok: false; error: string };

/** The variables a rule is evaluated over: a CloudEvent object (`data` plus attributes) fits as is. */
export type RuleActivation = Readonly<Record<string, unknown>>;

/** A rule compiled once at load and evaluated per event. */
export interface CompiledRule {
  readonly name: string;
  readonly severity: Severity;
  readonly message: string;
  readonly shadow: boolean;
  readonly expression: string;
  /**
   * The top-level fields of `data` the rule reads (`data.owner`, `has(data.owner)`), or undefined when it uses
   * `data` in any other way (`size(data)`, `data["owner"]`, `data == {}`); see prepareActivation.
   */
  readonly dataFields: readonly string[] | undefined;
  /**
   * Evaluates the rule on an event (or on prepareActivation(event), faster when evaluating several rules);
   * never throws: CEL errors and non-bool results come back as `{ ok: false, error }`.
   */
  evaluate(activation: RuleActivation | PreparedActivation): RuleResult;
}

/** A rule expression that does not compile, does not return bool, or uses what is not declared. */
export class RuleCompileError extends TidemarkError {
  readonly rule: string;
  readonly problems: readonly CelProblem[];

  constructor(rule: string, problems: readonly CelProblem[]) {
    super(`rule "${rule}": ${problems.map((p) => p.message).join('; ')}`, {
      retriable: false,
      context: { rule, problems: problems.map((p) => p.message) },
    });
    this.rule = rule;
    this.problems = problems;
  }
}

// The strings extension is what the Schema Registry's CEL executor registers too.
const env: CelEnv = celEnv({ funcs: strings });

type Program = (activation: Record<string, CelInput>) => CelResult;
interface ProgramEntry {
  program: Program;
  problems: CelProblem[];
  dataFields: readonly string[] | undefined;
}
const programs = new Map<string, ProgramEntry>();

/** Parses and checks an expression; returns every problem found (empty when usable). */
export function analyzeExpression(expression: string): CelProblem[] {
  return programFor(expression).problems;
}

function programFor(expression: string): ProgramEntry {
  let entry = programs.get(expression);
  if (entry === undefined) {
    entry = build(expression);
    programs.set(expression, entry);
  }
  return entry;
}

const unusable: Program = () => {
  throw new Error('unreachable: rule did not compile');
};

function build(expression: string): ProgramEntry {
  let parsed: ParsedExpr & { expr: Expr };
  try {
    parsed = parse(expression);
  } catch (error) {
    return { program: unusable, problems: [syntaxProblem(error)], dataFields: undefined };
  }
  const problems: CelProblem[] = [];
  const result = new Inference(parsed, problems).infer(
    parsed.expr,
    new Map(Object.entries(RULE_VARIABLES)),
  );
  if (problems.length === 0 && result !== 'bool' && result !== 'dyn') {
    problems.push({ message: `must return bool, but returns ${result}`, offset: undefined });
  }
  if (problems.length > 0) return { program: unusable, problems, dataFields: undefined };
  return {
    program: plan(env, parsed) as Program,
    problems,
    dataFields: dataFieldsRead(parsed.expr),
  };
}

/**
 * The fields `f` of every `data.f` (or `has(data.f)`) in an expression, or undefined when `data` appears otherwise.
 * Conservative: a comprehension variable named `data` counts as a use of `data` whole.
 */
function dataFieldsRead(root: Expr): readonly string[] | undefined {
  const fields = new Set<string>();
  let whole = false;
  const visit = (expr: Expr | undefined): void => {
    if (expr === undefined || whole) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (kind.value.name === 'data') whole = true;
        return;
      case 'selectExpr': {
        const operand = kind.value.operand;
        if (operand?.exprKind.case === 'identExpr' && operand.exprKind.value.name === 'data') {
          fields.add(kind.value.field);
        } else visit(operand);
        return;
      }
      case 'callExpr':
        visit(kind.value.target);
        for (const arg of kind.value.args) visit(arg);
        return;
      case 'listExpr':
        for (const element of kind.value.elements) visit(element);
        return;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value);
          visit(entry.value);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        // A comprehension variable named `data` would be shadowed by prepareActivation's `data.<field>` bindings.
        if (c.iterVar === 'data' || c.iterVar2 === 'data' || c.accuVar === 'data') whole = true;
        for (const part of [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result])
          visit(part);
        return;
      }
      default:
        return;
    }
  };
  visit(root);
  return whole ? undefined : Object.freeze([...fields].sort());
}

function syntaxProblem(error: unknown): CelProblem {
  const e = error as {
    rawMessage?: unknown;
    message?: unknown;
    location?: { start?: { offset?: unknown } };
  };
  const offset = e.location?.start?.offset;
  const text = typeof e.rawMessage === 'string' ? e.rawMessage : String(e.message ?? error);
  return {
    message: `syntax error: ${text}`,
    offset: typeof offset === 'number' ? offset : undefined,
  };
}

/** Compiles a rule once; throws RuleCompileError with every problem when it cannot be used. */
export function compileRule(rule: RuleSpec): CompiledRule {
  const { program, problems, dataFields } = programFor(rule.expression);
  if (problems.length > 0) throw new RuleCompileError(rule.name, problems);
  const name = rule.name;
  return Object.freeze({
    name,
    severity: rule.severity ?? CONTRACT_DEFAULTS.severity.rule,
    message: rule.message,
    shadow: rule.mode === 'shadow',
    expression: rule.expression,
    dataFields,
    evaluate(activation: RuleActivation | PreparedActivation): RuleResult {
      return evaluateProgram(program, activation);
    },
  });
}

const OK_TRUE: RuleResult = Object.freeze({ ok: true, value: true });
const OK_FALSE: RuleResult = Object.freeze({ ok: true, value: false });

function evaluateProgram(
  program: Program,
  activation: RuleActivation | PreparedActivation,
): RuleResult {
  let value: CelResult;
  try {
    value = program(prepared(activation) as Record<string, CelInput>);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  if (isCelError(value)) return { ok: false, error: value.message };
  // Shared frozen results: a bool is by far the common outcome, evaluated for every rule of every event.
  if (typeof value === 'boolean') return value ? OK_TRUE : OK_FALSE;
  return { ok: false, error: `returned ${describeType(value)}, not bool` };
}

// @bufbuild/cel converts a plain object into a CEL map (a new Map of its entries) on every access, which made
// that conversion most of a rule's cost. prepareActivation converts an event's variables once; the checker
// passes the prepared activation to every rule of the event. A plain activation still works (converted per call).
const VARIABLE_NAMES = Object.keys(RULE_VARIABLES);
const PREPARED: unique symbol = Symbol('tidemark.preparedActivation');

/** An event converted once for CEL, to evaluate many rules on (see prepareActivation). */
export interface PreparedActivation {
  readonly [PREPARED]: Readonly<Record<string, CelInput>>;
}

/**
 * Converts an event (CloudEvent object) once so that evaluating all its rules does not convert it per rule.
 * With `dataFields` (the union of the rules' CompiledRule.dataFields), only those fields of `data` are converted:
 * the snapshot holds all those rules can see, so only rules whose dataFields it covers may be evaluated on it.
 */
export function prepareActivation(
  activation: RuleActivation,
  dataFields?: readonly string[],
): PreparedActivation {
  const bindings: Record<string, CelInput> = {};
  // Only the declared variables: the analysis has rejected any other identifier.
  for (const name of VARIABLE_NAMES) {
    const value = activation[name];
    if (value === undefined) continue;
    if (name === 'data' && dataFields !== undefined && isPlainObject(value)) {
      const entries = convertEntries(value, dataFields);
      bindings[name] = celMap(entries);
      // Each present field is also bound under its qualified name `data.<field>`. The library resolves a
      // select chain on an identifier as the longest bound qualified name first (CEL's qualified-identifier
      // rule), so `data.owner` then reads its value directly instead of looking up the absent variable
      // `data.owner` in the type registry and then selecting from the map — same value, a fraction of the work.
      // An absent field stays unbound and falls back to the map, which gives the same error as before;
      // has(data.f) always tests the map. Rules whose comprehension variables are named `data` (where the
      // qualified binding would shadow the variable) have no dataFields, so they never get these bindings.
      for (const [field, entry] of entries) bindings[qualifiedDataName(field)] = entry;
    } else bindings[name] = toCelInput(value);
  }
  return new Prepared(bindings);
}

const qualifiedDataNames = new Map<string, string>();
/** `data.<field>`, built once per field name rather than per event. */
function qualifiedDataName(field: string): string {
  let name = qualifiedDataNames.get(field);
  if (name === undefined) {
    name = `data.${field}`;
    // Field names come from contracts, a small set; the bound keeps a pathological caller from growing it.
    if (qualifiedDataNames.size < 4096) qualifiedDataNames.set(field, name);
  }
  return name;
}

// A class rather than Object.freeze of two literals: freezing cost as much as converting `data`, and the
// bindings are reachable only through the module-private symbol, so nothing outside can change the snapshot.
class Prepared implements PreparedActivation {
  readonly [PREPARED]: Readonly<Record<string, CelInput>>;

  constructor(bindings: Readonly<Record<string, CelInput>>) {
    this[PREPARED] = bindings;
  }
}

function prepared(
  activation: RuleActivation | PreparedActivation,
): Readonly<Record<string, CelInput>> {
  const ready = (activation as Partial<PreparedActivation>)[PREPARED];
  return ready ?? prepareActivation(activation as RuleActivation)[PREPARED];
}

function toCelInput(value: unknown): CelInput {
  if (value === null || typeof value !== 'object') return value as CelInput;
  if (Array.isArray(value)) {
    // A loop, not value.map(toCelInput): map passes (value, index, array), and this runs once per field per event.
    const list: CelInput[] = new Array<CelInput>(value.length);
    for (let i = 0; i < value.length; i++) list[i] = toCelInput(value[i]);
    return celList(list);
  }
  if (!isPlainObject(value)) return value as CelInput; // Map, Uint8Array, messages: the library knows them
  // for…in over own keys rather than Object.entries: no [key, value] pair allocated per field.
  const entries = new Map<string, CelInput>();
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const entry = value[key];
    if (entry !== undefined) entries.set(key, toCelInput(entry));
  }
  return celMap(entries);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The named own fields of an object (undefined ones left out, as toCelInput does), converted. */
function convertEntries(
  object: Record<string, unknown>,
  keys: readonly string[],
): Map<string, CelInput> {
  const entries = new Map<string, CelInput>();
  for (const key of keys) {
    if (!Object.hasOwn(object, key)) continue;
    const entry = object[key];
    if (entry !== undefined) entries.set(key, toCelInput(entry));
  }
  return entries;
}

function describeType(value: unknown): string {
  try {
    return kindOf(String(celType(value as never)));
  } catch {
    return typeof value;
  }
}

/** Evaluates an expression on a sample activation, for the linter: the CEL type name of a non-bool result, else undefined. */
export function nonBoolResultOn(
  expression: string,
  activation: RuleActivation,
): string | undefined {
  const { program, problems } = programFor(expression);
  if (problems.length > 0) return undefined;
  const result = evaluateProgram(program, activation);
  if (result.ok) return undefined;
  const match = /^returned (\S+), not bool$/.exec(result.error);
  return match?.[1];
}

function kindOf(typeName: string): CelKind {
  if (typeName.startsWith('list')) return 'list';
  if (typeName.startsWith('map')) return 'map';
  if (typeName.startsWith('type')) return 'type';
  switch (typeName) {
    case 'bool':
    case 'int':
    case 'uint':
    case 'double':
    case 'string':
    case 'bytes':
    case 'dyn':
      return typeName;
    case 'null_type':
      return 'null';
    case 'google.protobuf.Timestamp':
      return 'timestamp';
    case 'google.protobuf.Duration':
      return 'duration';
    default:
      return 'dyn';
  }
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

/**
 * Rewrites a rule for the Schema Registry's CEL executor, which binds the whole record as `message`:
 * every free use of a rule variable (`data`, `id`, …) becomes `message.<name>`. Returns CEL source text.
 */
export function toRegistryExpression(expression: string): string {
  const parsed = parse(expression);
  let nextId = 1n + maxId(parsed.expr);
  const macroCalls = parsed.sourceInfo?.macroCalls ?? {};
  for (const call of Object.values(macroCalls)) nextId = maxBig(nextId, 1n + maxId(call));
  const fresh = () => nextId++;
  const rewrite = (expr: Expr | undefined, bound: ReadonlySet<string>): void => {
    if (expr === undefined) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (kind.value.name in RULE_VARIABLES && !bound.has(kind.value.name)) {
          expr.exprKind = {
            case: 'selectExpr',
            value: create(Expr_SelectSchema, {
              operand: create(ExprSchema, {
                id: fresh(),
                exprKind: {
                  case: 'identExpr',
                  value: create(Expr_IdentSchema, { name: 'message' }),
                },
              }),
              field: kind.value.name,
            }),
          };
        }
        return;
      case 'selectExpr':
        rewrite(kind.value.operand, bound);
        return;
      case 'callExpr': {
        rewrite(kind.value.target, bound);
        // In a macro call as kept in sourceInfo (x.exists(v, body)), the first argument names a bound variable.
        const isMacroCall = kind.value.target !== undefined && macroNames.has(kind.value.function);
        const first = kind.value.args[0];
        if (isMacroCall && first?.exprKind.case === 'identExpr') {
          const inner = new Set(bound).add(first.exprKind.value.name);
          for (const arg of kind.value.args.slice(1)) rewrite(arg, inner);
        } else {
          for (const arg of kind.value.args) rewrite(arg, bound);
        }
        return;
      }
      case 'listExpr':
        for (const e of kind.value.elements) rewrite(e, bound);
        return;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') rewrite(entry.keyKind.value, bound);
          rewrite(entry.value, bound);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        rewrite(c.iterRange, bound);
        rewrite(c.accuInit, bound);
        const inner = new Set(bound).add(c.iterVar).add(c.accuVar);
        if (c.iterVar2 !== '') inner.add(c.iterVar2);
        rewrite(c.loopCondition, inner);
        rewrite(c.loopStep, inner);
        rewrite(c.result, inner);
        return;
      }
      default:
        return;
    }
  };
  rewrite(parsed.expr, new Set());
  for (const call of Object.values(macroCalls)) rewrite(call, new Set());
  return unparse(parsed);
}

const macroNames = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function maxId(expr: Expr | undefined): bigint {
  if (expr === undefined) return 0n;
  let max = expr.id;
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.id === 'bigint') max = maxBig(max, record.id);
    for (const [key, child] of Object.entries(record)) if (key !== 'id') visit(child);
  };
  visit(expr.exprKind);
  return max;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
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
