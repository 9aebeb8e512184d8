import { TidemarkError } from '@tidemark/core';
import { RE2JS } from 're2js';

/** Alertmanager's four match operators. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** A set of alert labels: name → value; a missing label reads as the empty string, as in Alertmanager. */
export type Labels = Readonly<Record<string, string>>;

/** One label matcher (`name op value`); regex matchers are fully anchored, like Alertmanager's. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Tests one label value (the empty string for a missing label). */
  readonly test: (value: string) => boolean;
}

/** A matcher string that Alertmanager's parser would reject; the message says why. */
export class MatcherSyntaxError extends TidemarkError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false });
  }
}

// Regex values made of characters that are never RE2 metacharacters are plain string compares
// (optionally an alternation of such literals): same answer as the anchored regex, without running it.
const LITERAL = /^[A-Za-z0-9_ :/,;@#%&'"<>=`~-]*$/;

function compileRegex(value: string): (s: string) => boolean {
  const parts = value.split('|');
  if (parts.every((p) => LITERAL.test(p))) {
    if (parts.length === 1) return (s) => s === value;
    const set = new Set(parts);
    return (s) => set.has(s);
  }
  let re: RE2JS;
  try {
    // RE2 (via re2js, a port of the engine behind Go's regexp) rather than JavaScript's RegExp: the same
    // syntax and linear-time semantics as Alertmanager, so a config means the same thing in both.
    re = RE2JS.compile(`^(?:${value})$`);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new MatcherSyntaxError(`invalid regular expression ${JSON.stringify(value)}: ${detail}`, {
      cause: error,
    });
  }
  return (s) => re.matches(s);
}

/** Builds a matcher; throws MatcherSyntaxError for an invalid regular expression. */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  let test: (s: string) => boolean;
  switch (type) {
    case '=':
      test = (s) => s === value;
      break;
    case '!=':
      test = (s) => s !== value;
      break;
    case '=~':
      test = compileRegex(value);
      break;
    case '!~': {
      const positive = compileRegex(value);
      test = (s) => !positive(s);
      break;
    }
  }
  return Object.freeze({ type, name, value, test });
}

/** Whether every matcher is fulfilled by the label set (a missing label reads as ""). */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) {
    if (!m.test(labels[m.name] ?? '')) return false;
  }
  return true;
}

function openMetricsEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Formats a matcher the way Alertmanager prints it: `name="value"` with OpenMetrics escaping. */
export function formatMatcher(m: Pick<Matcher, 'type' | 'name' | 'value'>): string {
  return `${m.name}${m.type}"${openMetricsEscape(m.value)}"`;
}

/** Formats a matcher list as `{a="b",c=~"d"}`, Alertmanager's route-key form. */
export function formatMatchers(ms: readonly Pick<Matcher, 'type' | 'name' | 'value'>[]): string {
  return `{${ms.map(formatMatcher).join(',')}}`;
}

const TYPE_ORDER: Record<MatchType, number> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

/** Sorts matchers by name, value, then operator — Alertmanager's order, which route keys depend on. */
export function sortMatchers<M extends Pick<Matcher, 'type' | 'name' | 'value'>>(
  ms: readonly M[],
): M[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...ms].sort(
    (a, b) =>
      cmp(a.name, b.name) || cmp(a.value, b.value) || TYPE_ORDER[a.type] - TYPE_ORDER[b.type],
  );
}

// `=~` before `=` so the tilde is not read as part of the value; values may span lines; whitespace is
// Go's `\s` (ASCII only).
// Written by hand (no JS library parses Alertmanager's matcher syntax); mirrors pkg/labels/parse.go.
const MATCHER_RE =
  /^[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*([\s\S]*?)[\t\n\f\r ]*$/;

/** Parses one matcher in Alertmanager's syntax: `name op value`, value optionally double-quoted with `\"`, `\n`, `\\` escapes. */
export function parseMatcher(input: string): Matcher {
  const ms = MATCHER_RE.exec(input);
  if (!ms) throw new MatcherSyntaxError(`bad matcher format: ${input}`);
  const [, name = '', op = '=', raw3 = ''] = ms;
  let raw = raw3;
  let expectTrailingQuote = false;
  if (raw.startsWith('"')) {
    raw = raw.slice(1);
    expectTrailingQuote = true;
  }
  let value = '';
  let escaped = false;
  const chars = Array.from(raw);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (escaped) {
      escaped = false;
      if (c === 'n') value += '\n';
      else if (c === '"' || c === '\\') value += c;
      else value += `\\${c}`; // a spurious escape is a literal backslash, as in Alertmanager
      continue;
    }
    if (c === '\\') {
      if (i < chars.length - 1) escaped = true;
      else value += '\\';
    } else if (c === '"') {
      if (!expectTrailingQuote || i < chars.length - 1) {
        throw new MatcherSyntaxError(`matcher value contains unescaped double quote: ${raw3}`);
      }
      expectTrailingQuote = false;
    } else {
      value += c;
    }
  }
  if (expectTrailingQuote) {
    throw new MatcherSyntaxError(`matcher value contains unescaped double quote: ${raw3}`);
  }
  return newMatcher(op as MatchType, name, value);
}

/**
 * Parses a comma-separated matcher list in Alertmanager's syntax (`{a="b", c=~"d|e"}`; braces and a trailing
 * comma optional; commas inside double quotes do not separate).
 */
export function parseMatchers(input: string): Matcher[] {
  let s = input.startsWith('{') ? input.slice(1) : input;
  if (s.endsWith('}')) s = s.slice(0, -1);
  const tokens: string[] = [];
  let token = '';
  let insideQuotes = false;
  let escaped = false;
  for (const c of s) {
    if (c === ',' && !insideQuotes) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (c === '"') {
      if (!escaped) insideQuotes = !insideQuotes;
      else escaped = false;
    } else if (c === '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += c;
  }
  const last = token.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, '');
  if (last !== '') tokens.push(last);
  return tokens.map(parseMatcher);
}
