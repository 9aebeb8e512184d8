/** A source of "now" in epoch milliseconds; checks receive `now` from a host that owns one of these. */
export interface Clock {
  now(): number;
}

/** The wall clock; only hosts (runtime, CLI) use it, never check logic. */
// The one sanctioned wall-clock read; hosts pass its value down as `now`.
// eslint-disable-next-line no-restricted-properties
export const systemClock: Clock = { now: () => Date.now() };

/** A clock moved by hand, for tests and for replay on event time. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock to `ms`. */
  set(ms: number): void {
    this.#now = ms;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

// RFC 3339 date-time with a mandatory offset; Date.parse alone accepts far looser forms.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

// The last few timestamps parsed. Every service that reads a record parses the same few times of its (shared)
// event — its `time`, `reviewedAt`, `sourceTime` — one service after the other; a hit costs a string comparison
// instead of a regular expression and Date.parse.
const RECENT_TIMES = 8;
const recentTimes: string[] = [];
const recentMs: number[] = [];
let recentNext = 0;

/** Parses an RFC 3339 timestamp to epoch milliseconds; throws RangeError naming the bad value. */
export function parseTime(value: string): number {
  for (let i = 0; i < recentTimes.length; i++) if (recentTimes[i] === value) return recentMs[i]!;
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`not an RFC 3339 timestamp: ${JSON.stringify(value)}`);
  recentTimes[recentNext] = value;
  recentMs[recentNext] = ms;
  recentNext = (recentNext + 1) % RECENT_TIMES;
  return ms;
}

/** Formats epoch milliseconds as an RFC 3339 UTC timestamp with millisecond precision. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
// Prometheus/Alertmanager duration syntax: units largest first, each at most once ("1h30m", "7d", "0").
// Written by hand because contracts share routing.yaml's Alertmanager syntax, which no JS library parses exactly.
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses a Prometheus-style duration ("30s", "15m", "1h30m", "7d", "0") to milliseconds. */
export function parseDuration(value: string): number {
  if (value === '0') return 0;
  const match = value === '' ? null : DURATION.exec(value);
  if (!match) {
    throw new RangeError(
      `not a duration: ${JSON.stringify(value)} (use e.g. "30s", "15m", "4h", "7d", "1h30m")`,
    );
  }
  let total = 0;
  DURATION_UNITS.forEach(([, unitMs], i) => {
    const n = match[i + 1];
    if (n !== undefined) total += Number(n) * unitMs;
  });
  return total;
}

/** Formats milliseconds as a compact Prometheus-style duration ("1h30m", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = ms < 0 ? '-' : '';
  rest = Math.abs(rest);
  for (const [unit, unitMs] of DURATION_UNITS) {
    if (unit === 'y' || unit === 'w') continue; // days read better than weeks in SLA messages
    const n = Math.floor(rest / unitMs);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * unitMs;
    }
  }
  return out;
}
