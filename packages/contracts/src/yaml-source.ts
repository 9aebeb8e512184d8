import {
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
import type { LintProblem } from './problems.js';

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
    const { line, col } = this.lines.linePos(offset);
    // linePos reports line 0 before the first newline is known; the first line is line 1.
    return { file: this.file, line: Math.max(line, 1), column: Math.max(col, 1), message };
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

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}
