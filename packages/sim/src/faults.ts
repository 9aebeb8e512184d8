import { ConfigError, parseDuration } from '@tidemark/core';
import { formatProblem, parseSingleSource } from '@tidemark/contracts';

/**
 * Every check id of spec/outputs.md, plus the parity verifier's own `parity.mass-removal` and
 * `parity.snapshot-incomplete`; a fault plan may inject each of them.
 */
export const FAULT_KINDS = [
  'envelope.invalid',
  'contract.required',
  'contract.allowed',
  'contract.rule',
  'contract.reference',
  'contract.null-rate',
  'contract.schema',
  'freshness.sync-lag',
  'freshness.review-overdue',
  'freshness.connector-silent',
  'freshness.connector-failing',
  'parity.delete-missed',
  'parity.resurrected',
  'parity.acl-mismatch',
  'parity.orphan',
  'parity.missing',
  'parity.mass-removal',
  'parity.snapshot-incomplete',
  'drift.numeric',
  'drift.categorical',
  'drift.volume',
] as const;

/** A check id the simulator can inject a fault for. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Forms of a poison record (`envelope.invalid`). `mixed` cycles through the others. */
export const POISON_FORMS = [
  'invalid-json',
  'not-cloudevent',
  'unknown-type',
  'schema',
  'mixed',
] as const;
/** Forms of a `contract.schema` fault. */
export const SCHEMA_FORMS = ['framed'] as const;
/** Forms of a `contract.reference` fault: a `supersededBy` naming a document that never existed, or one deleted. */
export const REFERENCE_FORMS = ['unknown', 'deleted'] as const;

/**
 * One fault of a plan. `at` is an offset from the start of the run: a duration ("90m", "2h") or a share of the
 * run ("40%"). Which other keys apply depends on `kind` (see FAULT_KEYS and the package README).
 */
export interface FaultSpec {
  kind: FaultKind;
  /** When the fault starts: a duration from the start ("2h") or a share of the run ("40%"). */
  at: string;
  /** System it hits. @default the plan's systems in turn */
  system?: string;
  /** Connector it hits (connector faults). @default the system's first connector */
  connector?: string;
  /** Documents (or poison records, failed runs, orphans) it affects. @default 1 (failed runs: the connector's failingRuns) */
  count?: number;
  /** Spacing between the affected documents or records. @default "1m" (mass removal: 1s, or less to fit half its window) */
  every?: string;
  /** Explicit victims by document id (instead of a seeded choice); `count` is then their number. */
  targets?: string[];
  /**
   * How long a population fault or an outage lasts; for parity.mass-removal, how long the removed documents stay out
   * of the index before the connector re-indexes them. @default until the end of the run (mass removal: "1h")
   */
  for?: string;
  /** Field the fault touches (contract.required/allowed/null-rate, drift.numeric/categorical). */
  field?: string;
  /** Value written (contract.allowed, drift.categorical). */
  value?: string | number | boolean;
  /** How a field breaks: null, removed, or empty string. @default "null" (null-rate: null where the event schema allows it, else missing) */
  as?: 'null' | 'missing' | 'empty';
  /** Fields set on the victim's revision (contract.rule). @default { deprecated: true, supersededBy: null } */
  set?: Record<string, unknown>;
  /** Name of the rule the fault is meant to break, recorded in the truth (contract.rule). */
  rule?: string;
  /** Variant: a poison form, a schema form, or a reference form. */
  form?: string;
  /** Topic a poison record goes to. @default "content" */
  topic?: 'content' | 'sync' | 'inventory';
  /** Share of the affected events that carry the fault (population faults); of the system's documents the index removes (parity.mass-removal). */
  share?: number;
  /** Multiplier (drift.numeric: of sizes; drift.volume: of the change rate). */
  factor?: number;
  /** How long past its review clock the victim's `reviewedAt` is. @default the class's review interval */
  age?: string;
  /** Delay between the index removal and the stale re-upsert (parity.resurrected). @default "10m" */
  after?: string;
  /** Error message of failed runs (freshness.connector-failing). */
  error?: string;
  /** Limit the fault to documents (or events) of one content class. */
  contentClass?: string;
  /** Schema id in the Confluent frame (contract.schema). @default 1 */
  schemaId?: number;
  /** Inventory side whose snapshot loses its last chunk (parity.snapshot-incomplete). @default "index" */
  side?: 'source' | 'index';
  /** Free text for the reader of the plan. */
  note?: string;
}

/** A list of faults to inject into a simulated run. */
export interface FaultPlan {
  name?: string;
  description?: string;
  faults: FaultSpec[];
}

const COMMON = ['kind', 'at', 'system', 'note'] as const;
const DOC = [...COMMON, 'count', 'every', 'targets', 'contentClass'] as const;
const WINDOW = ['for', 'share', 'contentClass'] as const;

/** The keys each fault kind accepts; any other key is an error. */
export const FAULT_KEYS: Readonly<Record<FaultKind, readonly string[]>> = {
  'envelope.invalid': [...DOC, 'form', 'topic'],
  'contract.required': [...DOC, 'field', 'as'],
  'contract.allowed': [...DOC, 'field', 'value'],
  'contract.rule': [...DOC, 'set', 'rule'],
  'contract.reference': [...DOC, 'form'],
  'contract.null-rate': [...COMMON, ...WINDOW, 'field', 'as'],
  'contract.schema': [...DOC, 'form', 'schemaId'],
  'freshness.sync-lag': DOC,
  'freshness.review-overdue': [...DOC, 'age'],
  'freshness.connector-silent': [...COMMON, 'connector', 'for'],
  'freshness.connector-failing': [...COMMON, 'connector', 'count', 'error'],
  'parity.delete-missed': DOC,
  'parity.resurrected': [...DOC, 'after'],
  'parity.acl-mismatch': DOC,
  'parity.orphan': [...COMMON, 'count'],
  'parity.missing': [...COMMON, 'count', 'every'],
  'parity.mass-removal': [...COMMON, 'connector', 'share', 'every', 'for'],
  'parity.snapshot-incomplete': [...COMMON, 'side'],
  'drift.numeric': [...COMMON, ...WINDOW, 'field', 'factor'],
  'drift.categorical': [...COMMON, ...WINDOW, 'field', 'value'],
  'drift.volume': [...COMMON, 'for', 'factor'],
};

/** A problem with a plan, at a path such as `faults[2].count`. */
interface PathProblem {
  path: ReadonlyArray<string | number>;
  message: string;
  /** The problem is the key itself (unknown key): point at the key, not its value. */
  atKey?: boolean;
}

const PLAN_KEYS = ['name', 'description', 'faults'];
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const PERCENT = /^(\d+(\.\d+)?)%$/;

function displayPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg),
    '',
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkPlan(input: unknown): PathProblem[] {
  const problems: PathProblem[] = [];
  const add = (path: ReadonlyArray<string | number>, message: string) =>
    problems.push({
      path,
      message: `${displayPath(path) || 'plan'}: ${message}`,
      atKey: message.startsWith('unknown key') || message.startsWith('not a setting'),
    });
  if (!isObject(input)) {
    add([], 'must be a mapping with a "faults" list');
    return problems;
  }
  for (const key of Object.keys(input)) {
    if (!PLAN_KEYS.includes(key)) add([key], `unknown key (allowed: ${PLAN_KEYS.join(', ')})`);
  }
  for (const key of ['name', 'description']) {
    if (input[key] !== undefined && typeof input[key] !== 'string') add([key], 'must be a string');
  }
  const faults = input['faults'];
  if (!Array.isArray(faults)) {
    add(['faults'], 'must be a list of faults');
    return problems;
  }
  faults.forEach((fault, i) => checkFault(fault, ['faults', i], add));
  return problems;
}

function checkFault(
  fault: unknown,
  at: ReadonlyArray<string | number>,
  add: (path: ReadonlyArray<string | number>, message: string) => void,
): void {
  if (!isObject(fault)) {
    add(at, 'must be a mapping with "kind" and "at"');
    return;
  }
  const kind = fault['kind'];
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    add([...at, 'kind'], `must be one of ${FAULT_KINDS.join(', ')}; got ${JSON.stringify(kind)}`);
    return;
  }
  const allowed = FAULT_KEYS[kind as FaultKind];
  for (const key of Object.keys(fault)) {
    if (!allowed.includes(key))
      add([...at, key], `not a setting of ${kind} (allowed: ${allowed.join(', ')})`);
  }
  const p = (key: string) => [...at, key];
  if (fault['at'] === undefined)
    add(p('at'), 'is required (a duration such as "2h" or a share such as "40%")');
  else checkOffset(fault['at'], p('at'), add);
  for (const key of ['system', 'connector', 'note', 'rule', 'error', 'contentClass'] as const) {
    const v = fault[key];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      add(p(key), 'must be a non-empty string');
  }
  for (const key of ['every', 'for', 'age', 'after'] as const) {
    const v = fault[key];
    if (v === undefined) continue;
    if (typeof v !== 'string')
      add(p(key), `must be a duration such as "10m", got ${JSON.stringify(v)}`);
    else if (key === 'for' && PERCENT.test(v)) continue;
    else {
      try {
        const ms = parseDuration(v);
        if (ms <= 0 && key !== 'every') add(p(key), 'must be longer than 0');
      } catch (error) {
        add(p(key), (error as Error).message);
      }
    }
  }
  const count = fault['count'];
  if (
    count !== undefined &&
    !(Number.isInteger(count) && (count as number) >= 1 && (count as number) <= 1_000_000)
  ) {
    add(p('count'), `must be an integer from 1 to 1000000, got ${JSON.stringify(count)}`);
  }
  const targets = fault['targets'];
  if (targets !== undefined) {
    if (
      !Array.isArray(targets) ||
      targets.length === 0 ||
      !targets.every((t) => typeof t === 'string' && t !== '')
    ) {
      add(p('targets'), 'must be a non-empty list of document ids');
    } else if (count !== undefined && count !== targets.length) {
      add(p('count'), `is ${String(count)} but ${targets.length} targets are listed`);
    }
  }
  const field = fault['field'];
  if (field !== undefined && (typeof field !== 'string' || !FIELD_PATH.test(field))) {
    add(
      p('field'),
      `must be a field path such as "owner" or "attributes.region", got ${JSON.stringify(field)}`,
    );
  }
  const value = fault['value'];
  if (value !== undefined && !['string', 'number', 'boolean'].includes(typeof value)) {
    add(p('value'), 'must be a string, number or boolean');
  }
  if (fault['as'] !== undefined && !['null', 'missing', 'empty'].includes(fault['as'] as string)) {
    add(p('as'), `must be one of null, missing, empty; got ${JSON.stringify(fault['as'])}`);
  }
  if (
    fault['set'] !== undefined &&
    (!isObject(fault['set']) || Object.keys(fault['set']).length === 0)
  ) {
    add(p('set'), 'must be a mapping of data fields to values');
  }
  const forms: readonly string[] | undefined =
    kind === 'envelope.invalid'
      ? POISON_FORMS
      : kind === 'contract.schema'
        ? SCHEMA_FORMS
        : kind === 'contract.reference'
          ? REFERENCE_FORMS
          : undefined;
  if (fault['form'] !== undefined && forms && !forms.includes(fault['form'] as string)) {
    add(p('form'), `must be one of ${forms.join(', ')}; got ${JSON.stringify(fault['form'])}`);
  }
  if (
    fault['topic'] !== undefined &&
    !['content', 'sync', 'inventory'].includes(fault['topic'] as string)
  ) {
    add(
      p('topic'),
      `must be one of content, sync, inventory; got ${JSON.stringify(fault['topic'])}`,
    );
  }
  if (fault['side'] !== undefined && !['source', 'index'].includes(fault['side'] as string)) {
    add(p('side'), `must be one of source, index; got ${JSON.stringify(fault['side'])}`);
  }
  const share = fault['share'];
  if (share !== undefined && !(typeof share === 'number' && share > 0 && share <= 1)) {
    add(p('share'), `must be a number in (0, 1], got ${JSON.stringify(share)}`);
  }
  const factor = fault['factor'];
  if (
    factor !== undefined &&
    !(typeof factor === 'number' && factor >= 0 && Number.isFinite(factor) && factor !== 1)
  ) {
    add(p('factor'), `must be a number ≥ 0 other than 1, got ${JSON.stringify(factor)}`);
  }
  const schemaId = fault['schemaId'];
  if (
    schemaId !== undefined &&
    !(Number.isInteger(schemaId) && (schemaId as number) >= 0 && (schemaId as number) < 2 ** 31)
  ) {
    add(p('schemaId'), `must be an integer from 0 to 2147483647, got ${JSON.stringify(schemaId)}`);
  }
}

function checkOffset(
  value: unknown,
  path: ReadonlyArray<string | number>,
  add: (path: ReadonlyArray<string | number>, message: string) => void,
): void {
  if (typeof value !== 'string') {
    add(
      path,
      `must be a duration such as "2h" or a share such as "40%", got ${JSON.stringify(value)}`,
    );
    return;
  }
  const pct = PERCENT.exec(value);
  if (pct) {
    if (Number(pct[1]) >= 100) add(path, `must be below 100%, got ${value}`);
    return;
  }
  try {
    parseDuration(value);
  } catch (error) {
    add(path, `${(error as Error).message}, or a share of the run such as "40%"`);
  }
}

/** Checks a fault plan given as a plain object (e.g. parsed JSON); throws ConfigError listing every problem. */
export function validateFaultPlan(input: unknown): FaultPlan {
  const problems = checkPlan(input);
  if (problems.length > 0) {
    throw new ConfigError(
      'invalid fault plan',
      problems.map((p) => p.message),
    );
  }
  return input as FaultPlan;
}

/**
 * Parses and checks a fault plan written in YAML; throws ConfigError whose problems each start with
 * `file:line:column`.
 */
export function parseFaultPlan(text: string, file = 'faults.yaml'): FaultPlan {
  const { document, problems: unparsable } = parseSingleSource(file, text);
  if (unparsable.length > 0)
    throw new ConfigError('invalid fault plan', unparsable.map(formatProblem));
  const input: unknown = document ? document.doc.toJS() : null;
  const problems = checkPlan(input);
  if (problems.length > 0) {
    throw new ConfigError(
      'invalid fault plan',
      problems.map(({ path, message, atKey }) =>
        // An empty file has no positions to point at.
        document
          ? formatProblem(document.problem(path, message, { key: atKey === true }))
          : `${file}: ${message}`,
      ),
    );
  }
  return input as FaultPlan;
}

/** Resolves a fault offset ("2h", "40%") to milliseconds from the start of a run of `durationMs`. */
export function resolveOffset(value: string, durationMs: number): number {
  const pct = PERCENT.exec(value);
  if (pct) return Math.round((Number(pct[1]) / 100) * durationMs);
  return parseDuration(value);
}
