import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { boolean, duration, envSchema, integer, oneOf, text } from './env-schema.js';

const schema = envSchema(
  {
    PORT: integer(1, 10),
    WAIT: duration({ atLeast: '1s', atMost: '1m' }),
    MODE: oneOf(['fast', 'slow']),
    LEVEL: oneOf(['a', 'b', 'c']),
    ON: boolean(),
    CODE: text(Type.String({ format: 'even-length', errorMessage: '{value} has odd length' })),
    TOKEN: text(Type.String({ minLength: 8, errorMessage: 'must be at least 8 characters' })),
    PIN: text(Type.String({ pattern: '^[0-9]+$', errorMessage: '{value} is not digits' })),
  },
  { formats: { 'even-length': (v) => v.length % 2 === 0 }, secret: new Set(['TOKEN', 'PIN']) },
);

describe('envSchema', () => {
  it('decodes the variables that are set, leaving the others out', () => {
    expect(
      schema.parse({ PORT: '7', WAIT: '1m', MODE: 'slow', ON: 'yes', CODE: 'ab', OTHER: 'x' }),
    ).toEqual({ ok: true, value: { PORT: 7, WAIT: 60_000, MODE: 'slow', ON: true, CODE: 'ab' } });
    expect(schema.names).toEqual(['PORT', 'WAIT', 'MODE', 'LEVEL', 'ON', 'CODE', 'TOKEN', 'PIN']);
  });

  it.each([
    [{ PORT: '11' }, 'PORT="11": must be an integer from 1 to 10'],
    [{ PORT: '0x5' }, 'PORT="0x5": must be an integer from 1 to 10'],
    [{ WAIT: '500ms' }, 'WAIT="500ms": must be at least 1s'],
    [{ WAIT: '2m' }, 'WAIT="2m": must be at most 1m'],
    [{ WAIT: '5' }, 'WAIT="5": not a duration: "5" (use e.g. "30s", "15m", "4h", "7d", "1h30m")'],
    [{ MODE: 'medium' }, 'MODE="medium": must be fast or slow'],
    [{ LEVEL: 'd' }, 'LEVEL="d": must be one of a, b, c'],
    [{ ON: 'on' }, 'ON="on": must be true or false'],
    [{ CODE: 'abc' }, 'CODE="abc": "abc" has odd length'],
    [{ TOKEN: 'hunter2' }, 'TOKEN: must be at least 8 characters'],
    [{ PIN: 'hunter2' }, 'PIN: the value is not digits'],
  ])('%j → %s', (raw, problem) => {
    expect(schema.parse(raw)).toEqual({ ok: false, problems: [problem] });
  });

  it('lists every problem, decoding and schema ones alike, in declaration order', () => {
    expect(schema.parse({ TOKEN: 'x', ON: '2', WAIT: 'soon', PORT: '99' })).toEqual({
      ok: false,
      problems: [
        'PORT="99": must be an integer from 1 to 10',
        'WAIT="soon": not a duration: "soon" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
        'ON="2": must be true or false',
        'TOKEN: must be at least 8 characters',
      ],
    });
  });
});
