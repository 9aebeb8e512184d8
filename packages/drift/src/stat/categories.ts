// Category counts with a hard cap on distinct categories: the first `capacity` distinct values are counted by name,
// later new ones go to "other". Memory stays bounded whatever a connector sends (a field flooding with unique values
// is itself visible as a growing "other" share). Merge sums counts; when the union exceeds the cap, the most frequent
// categories stay (ties by name) and the rest fold into "other" — equal to recording everything into one accumulation
// whenever the union fits the cap, and count-preserving always.
import { DriftStateError } from '../errors.js';
import { OTHER_CATEGORY } from '../compare/categories.js';

/** Category counts; a Map in memory, [name, count] pairs in JSON (no prototype keys from data). */
export interface CategoryCounts {
  capacity: number;
  total: number;
  other: number;
  counts: Map<string, number>;
}

/** Default cap on distinct categories tracked by name. */
export const DEFAULT_CATEGORY_CAPACITY = 64;
/** Category recorded for a missing (null/absent) value. */
export const MISSING_CATEGORY = '__missing__';
/** Longest category name kept; longer values are cut (a long value is content, not a category). */
export const MAX_CATEGORY_LENGTH = 128;

/** Creates empty category counts. */
export function createCategoryCounts(capacity: number = DEFAULT_CATEGORY_CAPACITY): CategoryCounts {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000) {
    throw new RangeError(`category capacity must be an integer from 1 to 10000, got ${capacity}`);
  }
  return { capacity, total: 0, other: 0, counts: new Map() };
}

/** Records one category (adding `count` occurrences); mutates and returns the counts. */
export function recordCategory(c: CategoryCounts, category: string, count = 1): CategoryCounts {
  c.total += count;
  const name =
    category.length > MAX_CATEGORY_LENGTH ? category.slice(0, MAX_CATEGORY_LENGTH) : category;
  if (name === OTHER_CATEGORY) {
    c.other += count;
    return c;
  }
  const current = c.counts.get(name);
  if (current !== undefined) c.counts.set(name, current + count);
  else if (c.counts.size < c.capacity) c.counts.set(name, count);
  else c.other += count;
  return c;
}

/** Merges two category counts into new counts; the inputs are not changed. */
export function mergeCategoryCounts(a: CategoryCounts, b: CategoryCounts): CategoryCounts {
  const capacity = Math.min(a.capacity, b.capacity);
  const sums = new Map(a.counts);
  for (const [k, v] of b.counts) sums.set(k, (sums.get(k) ?? 0) + v);
  let other = a.other + b.other;
  let entries = [...sums];
  if (entries.length > capacity) {
    entries.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    for (const [, v] of entries.slice(capacity)) other += v;
    entries = entries.slice(0, capacity);
  }
  return { capacity, total: a.total + b.total, other, counts: new Map(entries) };
}

/** The counts as a plain record, "other" under OTHER_CATEGORY when non-zero (input of compareCategories). */
export function categoryTable(c: CategoryCounts): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [k, v] of c.counts) out[k] = v;
  if (c.other > 0) out[OTHER_CATEGORY] = c.other;
  return out;
}

/** JSON form: counts as [name, count] pairs sorted by name. */
export interface CategoryCountsJSON {
  capacity: number;
  total: number;
  other: number;
  counts: Array<[string, number]>;
}

/** Serialises category counts to plain data. */
export function categoryCountsToJSON(c: CategoryCounts): CategoryCountsJSON {
  return {
    capacity: c.capacity,
    total: c.total,
    other: c.other,
    counts: [...c.counts].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)),
  };
}

/** Restores category counts from JSON, checking the shape (throws DriftStateError). */
export function categoryCountsFromJSON(value: unknown): CategoryCounts {
  const v = value as Partial<CategoryCountsJSON> | null;
  const ok =
    v !== null &&
    typeof v === 'object' &&
    Number.isInteger(v.capacity) &&
    Number.isInteger(v.total) &&
    Number.isInteger(v.other) &&
    Array.isArray(v.counts) &&
    v.counts.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]));
  if (!ok) throw new DriftStateError('not serialized category counts', {});
  return { capacity: v.capacity!, total: v.total!, other: v.other!, counts: new Map(v.counts) };
}
