import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';

/** A YAML node with the dotted path that led to it, for error messages. */
export interface Located {
  readonly node: Node | null;
  readonly path: string;
}

/**
 * Reads a YAML document field by field, collecting every problem as `file:line: path: message` rather than
 * stopping at the first, so one round of fixes is enough.
 */
export class YamlReader {
  readonly problems: string[] = [];
  readonly root: Located;
  readonly #file: string;
  readonly #lines = new LineCounter();
  readonly #doc: Document.Parsed;

  constructor(text: string, file: string) {
    this.#file = file;
    this.#doc = parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: true,
    });
    for (const e of [...this.#doc.errors, ...this.#doc.warnings]) {
      const line = this.#lines.linePos(e.pos[0]).line;
      this.problems.push(`${file}:${line}: ${e.message.split('\n')[0] ?? e.message}`);
    }
    this.root = { node: this.#resolve(this.#doc.contents as Node | null), path: '' };
  }

  #resolve(node: Node | null | undefined): Node | null {
    if (node && isAlias(node)) return (node.resolve(this.#doc) as Node | undefined) ?? null;
    return node ?? null;
  }

  /** 1-based line of a node (1 when unknown). */
  line(at: Located): number {
    const offset = at.node?.range?.[0];
    return offset === undefined ? 1 : this.#lines.linePos(offset).line;
  }

  /** Problems sorted by line (stable), the order a person fixes them in. */
  sortedProblems(): string[] {
    const lineOf = (p: string): number => Number(/^[^\n]*?:(\d+):/.exec(p)?.[1] ?? 0);
    return this.problems
      .map((p, i) => [p, i] as const)
      .sort((a, b) => lineOf(a[0]) - lineOf(b[0]) || a[1] - b[1])
      .map(([p]) => p);
  }

  /** Records a problem at a node. */
  problem(at: Located, message: string): void {
    const field = at.path === '' ? '' : `${at.path}: `;
    this.problems.push(`${this.#file}:${this.line(at)}: ${field}${message}`);
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
