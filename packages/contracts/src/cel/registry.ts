// Translating a contract rule for the Schema Registry's CEL executor (a ruleSet published by `planPublish`), which
// binds the whole record as `message` where our rules see `data` and the CloudEvents attributes.
import { parse, unparse } from '@bufbuild/cel';
import { create } from '@bufbuild/protobuf';
import {
  ExprSchema,
  Expr_IdentSchema,
  Expr_SelectSchema,
  type Expr,
} from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { RULE_VARIABLES } from './env.js';

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
