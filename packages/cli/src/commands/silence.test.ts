import { fingerprint, formatTime, parseTime } from '@tidemark/core';
import { formatMatcher, silenceFromRecord } from '@tidemark/routing';
import { describe, expect, it } from 'vitest';
import { buildSilence, expireRecord, formatSilenceTable, silenceState } from './silence.js';
import { UsageError } from './topics.js';

const T0 = parseTime('2025-06-01T08:00:00Z');
const H = 3_600_000;

const input = {
  matchers: ['system="confluence"', 'check=~"parity\\..*"'],
  startsAt: T0,
  duration: '2h',
  createdBy: 'oncall@example.com',
  comment: 'connector migration',
};

describe('buildSilence', () => {
  it('builds a silence with a deterministic id from matchers, start and creator', () => {
    const s = buildSilence(input);
    // Sorted by name, as Alertmanager stores them.
    expect(s.matchers.map(formatMatcher)).toEqual([
      'check=~"parity\\\\..*"',
      'system="confluence"',
    ]);
    expect([s.startsAt, s.endsAt, s.createdBy, s.comment]).toEqual([
      T0,
      T0 + 2 * H,
      'oncall@example.com',
      'connector migration',
    ]);
    expect(s.id).toBe(
      fingerprint({
        matchers: ['check=~"parity\\\\..*"', 'system="confluence"'],
        startsAt: T0,
        createdBy: 'oncall@example.com',
      }),
    );
    // Matcher order does not change the id; a different start does.
    expect(buildSilence({ ...input, matchers: [...input.matchers].reverse() }).id).toBe(s.id);
    expect(buildSilence({ ...input, startsAt: T0 + 1 }).id).not.toBe(s.id);
    // Several matchers in one flag are the same silence.
    expect(buildSilence({ ...input, matchers: [input.matchers.join(',')] }).id).toBe(s.id);
  });

  it.each([
    ['a bad matcher', { matchers: ['system~"x"'] }, /^--matcher: /],
    ['a bad duration', { duration: 'soon' }, /^--duration: /],
    [
      'a silence that would match every alert',
      { matchers: ['system=~".*"'] },
      '--matcher: system=~".*" matches every alert; name at least one label value (e.g. system="confluence")',
    ],
    [
      'a matcher that accepts any value',
      { matchers: ['check=~".+"'] },
      '--matcher: check=~".+" matches every alert; name at least one label value (e.g. system="confluence")',
    ],
    [
      'only negative matchers',
      { matchers: ['check!="parity.orphan"', 'system!~"x|y"'] },
      /^--matcher: .* matches every alert/,
    ],
    [
      'a duration over the default maximum',
      { duration: '8d' },
      '--duration: 8d is longer than the maximum 7d (--max-duration)',
    ],
    [
      'a duration over a configured maximum',
      { duration: '3h', maxDurationMs: 7_200_000 },
      '--duration: 3h is longer than the maximum 2h (--max-duration)',
    ],
    ['an empty comment', { comment: '' }, 'comment must not be empty'],
    ['a zero duration', { duration: '0' }, 'endsAt must be after startsAt'],
  ])('refuses %s with a UsageError', (_case, over, message) => {
    const build = () => buildSilence({ ...input, ...over });
    expect(build).toThrow(UsageError);
    expect(build).toThrow(message);
  });
});

describe('expireRecord', () => {
  const s = buildSilence(input);
  it.each([
    ['an active silence ends now', T0 + H, { endsAt: formatTime(T0 + H) }],
    ['a pending silence is deleted', T0 - H, null],
    ['an ended silence is left alone', T0 + 3 * H, undefined],
  ])('%s', (_case, now, expected) => {
    const record = expireRecord(s, now);
    if (expected === undefined) expect(record).toBeUndefined();
    else if (expected === null) expect(record).toEqual({ key: s.id, value: null });
    else {
      expect(record?.key).toBe(s.id);
      const back = silenceFromRecord(s.id, record!.value!);
      expect(formatTime(back.endsAt)).toBe(expected.endsAt);
      expect(back.startsAt).toBe(s.startsAt);
    }
  });
});

describe('silence list formatting', () => {
  it('names the state of each silence and lines up the columns', () => {
    const a = buildSilence(input);
    const b = buildSilence({
      ...input,
      matchers: ['system="zendesk"'],
      startsAt: T0 + 5 * H,
      createdBy: 'x',
      comment: 'later',
    });
    expect([silenceState(a, T0 + H), silenceState(b, T0 + H), silenceState(a, T0 + 2 * H)]).toEqual(
      ['active', 'pending', 'expired'],
    );
    const lines = formatSilenceTable([b, a], T0 + H);
    expect(lines).toEqual([
      `ID${' '.repeat(32)}STATE    MATCHERS                                  STARTS                    ENDS                      CREATED BY          COMMENT`,
      `${a.id}  active   check=~"parity\\\\..*",system="confluence"  2025-06-01T08:00:00.000Z  2025-06-01T10:00:00.000Z  oncall@example.com  connector migration`,
      `${b.id}  pending  system="zendesk"                          2025-06-01T13:00:00.000Z  2025-06-01T15:00:00.000Z  x                   later`,
    ]);
  });
});
