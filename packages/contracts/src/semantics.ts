// Checks the schema cannot express: CEL, regexes, names that must refer to something, kind-specific drift settings.
// Written against possibly schema-invalid input (every access is guarded) so one lint run reports every problem.
import { RE2JS } from '@bufbuild/re2';
import { parseDuration, parseTime } from '@tidemark/core';
import { sampleActivation } from './cel/check.js';
import { analyzeExpression, nonBoolResultOn } from './cel/compile.js';
import { DRIFT_THRESHOLDS_BY_KIND } from './defaults.js';
import type { LintProblem } from './problems.js';
import { closest, displayPath } from './validate.js';
import type { DocPath, SourceDocument } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const items = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What the checks of one document need to know about the other files. */
export interface LintContext {
  /** Team names from Owners files; undefined when no Owners file was given (team names are then not checked). */
  teams: ReadonlySet<string> | undefined;
}

const SECTIONS_WITH_CLASSES = ['rules', 'references', 'nullRates', 'drift'] as const;

/** Semantic problems of one SourceContract document. */
export function checkSourceContract(
  source: SourceDocument,
  contract: Obj,
  context: LintContext,
): LintProblem[] {
  const problems: LintProblem[] = [];
  const system = str(contract.system) ?? 'system';
  const classes = isObj(contract.classes) ? contract.classes : {};
  const classNames = Object.keys(classes);
  const report: Report = (path, message, options) =>
    problems.push(source.problem(path, message, options));

  for (const section of SECTIONS_WITH_CLASSES) {
    items(contract[section]).forEach((entry, i) => {
      if (!isObj(entry)) return;
      items(entry.classes).forEach((name, j) => {
        if (typeof name !== 'string' || classNames.includes(name)) return;
        const path = [section, i, 'classes', j];
        const guess = closest(name, classNames);
        const known =
          classNames.length === 0
            ? 'the contract defines no classes'
            : `classes: ${classNames.join(', ')}`;
        report(
          path,
          `${displayPath(path)}: unknown content class "${name}" (${guess ? `did you mean "${guess}"? ` : ''}${known})`,
        );
      });
    });
  }

  const scopes: Array<{ path: DocPath; body: Obj; contentClass: string | undefined }> = [
    { path: [], body: contract, contentClass: undefined },
    ...classNames.flatMap((name) => {
      const body = classes[name];
      return isObj(body) ? [{ path: ['classes', name], body, contentClass: name }] : [];
    }),
  ];
  for (const { path, body, contentClass } of scopes) {
    checkOwner(report, [...path, 'owner'], body.owner, context);
    checkRules(source, problems, [...path, 'rules'], body.rules, system, contentClass);
    checkAllowed(report, [...path, 'allowed'], body.allowed);
    checkUniqueFields(report, [...path, 'references'], body.references, 'reference');
    checkUniqueFields(report, [...path, 'nullRates'], body.nullRates, 'null-rate limit');
    items(body.nullRates).forEach((entry, i) => {
      if (isObj(entry))
        checkPositiveDuration(report, [...path, 'nullRates', i, 'window'], entry.window);
    });
  }
  checkDrift(report, scopes);

  if (isObj(contract.connectors)) {
    checkPositiveDuration(report, ['connectors', 'heartbeat'], contract.connectors.heartbeat);
    const instances = isObj(contract.connectors.instances) ? contract.connectors.instances : {};
    for (const [name, instance] of Object.entries(instances)) {
      if (isObj(instance))
        checkPositiveDuration(
          report,
          ['connectors', 'instances', name, 'heartbeat'],
          instance.heartbeat,
        );
    }
  }
  if (isObj(contract.parity) && isObj(contract.parity.massRemoval)) {
    checkPositiveDuration(
      report,
      ['parity', 'massRemoval', 'window'],
      contract.parity.massRemoval.window,
    );
  }
  return problems;
}

type Report = (path: DocPath, message: string, options?: { key?: boolean }) => void;

function checkOwner(report: Report, path: DocPath, owner: unknown, context: LintContext): void {
  if (!isObj(owner) || context.teams === undefined) return;
  const teams = [...context.teams];
  for (const key of ['team', 'platformOwner'] as const) {
    const name = owner[key];
    if (typeof name !== 'string' || context.teams.has(name)) continue;
    const guess = closest(name, teams);
    const fieldPath = [...path, key];
    report(
      fieldPath,
      `${displayPath(fieldPath)}: unknown team "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; teams are defined in the Owners file`,
    );
  }
}

function checkRules(
  source: SourceDocument,
  problems: LintProblem[],
  path: DocPath,
  rules: unknown,
  system: string,
  contentClass: string | undefined,
): void {
  const seen = new Map<string, number>();
  items(rules).forEach((rule, i) => {
    if (!isObj(rule)) return;
    const name = str(rule.name);
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) {
        problems.push(
          source.problem(
            [...path, i, 'name'],
            `${displayPath([...path, i, 'name'])}: duplicate rule name "${name}" (first at ${displayPath([...path, first])})`,
          ),
        );
      } else seen.set(name, i);
    }
    const expression = str(rule.expression);
    if (expression === undefined || expression.trim() === '') return;
    const label = `rule "${name ?? `#${i}`}"`;
    const expressionPath = [...path, i, 'expression'];
    const found = analyzeExpression(expression);
    for (const problem of found) {
      problems.push(
        source.problemAt(
          source.offsetInScalar(expressionPath, problem.offset),
          `${label}: ${problem.message}`,
        ),
      );
    }
    if (found.length > 0) return;
    const returned = nonBoolResultOn(expression, sampleActivation(system, contentClass));
    if (returned !== undefined) {
      problems.push(
        source.problem(
          expressionPath,
          `${label}: must return bool, but returns ${returned} on a sample content.upserted event`,
        ),
      );
    }
  });
}

function checkAllowed(report: Report, path: DocPath, allowed: unknown): void {
  if (!isObj(allowed)) return;
  for (const [field, spec] of Object.entries(allowed)) {
    if (!isObj(spec)) continue;
    const pattern = str(spec.pattern);
    if (pattern !== undefined) {
      try {
        RE2JS.compile(pattern);
      } catch (error) {
        const patternPath = [...path, field, 'pattern'];
        const reason = error instanceof Error ? error.message : String(error);
        report(patternPath, `${displayPath(patternPath)}: invalid regular expression: ${reason}`);
      }
    }
    if (typeof spec.min === 'number' && typeof spec.max === 'number' && spec.min > spec.max) {
      const maxPath = [...path, field, 'max'];
      report(maxPath, `${displayPath(maxPath)}: must be >= min (${spec.min}), got ${spec.max}`);
    }
  }
}

function checkUniqueFields(report: Report, path: DocPath, entries: unknown, what: string): void {
  const seen = new Map<string, number>();
  items(entries).forEach((entry, i) => {
    if (!isObj(entry) || typeof entry.field !== 'string') return;
    const first = seen.get(entry.field);
    const fieldPath = [...path, i, 'field'];
    if (first === undefined) seen.set(entry.field, i);
    else
      report(
        fieldPath,
        `${displayPath(fieldPath)}: second ${what} for field "${entry.field}" (first at ${displayPath([...path, first])})`,
      );
  });
}

function checkPositiveDuration(report: Report, path: DocPath, value: unknown): void {
  if (typeof value !== 'string') return;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    return; // the schema check has reported it
  }
  if (ms <= 0) report(path, `${displayPath(path)}: must be longer than 0`);
}

function checkDrift(report: Report, scopes: ReadonlyArray<{ path: DocPath; body: Obj }>): void {
  const names = new Map<string, DocPath>();
  for (const { path, body } of scopes) {
    items(body.drift).forEach((feature, i) => {
      if (!isObj(feature)) return;
      const at = (...rest: Array<string | number>) => [...path, 'drift', i, ...rest];
      const name = str(feature.name);
      if (name !== undefined) {
        const first = names.get(name);
        if (first !== undefined) {
          report(
            at('name'),
            `${displayPath(at('name'))}: duplicate drift feature name "${name}" (first at ${displayPath(first)})`,
          );
        } else names.set(name, at());
      }
      checkPositiveDuration(report, at('window'), feature.window);
      const kind = str(feature.kind);
      if (kind !== 'numeric' && kind !== 'categorical' && kind !== 'volume') return;
      if (kind === 'volume' && feature.field !== undefined) {
        report(
          at('field'),
          `${displayPath(at('field'))}: a volume feature counts events and takes no field`,
        );
      }
      if (kind !== 'volume' && feature.field === undefined) {
        report(at(), `${displayPath(at())}: a ${kind} feature needs a field`);
      }
      if (kind !== 'volume' && feature.by !== undefined) {
        report(at('by'), `${displayPath(at('by'))}: only volume features take "by"`);
      }
      if (kind !== 'numeric' && feature.bins !== undefined) {
        report(at('bins'), `${displayPath(at('bins'))}: only numeric features take "bins"`);
      }
      if (kind !== 'categorical' && feature.topK !== undefined) {
        report(at('topK'), `${displayPath(at('topK'))}: only categorical features take "topK"`);
      }
      const applicable: readonly string[] = DRIFT_THRESHOLDS_BY_KIND[kind];
      if (isObj(feature.thresholds)) {
        for (const key of Object.keys(feature.thresholds)) {
          if (
            applicable.includes(key) ||
            !['psi', 'ksPValue', 'chiSquarePValue', 'jsDistance', 'volumeScore'].includes(key)
          ) {
            continue;
          }
          report(
            at('thresholds', key),
            `${displayPath(at('thresholds', key))}: does not apply to a ${kind} feature (use ${applicable.join(', ')})`,
            { key: true },
          );
        }
      }
      if (isObj(feature.baseline)) {
        const baseline = feature.baseline;
        if (baseline.mode === 'pinned') {
          if (baseline.windows !== undefined) {
            report(
              at('baseline', 'windows'),
              `${displayPath(at('baseline', 'windows'))}: a pinned baseline takes "reference", not "windows"`,
            );
          }
          const reference = str(baseline.reference);
          if (reference === undefined) {
            report(
              at('baseline'),
              `${displayPath(at('baseline'))}: a pinned baseline needs "reference" (RFC 3339 start of the reference window)`,
            );
          } else {
            try {
              parseTime(reference);
            } catch (error) {
              report(
                at('baseline', 'reference'),
                `${displayPath(at('baseline', 'reference'))}: ${(error as Error).message}`,
              );
            }
          }
        } else if (baseline.mode === 'rolling' && baseline.reference !== undefined) {
          report(
            at('baseline', 'reference'),
            `${displayPath(at('baseline', 'reference'))}: a rolling baseline takes "windows", not "reference"`,
          );
        }
      }
    });
  }
}
