import { ConfigError, TidemarkError, parseTime } from '@tidemark/core';
import { YamlReader } from '@tidemark/contracts';
import type { GlobalTable } from '@tidemark/core';
import { matchesAll, newMatcher, parseMatchers, sortMatchers } from './matcher.js';
import type { Labels, Matcher } from './matcher.js';

/** A silence: alerts matching every matcher are muted from startsAt (inclusive) to endsAt (exclusive). */
export interface Silence {
  readonly id: string;
  readonly matchers: readonly Matcher[];
  /** Epoch ms. */
  readonly startsAt: number;
  /** Epoch ms. */
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

/** A silence matcher as Alertmanager's API v2 writes it. */
export interface SilenceRecordMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/**
 * The JSON value of a silence on the compacted `dq.silences.v1` topic (key = id; a null value, the tombstone,
 * deletes it). Shaped like Alertmanager's API v2 silence so its tooling maps one to one.
 */
export interface SilenceRecord {
  id: string;
  matchers: SilenceRecordMatcher[];
  /** RFC 3339. */
  startsAt: string;
  /** RFC 3339. */
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** A `dq.silences.v1` value that is not a valid silence; never retriable. */
export class SilenceRecordError extends TidemarkError {
  readonly key: string;
  constructor(message: string, key: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false, context: { key } });
    this.key = key;
  }
}

/** Whether a silence mutes at `now`. */
export function silenceActive(s: Silence, now: number): boolean {
  return s.startsAt <= now && now < s.endsAt;
}

/** Converts a silence to its `dq.silences.v1` record value. */
export function silenceToRecord(s: Silence): SilenceRecord {
  return {
    id: s.id,
    matchers: sortMatchers(s.matchers).map((m) => ({
      name: m.name,
      value: m.value,
      isRegex: m.type === '=~' || m.type === '!~',
      isEqual: m.type === '=' || m.type === '=~',
    })),
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
  };
}

function checkSilence(s: Silence, where: string): string[] {
  const problems: string[] = [];
  if (s.id === '') problems.push(`${where}: id must not be empty`);
  if (s.matchers.length === 0) problems.push(`${where}: matchers must not be empty`);
  if (s.createdBy === '') problems.push(`${where}: createdBy must not be empty`);
  if (s.comment === '') problems.push(`${where}: comment must not be empty`);
  if (!(s.endsAt > s.startsAt)) problems.push(`${where}: endsAt must be after startsAt`);
  // Alertmanager refuses silences that would match every alert; a typo must not mute everything.
  if (s.matchers.length > 0 && s.matchers.every((m) => m.test(''))) {
    problems.push(
      `${where}: matchers match every alert (at least one must not match the empty string)`,
    );
  }
  return problems;
}

/** Parses a `dq.silences.v1` record value; throws SilenceRecordError naming the problem. */
export function silenceFromRecord(key: string, value: string | Buffer): Silence {
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString());
  } catch (error) {
    throw new SilenceRecordError(`silence ${key}: value is not JSON`, key, { cause: error });
  }
  const r = raw as Partial<SilenceRecord>;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.matchers)) {
    throw new SilenceRecordError(`silence ${key}: not a silence object`, key);
  }
  for (const f of ['id', 'startsAt', 'endsAt', 'createdBy', 'comment'] as const) {
    if (typeof r[f] !== 'string')
      throw new SilenceRecordError(`silence ${key}: ${f} must be a string`, key);
  }
  if (r.id !== key)
    throw new SilenceRecordError(
      `silence ${key}: id ${JSON.stringify(r.id)} differs from the key`,
      key,
    );
  let s: Silence;
  try {
    s = {
      id: r.id as string,
      matchers: r.matchers.map((m: SilenceRecordMatcher) => {
        if (typeof m?.name !== 'string' || typeof m.value !== 'string')
          throw new Error('matcher needs name and value');
        const type = m.isRegex
          ? m.isEqual === false
            ? '!~'
            : '=~'
          : m.isEqual === false
            ? '!='
            : '=';
        return newMatcher(type, m.name, m.value);
      }),
      startsAt: parseTime(r.startsAt as string),
      endsAt: parseTime(r.endsAt as string),
      createdBy: r.createdBy as string,
      comment: r.comment as string,
    };
  } catch (error) {
    throw new SilenceRecordError(
      `silence ${key}: ${error instanceof Error ? error.message : String(error)}`,
      key,
      {
        cause: error,
      },
    );
  }
  const problems = checkSilence(s, `silence ${key}`);
  if (problems.length > 0) throw new SilenceRecordError(problems.join('; '), key);
  return s;
}

/**
 * Parses `contracts/silences.yaml` (`silences: [{id, matchers, startsAt, endsAt, createdBy, comment}]`,
 * matchers in Alertmanager's string syntax); throws ConfigError listing every problem with file, line and column.
 */
export function parseSilences(text: string, file: string): Silence[] {
  const r = new YamlReader(text, file);
  if (r.problems.length > 0) throw new ConfigError(`invalid silences ${file}`, r.sortedProblems());
  const top = r.map(r.root, ['silences']);
  const out: Silence[] = [];
  const ids = new Set<string>();
  for (const item of r.seq(top?.get('silences') ?? { node: null, path: 'silences' })) {
    const f = r.map(item, ['id', 'matchers', 'startsAt', 'endsAt', 'createdBy', 'comment']);
    if (!f) continue;
    const matchers: Matcher[] = [];
    for (const m of r.seq(f.get('matchers') ?? { node: null, path: `${item.path}.matchers` })) {
      const s = r.str(m);
      if (s !== undefined) matchers.push(...(r.attempt(m, () => parseMatchers(s)) ?? []));
    }
    const time = (k: string): number => {
      const at = f.get(k);
      const s = r.str(at);
      if (s === undefined || !at) {
        r.problem(at ?? { node: item.node, path: `${item.path}.${k}` }, 'required');
        return Number.NaN;
      }
      return r.attempt(at, () => parseTime(s)) ?? Number.NaN;
    };
    const required = (k: string): string => {
      const v = r.str(f.get(k));
      if (v === undefined || v === '')
        r.problem(f.get(k) ?? { node: item.node, path: `${item.path}.${k}` }, 'required');
      return v ?? '';
    };
    const s: Silence = {
      id: required('id'),
      matchers,
      startsAt: time('startsAt'),
      endsAt: time('endsAt'),
      createdBy: required('createdBy'),
      comment: required('comment'),
    };
    if (ids.has(s.id)) r.problem(item, `duplicate silence id ${JSON.stringify(s.id)}`);
    ids.add(s.id);
    for (const p of checkSilence(s, 'silence')) {
      // Empty fields and unreadable times were reported above, at their own lines.
      if (/must not be empty$/.test(p) && !p.includes('matchers')) continue;
      if (
        p.endsWith('endsAt must be after startsAt') &&
        (Number.isNaN(s.startsAt) || Number.isNaN(s.endsAt))
      )
        continue;
      r.problem(item, p.replace(/^silence: /, ''));
    }
    out.push(Object.freeze(s));
  }
  if (r.problems.length > 0) throw new ConfigError(`invalid silences ${file}`, r.sortedProblems());
  return out;
}

/**
 * Every known silence, fed from `contracts/silences.yaml` and the compacted `dq.silences.v1` topic (every
 * instance reads all of it, so it is a GlobalTable rather than partition state).
 */
export class SilenceTable implements GlobalTable {
  readonly #silences = new Map<string, Silence>();
  /** Records that could not be read, kept so the host can report them (the table never throws on apply). */
  readonly rejected: SilenceRecordError[] = [];

  constructor(initial: readonly Silence[] = []) {
    for (const s of initial) this.#silences.set(s.id, s);
  }

  /** Adds or replaces a silence. */
  set(s: Silence): void {
    this.#silences.set(s.id, s);
  }

  /** Removes a silence (expired or deleted). */
  delete(id: string): void {
    this.#silences.delete(id);
  }

  get(id: string): Silence | undefined {
    return this.#silences.get(id);
  }

  /** All silences, active or not. */
  all(): Silence[] {
    return [...this.#silences.values()];
  }

  /** Applies one `dq.silences.v1` record (null value = tombstone); a bad value is recorded in `rejected`. */
  apply(key: string, value: Buffer | null): void {
    if (value === null) {
      this.#silences.delete(key);
      return;
    }
    try {
      this.#silences.set(key, silenceFromRecord(key, value));
    } catch (error) {
      if (!(error instanceof SilenceRecordError)) throw error;
      this.rejected.push(error);
    }
  }

  /** Ids of the silences muting these labels at `now`. */
  silencedBy(labels: Labels, now: number): string[] {
    const out: string[] = [];
    for (const s of this.#silences.values()) {
      if (silenceActive(s, now) && matchesAll(s.matchers, labels)) out.push(s.id);
    }
    return out;
  }

  /** Whether any silence mutes these labels at `now`. */
  isSilenced(labels: Labels, now: number): boolean {
    for (const s of this.#silences.values()) {
      if (silenceActive(s, now) && matchesAll(s.matchers, labels)) return true;
    }
    return false;
  }
}
