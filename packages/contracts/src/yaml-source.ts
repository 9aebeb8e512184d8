// The one YAML reader of the house: contract files (read whole, validated by schema, problems pointed back at
// their nodes by path), routing.yaml / silences.yaml (read field by field with YamlReader), the escalation lint
// and the simulator's fault plans all parse the same way (duplicate keys rejected) and report problems in the
// same form, `file:line:column: field: reason`, YAML syntax errors as `file:line:column: YAML: …`.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  Scalar,
  type Document,
  type Node,
  type Pair,
} from 'yaml';
import { formatProblem, sortProblems, type LintProblem } from './problems.js';

/** A path into a YAML document: map keys and sequence indexes. */
export type DocPath = ReadonlyArray<string | number>;

/** One parsed YAML document with what is needed to point problems at lines and columns. */
export class SourceDocument {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Builds a problem at a source offset. */
  problemAt(offset: number, message: string): LintProblem {
    return { file: this.file, ...this.position(offset), message };
  }

  /** The 1-based line and column of a source offset. */
  position(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    // linePos reports line 0 before the first newline is known; the first line is line 1.
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  }

  /** Builds a problem at the node a path names (its key when `key`), or the nearest ancestor that exists. */
  problem(path: DocPath, message: string, options: { key?: boolean } = {}): LintProblem {
    return this.problemAt(this.offsetOf(path, options), message);
  }

  /** The start offset of the node at `path` (or of its key), falling back to the deepest node found. */
  offsetOf(path: DocPath, options: { key?: boolean } = {}): number {
    const found = this.find(path);
    if (options.key && found.pair && found.complete && isNodeWithRange(found.pair.key))
      return found.pair.key.range[0];
    return found.node?.range?.[0] ?? this.doc.contents?.range?.[0] ?? 0;
  }

  /** The node at `path`, when every segment exists. */
  nodeAt(path: DocPath): Node | undefined {
    const found = this.find(path);
    return found.complete ? found.node : undefined;
  }

  private find(path: DocPath): {
    node: Node | undefined;
    pair: Pair | undefined;
    complete: boolean;
  } {
    let node: Node | null | undefined = this.doc.contents;
    let pair: Pair | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const hit: Pair | undefined = node.items.find(
          (item) =>
            isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (!hit) return { node, pair, complete: false };
        pair = hit;
        node = isNodeWithRange(hit.value) ? hit.value : isNodeWithRange(hit.key) ? hit.key : node;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (!isNodeWithRange(item)) return { node, pair, complete: false };
        pair = undefined;
        node = item;
      } else {
        return { node: node ?? undefined, pair, complete: false };
      }
    }
    return { node: node ?? undefined, pair, complete: true };
  }

  /**
   * Maps an offset inside a string scalar's value to an offset in the file, where the scalar is written so that
   * the value appears verbatim (plain or quoted on one line without escapes, or a literal block `|`); otherwise
   * returns the scalar's start. Lets a CEL syntax error point at the exact character.
   */
  offsetInScalar(path: DocPath, valueOffset: number | undefined): number {
    const node = this.nodeAt(path);
    const start = this.offsetOf(path);
    if (
      valueOffset === undefined ||
      !isScalar(node) ||
      typeof node.value !== 'string' ||
      !node.range
    )
      return start;
    const value = node.value;
    const raw = this.text.slice(node.range[0], node.range[1]);
    switch (node.type) {
      case Scalar.PLAIN:
        return raw === value ? start + valueOffset : start;
      case Scalar.QUOTE_DOUBLE:
      case Scalar.QUOTE_SINGLE:
        return raw.slice(1, -1) === value ? start + 1 + valueOffset : start;
      case Scalar.BLOCK_LITERAL: {
        const inBlock = literalBlockOffset(raw, value, valueOffset);
        return inBlock === undefined ? start : node.range[0] + inBlock;
      }
      default:
        return start;
    }
  }
}

function literalBlockOffset(raw: string, value: string, valueOffset: number): number | undefined {
  const headerEnd = raw.indexOf('\n');
  if (headerEnd < 0) return undefined;
  const sourceLines = raw.slice(headerEnd + 1).split('\n');
  const valueLines = value.split('\n');
  const indent = /^ */.exec(sourceLines.find((l) => l.trim() !== '') ?? '')?.[0].length ?? 0;
  let remaining = valueOffset;
  let position = headerEnd + 1;
  for (let i = 0; i < valueLines.length; i++) {
    const valueLine = valueLines[i] ?? '';
    const sourceLine = sourceLines[i];
    if (sourceLine === undefined || (valueLine !== '' && sourceLine.slice(indent) !== valueLine))
      return undefined;
    if (remaining <= valueLine.length) return position + indent + remaining;
    remaining -= valueLine.length + 1;
    position += sourceLine.length + 1;
  }
  return undefined;
}

function isNodeWithRange(value: unknown): value is Node & { range: [number, number, number] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { range?: unknown }).range)
  );
}

/** Parses a file into its YAML documents; YAML errors come back as problems with line and column. */
export function parseSource(
  file: string,
  text: string,
): { documents: SourceDocument[]; problems: LintProblem[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const problems: LintProblem[] = [];
  const documents: SourceDocument[] = [];
  // An empty stream parses to a (falsy-looking) EmptyStream: no documents, no errors.
  for (const doc of Array.isArray(docs) ? docs : []) {
    const source = new SourceDocument(file, text, doc, lines);
    const issues = [...doc.errors, ...doc.warnings];
    for (const issue of issues)
      problems.push(source.problemAt(issue.pos[0], `YAML: ${firstLine(issue.message)}`));
    if (issues.length === 0) documents.push(source);
  }
  return { documents, problems };
}

/**
 * Parses a file that holds one YAML document (a config file, a plan); a second document is a problem. The
 * document is undefined when the file is empty or has problems.
 */
export function parseSingleSource(
  file: string,
  text: string,
): { document: SourceDocument | undefined; problems: LintProblem[] } {
  const { documents, problems } = parseSource(file, text);
  const [first, second] = documents;
  if (second)
    problems.push(
      second.problem(
        [],
        `YAML: expected one document, found ${documents.length} (--- starts another)`,
      ),
    );
  return { document: problems.length > 0 ? undefined : first, problems };
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

/** A YAML node with the dotted path that led to it (`receivers[0].url`), for error messages. */
export interface Located {
  readonly node: Node | null;
  readonly path: string;
}

/**
 * Reads a one-document YAML file field by field (routing.yaml, silences.yaml), collecting every problem with
 * its line, column and field path rather than stopping at the first, so one round of fixes is enough.
 */
export class YamlReader {
  readonly problems: LintProblem[] = [];
  readonly root: Located;
  readonly #file: string;
  readonly #source: SourceDocument | undefined;

  constructor(text: string, file: string) {
    this.#file = file;
    const { document, problems } = parseSingleSource(file, text);
    this.problems.push(...problems);
    this.#source = document;
    this.root = { node: this.#resolve(document?.doc.contents), path: '' };
  }

  #resolve(node: Node | null | undefined): Node | null {
    if (node && isAlias(node) && this.#source)
      return (node.resolve(this.#source.doc) as Node | undefined) ?? null;
    return node ?? null;
  }

  #position(at: Located): { line: number; column: number } {
    const offset = at.node?.range?.[0];
    return offset === undefined || !this.#source
      ? { line: 1, column: 1 }
      : this.#source.position(offset);
  }

  /** 1-based line of a node (1 when unknown). */
  line(at: Located): number {
    return this.#position(at).line;
  }

  /** Every problem as `file:line:column: field: reason`, in file order (the order a person fixes them in). */
  sortedProblems(): string[] {
    return sortProblems(this.problems).map(formatProblem);
  }

  /** Records a problem at a node. */
  problem(at: Located, message: string): void {
    const field = at.path === '' ? '' : `${at.path}: `;
    this.problems.push({ file: this.#file, ...this.#position(at), message: `${field}${message}` });
  }

  /** Whether the node is absent or an explicit null. */
  isNull(at: Located): boolean {
    return at.node === null || (isScalar(at.node) && at.node.value === null);
  }

  /**
   * Reads a mapping: reports keys outside `allowed` and returns the known ones. Returns undefined (and reports)
   * when the node is not a mapping.
   */
  map(at: Located, allowed: readonly string[]): Map<string, Located> | undefined {
    if (this.isNull(at)) return new Map();
    if (!isMap(at.node)) {
      this.problem(at, 'must be a mapping');
      return undefined;
    }
    const out = new Map<string, Located>();
    for (const pair of at.node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const path = at.path === '' ? key : `${at.path}.${key}`;
      if (!allowed.includes(key)) {
        this.problem({ node: keyNode, path }, `unknown field (allowed: ${allowed.join(', ')})`);
        continue;
      }
      out.set(key, { node: this.#resolve(pair.value as Node | null), path });
    }
    return out;
  }

  /** Reads a sequence of nodes (empty when null); reports and returns [] when not a sequence. */
  seq(at: Located): Located[] {
    if (this.isNull(at)) return [];
    if (!isSeq(at.node)) {
      this.problem(at, 'must be a list');
      return [];
    }
    return at.node.items.map((item, i) => ({
      node: this.#resolve(item as Node | null),
      path: `${at.path}[${i}]`,
    }));
  }

  /** Reads a string scalar (numbers and booleans are not accepted as strings); undefined when absent or wrong. */
  str(at: Located | undefined): string | undefined {
    if (!at || this.isNull(at)) return undefined;
    if (!isScalar(at.node) || typeof at.node.value !== 'string') {
      this.problem(at, 'must be a string');
      return undefined;
    }
    return at.node.value;
  }

  /** Reads a scalar as text: strings as they are, numbers written plainly (`2024`, `-1`) as their source. */
  text(at: Located | undefined): string | undefined {
    if (!at || this.isNull(at)) return undefined;
    if (
      isScalar(at.node) &&
      (typeof at.node.value === 'string' || typeof at.node.value === 'number')
    ) {
      return at.node.source ?? String(at.node.value);
    }
    this.problem(at, 'must be a string');
    return undefined;
  }

  /** Reads a boolean scalar. */
  bool(at: Located | undefined): boolean | undefined {
    if (!at || this.isNull(at)) return undefined;
    if (!isScalar(at.node) || typeof at.node.value !== 'boolean') {
      this.problem(at, 'must be true or false');
      return undefined;
    }
    return at.node.value;
  }

  /** Reads a list of strings. */
  strings(at: Located | undefined): string[] | undefined {
    if (!at || this.isNull(at)) return undefined;
    const out: string[] = [];
    for (const item of this.seq(at)) {
      const s = this.str(item);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** Reads a string-to-string mapping (any keys). */
  stringMap(at: Located | undefined): Array<[string, string, Located]> {
    if (!at || this.isNull(at)) return [];
    if (!isMap(at.node)) {
      this.problem(at, 'must be a mapping');
      return [];
    }
    const out: Array<[string, string, Located]> = [];
    for (const pair of at.node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const loc = { node: this.#resolve(pair.value as Node | null), path: `${at.path}.${key}` };
      const v = this.text(loc);
      if (v !== undefined) out.push([key, v, loc]);
    }
    return out;
  }

  /** Runs a parse step, turning a thrown error into a problem at the node. */
  attempt<T>(at: Located, f: () => T): T | undefined {
    try {
      return f();
    } catch (error) {
      this.problem(at, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }
}
