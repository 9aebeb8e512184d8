/** An inclusive integer range (`begin:end`, or one value). */
export interface InclusiveRange {
  readonly begin: number;
  readonly end: number;
}

/** A time-of-day range in minutes since midnight: start inclusive, end exclusive. */
export interface TimeRange {
  readonly startMinute: number;
  readonly endMinute: number;
}

/**
 * One Alertmanager time interval: every listed field must contain the instant (absent = any). Weekdays are
 * 0 = Sunday … 6 = Saturday; negative days of month count from the month's end.
 */
export interface TimeInterval {
  readonly times?: readonly TimeRange[];
  readonly weekdays?: readonly InclusiveRange[];
  readonly daysOfMonth?: readonly InclusiveRange[];
  readonly months?: readonly InclusiveRange[];
  readonly years?: readonly InclusiveRange[];
  /** IANA time zone name; UTC when absent. */
  readonly location?: string;
}

const WEEKDAYS: Record<string, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};
const MONTHS: Record<string, number> = {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  may: 5,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
};

function int(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`${JSON.stringify(s)} is not an integer`);
  return Number(s);
}

// Mirrors timeinterval.stringableRangeFromString: lower-cased, `a:b` or a single member.
function rangeOf(input: string, member: (s: string) => number): InclusiveRange {
  const s = input.toLowerCase();
  if (s.includes(':')) {
    const parts = s.split(':');
    if (parts.length !== 2) throw new Error(`couldn't parse range ${s}, invalid format`);
    return { begin: member(parts[0] as string), end: member(parts[1] as string) };
  }
  const v = member(s);
  return { begin: v, end: v };
}

/** Parses a weekday range such as `monday:friday` or `saturday`; throws with Alertmanager's message when invalid. */
export function parseWeekdayRange(s: string): InclusiveRange {
  const r = rangeOf(s, (m) => {
    const v = WEEKDAYS[m];
    if (v === undefined) throw new Error(`${m} is not a valid weekday`);
    return v;
  });
  if (r.begin > r.end) throw new Error('start day cannot be before end day');
  return r;
}

/** Parses a day-of-month range such as `1:7` or `-3:-1`; throws when out of range or always empty. */
export function parseDayOfMonthRange(s: string): InclusiveRange {
  const r = rangeOf(s, int);
  for (const v of [r.begin, r.end]) {
    if (v === 0 || v < -31 || v > 31)
      throw new Error(`${v} is not a valid day of the month: out of range`);
  }
  if (r.begin < 0 && r.end > 0)
    throw new Error('end day must be negative if start day is negative');
  const b = r.begin < 0 ? 28 + r.begin : r.begin;
  const e = r.end < 0 ? 28 + r.end : r.end;
  if (b > e) throw new Error(`end day ${r.end} is always before start day ${r.begin}`);
  return r;
}

/** Parses a month range such as `january:march` or `12`. */
export function parseMonthRange(s: string): InclusiveRange {
  const r = rangeOf(s, (m) => {
    const named = MONTHS[m];
    if (named !== undefined) return named;
    if (!/^[+-]?\d+$/.test(m)) throw new Error(`${m} is not a valid month`);
    return Number(m);
  });
  if (r.begin < 1 || r.end > 12) throw new Error(`${s} is not a valid month: out of range`);
  if (r.begin > r.end) throw new Error(`end month ${r.end} is before start month ${r.begin}`);
  return r;
}

/** Parses a year range such as `2024:2026`. */
export function parseYearRange(s: string): InclusiveRange {
  const r = rangeOf(s, int);
  if (r.begin > r.end) throw new Error(`end year ${r.end} is before start year ${r.begin}`);
  return r;
}

const CLOCK = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

/** Parses `start_time`/`end_time` (`HH:MM`, `24:00` allowed as an end) into a minute range. */
export function parseTimeRange(start: string, end: string): TimeRange {
  const minutes = (s: string): number => {
    if (!CLOCK.test(s)) throw new Error(`couldn't parse timestamp ${s}, invalid format`);
    const [h, m] = s.split(':');
    return Number(h) * 60 + Number(m);
  };
  const startMinute = minutes(start);
  const endMinute = minutes(end);
  if (startMinute >= endMinute)
    throw new Error('start time cannot be equal or greater than end time');
  return { startMinute, endMinute };
}

/** Checks that an IANA time zone name is known to this runtime's Intl; throws when not. */
export function checkLocation(name: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(name)}`);
  }
}

interface Civil {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minuteOfDay: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_SHORT: Record<string, number> = {
  Sun: 0,
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
};

// Civil (wall-clock) fields of an instant in a zone; Intl carries the tz database, so no library is needed.
function civil(ms: number, zone: string | undefined): Civil {
  if (zone === undefined || zone === 'UTC') {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      weekday: d.getUTCDay(),
      minuteOfDay: d.getUTCHours() * 60 + d.getUTCMinutes(),
    };
  }
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(ms)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAY_SHORT[parts.weekday ?? ''] ?? 0,
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const clamp = (n: number, min: number, max: number): number => Math.min(Math.max(n, min), max);

/** Whether the instant `now` (epoch ms) lies inside the interval, evaluated in its location. */
export function intervalContains(ti: TimeInterval, now: number): boolean {
  const t = civil(now, ti.location);
  if (
    ti.times &&
    !ti.times.some((r) => t.minuteOfDay >= r.startMinute && t.minuteOfDay < r.endMinute)
  ) {
    return false;
  }
  if (ti.daysOfMonth) {
    const dim = daysInMonth(t.year, t.month);
    const inside = ti.daysOfMonth.some((r) => {
      let begin = r.begin < 0 ? dim + r.begin + 1 : r.begin;
      let end = r.end < 0 ? dim + r.end + 1 : r.end;
      if (begin > dim) return false;
      begin = clamp(begin, -dim, dim);
      end = clamp(end, -dim, dim);
      return t.day >= begin && t.day <= end;
    });
    if (!inside) return false;
  }
  if (ti.months && !ti.months.some((r) => t.month >= r.begin && t.month <= r.end)) return false;
  if (ti.weekdays && !ti.weekdays.some((r) => t.weekday >= r.begin && t.weekday <= r.end))
    return false;
  if (ti.years && !ti.years.some((r) => t.year >= r.begin && t.year <= r.end)) return false;
  return true;
}

/** Whether any of the named intervals contains `now`; a named interval is a list of alternatives. */
export function anyIntervalContains(
  names: readonly string[],
  intervals: ReadonlyMap<string, readonly TimeInterval[]>,
  now: number,
): boolean {
  return names.some((name) => (intervals.get(name) ?? []).some((ti) => intervalContains(ti, now)));
}
