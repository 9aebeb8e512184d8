import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDuration } from '@tidemark/core';
import {
  API_VERSION,
  CONTRACT_KINDS,
  DURATION_PATTERN,
  FIELD_PATH_PATTERN,
  KIND_SCHEMAS,
  LABEL_NAME_PATTERN,
  NAME_PATTERN,
} from './schema.js';
import type { LintProblem } from './problems.js';
import type { DocPath, SourceDocument } from './yaml-source.js';

/** A document kind this package reads. */
export type ContractKind = (typeof CONTRACT_KINDS)[number];

// verbose: errors carry the schema that failed, so messages can say "not a duration" rather than "must match pattern".
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const validators = new Map<ContractKind, ValidateFunction>(
  CONTRACT_KINDS.map((kind) => [kind, ajv.compile(KIND_SCHEMAS[kind])]),
);

const PATTERN_HINTS: Record<string, string> = {
  [NAME_PATTERN]: 'must be lowercase letters, digits, ".", "_" or "-"',
  [FIELD_PATH_PATTERN]: 'must be a field path such as classification or attributes.region',
  [LABEL_NAME_PATTERN]: 'must be a label name (letters, digits, "_")',
};

/** Renders a document path for messages: `classes.policy.rules[0].expression`. */
export function displayPath(path: DocPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function prefixed(path: DocPath, message: string): string {
  const shown = displayPath(path);
  return shown === '' ? message : `${shown}: ${message}`;
}

/**
 * Checks apiVersion and kind, then the document against its kind's schema; returns the kind when the
 * document is of a known kind (even if otherwise invalid) and every problem found.
 */
export function validateDocument(
  source: SourceDocument,
  value: unknown,
): { kind: ContractKind | undefined; problems: LintProblem[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      kind: undefined,
      problems: [source.problem([], 'a contract document must be a mapping')],
    };
  }
  const record = value as Record<string, unknown>;
  const problems: LintProblem[] = [];
  if (!('apiVersion' in record))
    problems.push(source.problem([], `missing required field "apiVersion" (${API_VERSION})`));
  else if (record.apiVersion !== API_VERSION) {
    problems.push(
      source.problem(
        ['apiVersion'],
        `apiVersion: must be "${API_VERSION}" (got ${show(record.apiVersion)})`,
      ),
    );
  }
  const kind = record.kind;
  if (!('kind' in record)) {
    problems.push(
      source.problem([], `missing required field "kind" (one of ${CONTRACT_KINDS.join(', ')})`),
    );
    return { kind: undefined, problems };
  }
  if (typeof kind !== 'string' || !(CONTRACT_KINDS as readonly string[]).includes(kind)) {
    problems.push(
      source.problem(
        ['kind'],
        `kind: must be one of ${CONTRACT_KINDS.join(', ')} (got ${show(kind)})`,
      ),
    );
    return { kind: undefined, problems };
  }
  const validate = validators.get(kind as ContractKind) as ValidateFunction;
  if (!validate(value)) {
    for (const error of validate.errors ?? []) {
      // apiVersion was reported above in a friendlier form.
      if (error.instancePath === '/apiVersion') continue;
      if (error.keyword === 'required' && error.params.missingProperty === 'apiVersion') continue;
      problems.push(describe(source, value, error));
    }
  }
  return { kind: kind as ContractKind, problems };
}

function describe(source: SourceDocument, root: unknown, error: ErrorObject): LintProblem {
  const path = toPath(root, error.instancePath);
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  const params = error.params as Record<string, unknown>;
  const isDuration = parent?.pattern === DURATION_PATTERN;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const keyPath = [...path, key];
      const patterns = parent?.patternProperties as Record<string, unknown> | undefined;
      if (patterns !== undefined) {
        const [pattern] = Object.keys(patterns);
        const hint = (pattern !== undefined && PATTERN_HINTS[pattern]) || 'is not a valid name';
        return source.problem(
          keyPath,
          `${displayPath(keyPath)}: invalid key ${JSON.stringify(key)}: ${hint}`,
          { key: true },
        );
      }
      const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
      const guess = closest(key, known);
      const suggestion = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
      return source.problem(keyPath, `${displayPath(keyPath)}: unknown field${suggestion}`, {
        key: true,
      });
    }
    case 'required':
      return source.problem(
        path,
        prefixed(path, `missing required field "${String(params.missingProperty)}"`),
      );
    case 'type':
      if (isDuration) {
        return source.problem(
          path,
          prefixed(
            path,
            `must be a duration such as "30s", "15m", "4h", "7d" (got ${show(error.data)})`,
          ),
        );
      }
      return source.problem(
        path,
        prefixed(path, `must be ${typeWords(params.type)} (got ${show(error.data)})`),
      );
    case 'enum':
      return source.problem(
        path,
        prefixed(
          path,
          `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')} (got ${show(error.data)})`,
        ),
      );
    case 'const':
      return source.problem(
        path,
        prefixed(path, `must be ${show(params.allowedValue)} (got ${show(error.data)})`),
      );
    case 'pattern': {
      if (isDuration) return source.problem(path, prefixed(path, durationMessage(error.data)));
      const hint = PATTERN_HINTS[String(params.pattern)] ?? `must match ${String(params.pattern)}`;
      return source.problem(path, prefixed(path, `${hint} (got ${show(error.data)})`));
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return source.problem(
        path,
        prefixed(
          path,
          `must be ${String(params.comparison)} ${String(params.limit)} (got ${show(error.data)})`,
        ),
      );
    case 'uniqueItems': {
      const itemPath = [...path, Number(params.i)];
      return source.problem(itemPath, prefixed(itemPath, `duplicate of item ${String(params.j)}`));
    }
    case 'minItems':
    case 'minLength':
    case 'minProperties':
      return source.problem(path, prefixed(path, 'must not be empty'));
    default:
      return source.problem(path, prefixed(path, error.message ?? error.keyword));
  }
}

function durationMessage(value: unknown): string {
  try {
    parseDuration(String(value));
  } catch (error) {
    if (error instanceof RangeError) return error.message;
  }
  return `not a duration: ${show(value)} (use e.g. "30s", "15m", "4h", "7d", "1h30m")`;
}

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : String(type).split(',');
  const words = types.map((t) =>
    t === 'object'
      ? 'a mapping'
      : t === 'array'
        ? 'a list'
        : t === 'integer'
          ? 'an integer'
          : `a ${t}`,
  );
  return words.join(' or ');
}

/** Shows a value in a message: strings quoted, mappings and lists by kind. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return JSON.stringify(value);
}

/** Turns an Ajv instancePath into document path segments (array indexes as numbers). */
function toPath(root: unknown, pointer: string): DocPath {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(segment));
      node = node[Number(segment)];
    } else {
      path.push(segment);
      node =
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[segment]
          : undefined;
    }
  }
  return path;
}

/** The known name nearest to a misspelt one (edit distance ≤ 2 or a case-only difference), if any. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(
        above + 1,
        (row[j - 1] as number) + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
