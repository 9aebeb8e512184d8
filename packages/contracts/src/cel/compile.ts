// Compiling a contract rule: parsed, checked (check.ts) and planned once per distinct expression, then evaluated
// per event. Evaluation never throws: a CEL error or a non-bool result comes back as an error result
// (`{ ok: false }`) that the checker turns into a finding.
import { celType, isCelError, parse, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import type { Expr, ParsedExpr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { TidemarkError } from '@tidemark/core';
import { CONTRACT_DEFAULTS } from '../defaults.js';
import type { ContractMode, Severity } from '../schema.js';
import { activationBindings, type PreparedActivation, type RuleActivation } from './activation.js';
import { checkExpression } from './check.js';
import { env, kindOf, type CelProblem } from './env.js';

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
  const problems = checkExpression(parsed);
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
    value = program(activationBindings(activation) as Record<string, CelInput>);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  if (isCelError(value)) return { ok: false, error: value.message };
  // Shared frozen results: a bool is by far the common outcome, evaluated for every rule of every event.
  if (typeof value === 'boolean') return value ? OK_TRUE : OK_FALSE;
  return { ok: false, error: `returned ${describeType(value)}, not bool` };
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
