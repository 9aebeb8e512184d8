// The `time_intervals` section of the routing config, read into named TimeIntervals (Alertmanager's format).
import type { Located, YamlReader } from '@tidemark/contracts';
import {
  checkLocation,
  parseDayOfMonthRange,
  parseMonthRange,
  parseTimeRange,
  parseWeekdayRange,
  parseYearRange,
} from './timeinterval.js';
import type { InclusiveRange, TimeInterval, TimeRange } from './timeinterval.js';

function readTimeInterval(r: YamlReader, at: Located): TimeInterval {
  const f =
    r.map(at, ['times', 'weekdays', 'days_of_month', 'months', 'years', 'location']) ?? new Map();
  const ranges = (
    key: string,
    parse: (s: string) => InclusiveRange,
  ): InclusiveRange[] | undefined => {
    const a = f.get(key);
    if (!a || r.isNull(a)) return undefined;
    const out: InclusiveRange[] = [];
    for (const item of r.seq(a)) {
      const s = r.text(item);
      const v = s === undefined ? undefined : r.attempt(item, () => parse(s));
      if (v) out.push(v);
    }
    return out;
  };
  const ti: {
    -readonly [K in keyof TimeInterval]: TimeInterval[K];
  } = {};
  const timesAt = f.get('times');
  if (timesAt && !r.isNull(timesAt)) {
    const times: TimeRange[] = [];
    for (const item of r.seq(timesAt)) {
      const tf = r.map(item, ['start_time', 'end_time']);
      if (!tf) continue;
      const start = r.str(tf.get('start_time'));
      const end = r.str(tf.get('end_time'));
      if (start === undefined || end === undefined) {
        r.problem(item, 'both start and end times must be provided');
        continue;
      }
      const t = r.attempt(item, () => parseTimeRange(start, end));
      if (t) times.push(t);
    }
    ti.times = times;
  }
  const weekdays = ranges('weekdays', parseWeekdayRange);
  if (weekdays) ti.weekdays = weekdays;
  const days = ranges('days_of_month', parseDayOfMonthRange);
  if (days) ti.daysOfMonth = days;
  const months = ranges('months', parseMonthRange);
  if (months) ti.months = months;
  const years = ranges('years', parseYearRange);
  if (years) ti.years = years;
  const locAt = f.get('location');
  const location = r.str(locAt);
  if (
    location !== undefined &&
    locAt &&
    r.attempt(locAt, () => checkLocation(location)) !== undefined
  ) {
    ti.location = location;
  }
  if (location === 'Local')
    r.problem(locAt as Located, 'location "Local" depends on the host; name a zone');
  return Object.freeze(ti);
}

/** Reads every `time_intervals` list into `out` by name; problems are reported on the reader. */
export function readTimeIntervals(
  r: YamlReader,
  ats: Array<Located | undefined>,
  out: Map<string, readonly TimeInterval[]>,
): void {
  for (const at of ats) {
    for (const item of r.seq(at ?? { node: null, path: '' })) {
      const f = r.map(item, ['name', 'time_intervals']);
      if (!f) continue;
      const name = r.str(f.get('name'));
      if (name === undefined || name === '') {
        r.problem(item, 'missing name in time interval');
        continue;
      }
      if (out.has(name)) r.problem(item, `time interval ${JSON.stringify(name)} is not unique`);
      const list = r
        .seq(f.get('time_intervals') ?? { node: null, path: '' })
        .map((ti) => readTimeInterval(r, ti));
      out.set(name, Object.freeze(list));
    }
  }
}
