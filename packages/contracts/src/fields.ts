/** What a field path finds in an event's `data`: missing, null, empty ('' or [] or {}), or a value. */
export type FieldValue =
  | { kind: 'missing' }
  | { kind: 'null' }
  | { kind: 'empty'; value: unknown }
  | { kind: 'present'; value: unknown };

const MISSING: FieldValue = Object.freeze({ kind: 'missing' });
const NULL: FieldValue = Object.freeze({ kind: 'null' });

/** Splits a field path once, so hot paths can reuse the segments. */
export function fieldSegments(path: string): readonly string[] {
  return Object.freeze(path.split('.'));
}

/**
 * Reads a field path (`classification`, `attributes.region`) from an event's `data`, telling missing from null
 * from empty — the contract checker reports them differently and null rates count missing and null alike.
 */
export function readField(data: unknown, path: string | readonly string[]): FieldValue {
  const segments = typeof path === 'string' ? path.split('.') : path;
  let node: unknown = data;
  for (const segment of segments) {
    if (node === null) return MISSING;
    if (typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, segment))
      return MISSING;
    node = (node as Record<string, unknown>)[segment];
  }
  if (node === undefined) return MISSING;
  if (node === null) return NULL;
  if (node === '' || (Array.isArray(node) && node.length === 0))
    return { kind: 'empty', value: node };
  if (typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length === 0) {
    return { kind: 'empty', value: node };
  }
  return { kind: 'present', value: node };
}
