import type { ContentUpsertedEvent, Severity } from '@tidemark/core';
import {
  fieldSegments,
  prepareActivation,
  readField,
  type AllowedCheck,
  type ResolvedSettings,
} from '@tidemark/contracts';

/** One broken expectation of a contract about one document revision. */
export interface Violation {
  check: 'contract.required' | 'contract.allowed' | 'contract.rule';
  /** The field (required/allowed) or rule name: with the check, what identifies the problem on a document. */
  key: string;
  severity: Severity;
  shadow: boolean;
  summary: string;
  evidence: Record<string, unknown>;
}

/**
 * Evaluates every required field, allowed-value check and CEL rule that applies to the event — all of them,
 * never stopping at the first failure. Pure: the same event and settings always give the same violations.
 */
export function evaluateDocument(
  settings: ResolvedSettings,
  event: ContentUpsertedEvent,
): Violation[] {
  const { data } = event;
  const doc = `${data.system}/${data.docId}`;
  const out: Violation[] = [];
  const plan = planFor(settings);
  for (const [field, segments] of plan.required) {
    const found = readField(data, segments);
    if (found.kind === 'present') continue;
    out.push({
      check: 'contract.required',
      key: field,
      severity: settings.requiredSeverity,
      shadow: settings.shadow,
      summary: `${doc} (${data.contentClass}) is missing required ${field} (${found.kind})`,
      evidence: { field, observed: found.kind, expected: 'present and non-empty' },
    });
  }
  for (const check of settings.allowed) {
    const found = readField(data, check.segments);
    if (found.kind !== 'present' || passes(check, found.value)) continue;
    out.push({
      check: 'contract.allowed',
      key: check.field,
      severity: check.severity,
      shadow: settings.shadow || check.shadow,
      summary: `${doc} has ${check.field}=${JSON.stringify(found.value)}, expected ${check.expected}`,
      evidence: { field: check.field, observed: found.value, expected: check.expected },
    });
  }
  // Converted once for all rules, and only the fields of `data` they read: the conversion, not the rules,
  // dominated CEL evaluation cost.
  const activation =
    settings.rules.length > 0 ? prepareActivation(event, plan.dataFields) : undefined;
  for (const rule of settings.rules) {
    const result = rule.evaluate(activation!);
    if (result.ok && result.value) continue;
    out.push({
      check: 'contract.rule',
      key: rule.name,
      severity: rule.severity,
      shadow: settings.shadow || rule.shadow,
      summary: result.ok
        ? `${doc}: ${rule.message}`
        : `${doc}: rule ${rule.name} could not be evaluated`,
      evidence: result.ok
        ? { rule: rule.name, expression: rule.expression, expected: true, observed: false }
        : { rule: rule.name, expression: rule.expression, error: result.error },
    });
  }
  return out;
}

// Allowed checks are pure functions of the value, and a field under an allowed check takes few distinct values
// (languages, MIME types, classifications), while a pattern test runs a regex engine (RE2) per event — the largest
// single cost of evaluation before this cache. So scalar outcomes are remembered per check, up to a bound so that
// a field with unbounded distinct values (ids, free text) cannot grow memory: past it, values are tested uncached.
const ALLOWED_CACHE_LIMIT = 1024;
const allowedOutcomes = new WeakMap<AllowedCheck, Map<string | number | boolean, boolean>>();

function passes(check: AllowedCheck, value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
    return check.test(value); // arrays and objects: not worth keying
  let outcomes = allowedOutcomes.get(check);
  if (outcomes === undefined) {
    outcomes = new Map();
    allowedOutcomes.set(check, outcomes);
  }
  let ok = outcomes.get(value);
  if (ok === undefined) {
    ok = check.test(value);
    if (outcomes.size < ALLOWED_CACHE_LIMIT) outcomes.set(value, ok);
  }
  return ok;
}

// What evaluateDocument derives from a class's settings, computed once per resolved settings (which live as long
// as the contract set) rather than per event: required paths split into segments (split per event, they were a
// tenth of evaluation), and the fields of `data` the class's rules read — undefined when a rule uses `data` whole,
// and then the activation converts all of it.
interface EvaluationPlan {
  required: ReadonlyArray<readonly [field: string, segments: readonly string[]]>;
  dataFields: readonly string[] | undefined;
}
const plans = new WeakMap<ResolvedSettings, EvaluationPlan>();

function planFor(settings: ResolvedSettings): EvaluationPlan {
  let plan = plans.get(settings);
  if (plan === undefined) {
    plan = {
      required: settings.required.map((field) => [field, fieldSegments(field)] as const),
      dataFields: dataFieldsOf(settings.rules),
    };
    plans.set(settings, plan);
  }
  return plan;
}

function dataFieldsOf(rules: ResolvedSettings['rules']): readonly string[] | undefined {
  const fields = new Set<string>();
  for (const rule of rules) {
    if (rule.dataFields === undefined) return undefined;
    for (const field of rule.dataFields) fields.add(field);
  }
  return Object.freeze([...fields].sort());
}
