import { describe, expect, it } from 'vitest';
import {
  intervalContains,
  parseDayOfMonthRange,
  parseMonthRange,
  parseTimeRange,
  parseWeekdayRange,
} from './timeinterval.js';
import type { TimeInterval } from './timeinterval.js';

const at = (iso: string): number => Date.parse(iso);

describe('intervalContains', () => {
  const weekdayMornings: TimeInterval = {
    weekdays: [parseWeekdayRange('monday:friday')],
    times: [parseTimeRange('09:00', '12:00')],
  };
  it.each([
    ['weekday mornings, Monday 09:00 UTC', weekdayMornings, '2025-03-03T09:00:00Z', true],
    ['weekday mornings, end is exclusive', weekdayMornings, '2025-03-03T12:00:00Z', false],
    ['weekday mornings, Saturday', weekdayMornings, '2025-03-01T10:00:00Z', false],
    [
      'in Tokyo: 01:00 UTC is 10:00 JST',
      { ...weekdayMornings, location: 'Asia/Tokyo' },
      '2025-03-03T01:00:00Z',
      true,
    ],
    [
      'in Tokyo: Sunday 23:30 UTC is Monday 08:30 JST',
      { ...weekdayMornings, location: 'Asia/Tokyo' },
      '2025-03-02T23:30:00Z',
      false,
    ],
    [
      'New York DST: 13:30 UTC in July is 09:30 EDT',
      { ...weekdayMornings, location: 'America/New_York' },
      '2025-07-07T13:30:00Z',
      true,
    ],
    [
      'New York winter: 13:30 UTC in January is 08:30 EST',
      { ...weekdayMornings, location: 'America/New_York' },
      '2025-01-06T13:30:00Z',
      false,
    ],
    [
      'last day of February (non-leap)',
      { daysOfMonth: [parseDayOfMonthRange('-1')] },
      '2025-02-28T10:00:00Z',
      true,
    ],
    [
      'last day of February (leap)',
      { daysOfMonth: [parseDayOfMonthRange('-1')] },
      '2024-02-29T10:00:00Z',
      true,
    ],
    [
      'day 29 of a 28-day February is absent',
      { daysOfMonth: [parseDayOfMonthRange('29:31')] },
      '2025-02-28T10:00:00Z',
      false,
    ],
    [
      'last week of the month',
      { daysOfMonth: [parseDayOfMonthRange('-7:-1')] },
      '2025-03-25T00:00:00Z',
      true,
    ],
    [
      'months by name',
      { months: [parseMonthRange('december:december'), parseMonthRange('1')] },
      '2025-01-15T00:00:00Z',
      true,
    ],
    [
      'months by name, outside',
      { months: [parseMonthRange('december')] },
      '2025-01-15T00:00:00Z',
      false,
    ],
    ['years', { years: [{ begin: 2024, end: 2025 }] }, '2026-01-01T00:00:00Z', false],
    ['24:00 as end', { times: [parseTimeRange('22:00', '24:00')] }, '2025-03-03T23:59:00Z', true],
    ['empty interval is always', {}, '2025-03-03T23:59:00Z', true],
  ])('%s', (_name, ti, instant, expected) => {
    expect(intervalContains(ti, at(instant))).toBe(expected);
  });
});

describe('range parsing', () => {
  it.each([
    [() => parseWeekdayRange('friday:monday'), 'start day cannot be before end day'],
    [() => parseWeekdayRange('a:b:c'), "couldn't parse range a:b:c, invalid format"],
    [() => parseDayOfMonthRange('-1:5'), 'end day must be negative if start day is negative'],
    [() => parseDayOfMonthRange('32'), '32 is not a valid day of the month: out of range'],
    [() => parseDayOfMonthRange('20:10'), 'end day 10 is always before start day 20'],
    [() => parseMonthRange('13'), '13 is not a valid month: out of range'],
    [() => parseTimeRange('9:00', '10:00'), "couldn't parse timestamp 9:00, invalid format"],
    [() => parseTimeRange('24:00', '24:00'), 'start time cannot be equal or greater than end time'],
  ])('%#', (f, message) => {
    expect(f).toThrow(message);
  });

  it('reads names case-insensitively', () => {
    expect(parseWeekdayRange('Monday:FRIDAY')).toEqual({ begin: 1, end: 5 });
    expect(parseMonthRange('March:may')).toEqual({ begin: 3, end: 5 });
  });
});
