import { ConfigError, parseTime } from '@tidemark/core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMatchers } from './matcher.js';
import {
  SilenceRecordError,
  SilenceTable,
  parseSilences,
  silenceFromRecord,
  silenceToRecord,
} from './silence.js';
import type { Silence } from './silence.js';

const T0 = parseTime('2025-06-01T00:00:00Z');
const H = 3600_000;
const s1: Silence = {
  id: 's1',
  matchers: parseMatchers('system="wiki", check=~"freshness\\..*", connector!="c9", team!~"x|y"'),
  startsAt: T0,
  endsAt: T0 + 2 * H,
  createdBy: 'oncall',
  comment: 'migration',
};

describe('SilenceTable', () => {
  it.each([
    [T0 - 1, false],
    [T0, true],
    [T0 + 2 * H - 1, true],
    [T0 + 2 * H, false],
  ])('at %i silenced=%s', (now, expected) => {
    const table = new SilenceTable([s1]);
    expect(table.isSilenced({ system: 'wiki', check: 'freshness.sync-lag' }, now)).toBe(expected);
    expect(table.isSilenced({ system: 'crm', check: 'freshness.sync-lag' }, now)).toBe(false);
  });

  it('round-trips records through the compacted topic; a tombstone deletes; bad values are kept aside', () => {
    const table = new SilenceTable();
    const record = silenceToRecord(s1);
    expect(record).toEqual({
      id: 's1',
      matchers: [
        { name: 'check', value: 'freshness\\..*', isRegex: true, isEqual: true },
        { name: 'connector', value: 'c9', isRegex: false, isEqual: false },
        { name: 'system', value: 'wiki', isRegex: false, isEqual: true },
        { name: 'team', value: 'x|y', isRegex: true, isEqual: false },
      ],
      startsAt: '2025-06-01T00:00:00.000Z',
      endsAt: '2025-06-01T02:00:00.000Z',
      createdBy: 'oncall',
      comment: 'migration',
    });
    table.apply('s1', Buffer.from(JSON.stringify(record)));
    expect(silenceToRecord(table.get('s1') as Silence)).toEqual(record);
    expect(table.silencedBy({ system: 'wiki', check: 'freshness.x' }, T0)).toEqual(['s1']);
    table.apply('s1', null);
    expect(table.all()).toEqual([]);
    table.apply('s2', Buffer.from('{nope'));
    expect(table.rejected.map((e) => [e.constructor.name, e.message])).toEqual([
      ['SilenceRecordError', 'silence s2: value is not JSON'],
    ]);
  });

  it.each([
    [{ ...silenceToRecord(s1), id: 'other' }, 'silence s1: id "other" differs from the key'],
    [
      { ...silenceToRecord(s1), endsAt: '2025-05-01T00:00:00Z' },
      'silence s1: endsAt must be after startsAt',
    ],
    [
      {
        ...silenceToRecord(s1),
        matchers: [{ name: 'a', value: '.*', isRegex: true, isEqual: true }],
      },
      'silence s1: matchers match every alert (at least one must not match the empty string)',
    ],
    [
      { ...silenceToRecord(s1), startsAt: 'yesterday' },
      'silence s1: not an RFC 3339 timestamp: "yesterday"',
    ],
  ])('rejects record %#', (value, message) => {
    expect(() => silenceFromRecord('s1', JSON.stringify(value))).toThrow(SilenceRecordError);
    expect(() => silenceFromRecord('s1', JSON.stringify(value))).toThrow(message);
  });
});

describe('parseSilences', () => {
  it('reads contracts/silences.yaml', () => {
    const text = readFileSync(new URL('../../../contracts/silences.yaml', import.meta.url), 'utf8');
    expect(parseSilences(text, 'contracts/silences.yaml')).toEqual([]);
  });

  it('reads silences in matcher syntax', () => {
    const [s] = parseSilences(
      `silences:
  - id: s1
    matchers: [system="wiki", 'check=~"freshness\\..*"']
    startsAt: 2025-06-01T00:00:00Z
    endsAt: 2025-06-01T02:00:00Z
    createdBy: oncall
    comment: migration
`,
      'x.yaml',
    );
    expect(s && silenceToRecord(s)).toEqual(
      silenceToRecord({ ...s1, matchers: parseMatchers('check=~"freshness\\..*", system="wiki"') }),
    );
  });

  it('lists every problem with file and line', () => {
    let error: unknown;
    try {
      parseSilences(
        `silences:
  - id: a
    matchers: ['x=~".*"']
    startsAt: 2025-06-01T00:00:00Z
    endsAt: 2025-05-01T00:00:00Z
    createdBy: me
    comment: c
  - id: a
    matchers: [system=wiki]
    startsAt: soon
    endsAt: 2025-05-01T00:00:00Z
    comment: c
    color: red
`,
        'bad.yaml',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'bad.yaml:2:5: silences[0]: endsAt must be after startsAt',
      'bad.yaml:2:5: silences[0]: matchers match every alert (at least one must not match the empty string)',
      'bad.yaml:8:5: silences[1].createdBy: required',
      'bad.yaml:8:5: silences[1]: duplicate silence id "a"',
      'bad.yaml:10:15: silences[1].startsAt: not an RFC 3339 timestamp: "soon"',
      'bad.yaml:13:5: silences[1].color: unknown field (allowed: id, matchers, startsAt, endsAt, createdBy, comment)',
    ]);
  });
});
