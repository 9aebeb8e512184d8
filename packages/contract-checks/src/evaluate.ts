import type { ContentUpsertedEvent, Severity } from '@tidemark/core';
import { prepareActivation, readField, type ResolvedSettings } from '@tidemark/contracts';

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
  for (const field of settings.required) {
    const found = readField(data, field);
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
    if (found.kind !== 'present' || check.test(found.value)) continue;
    out.push({
      check: 'contract.allowed',
      key: check.field,
      severity: check.severity,
      shadow: settings.shadow || check.shadow,
      summary: `${doc} has ${check.field}=${JSON.stringify(found.value)}, expected ${check.expected}`,
      evidence: { field: check.field, observed: found.value, expected: check.expected },
    });
  }
  // Converted once for all rules: the conversion, not the rules, dominates CEL evaluation cost.
  const activation = settings.rules.length > 0 ? prepareActivation(event) : undefined;
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
