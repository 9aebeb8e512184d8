import { describe, expect, it } from 'vitest';
import { formatDuration, formatTime, ManualClock, parseDuration, parseTime } from './time.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1y', 31_536_000_000],
    ['250ms', 250],
    ['1d2h3m4s5ms', 93_784_005],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '15', '1.5h', '30m1h', 'PT1H', '-5m', '1h 30m'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(
      `not a duration: ${JSON.stringify(text)} (use e.g. "30s", "15m", "4h", "7d", "1h30m")`,
    );
  });

  it('formats back to a compact duration', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(8 * 86_400_000 + 1000)).toBe('8d1s');
  });
});

describe('parseTime', () => {
  it('reads RFC 3339 with offsets and fractions', () => {
    expect(parseTime('2026-11-02T10:00:00Z')).toBe(Date.UTC(2026, 10, 2, 10));
    expect(parseTime('2026-11-02T12:00:00.500+02:00')).toBe(Date.UTC(2026, 10, 2, 10, 0, 0, 500));
    expect(formatTime(Date.UTC(2026, 10, 2, 10))).toBe('2026-11-02T10:00:00.000Z');
  });

  it.each(['2026-11-02', '2026-11-02T10:00:00', 'Mon, 02 Nov 2026 10:00:00 GMT'])(
    'rejects %j',
    (text) => {
      expect(() => parseTime(text)).toThrow(`not an RFC 3339 timestamp: ${JSON.stringify(text)}`);
    },
  );

  // parseTime remembers the last few values it parsed (every service of a replay parses the same event's times).
  it('gives every value its own time however values repeat and alternate, and never remembers a rejection', () => {
    const values = Array.from(
      { length: 20 },
      (_, i) => `2026-11-02T10:00:${String(i).padStart(2, '0')}Z`,
    );
    for (let round = 0; round < 3; round++) {
      for (const [i, v] of values.entries()) {
        expect(parseTime(v)).toBe(Date.UTC(2026, 10, 2, 10, 0, i));
        expect(parseTime(values[0]!)).toBe(Date.UTC(2026, 10, 2, 10));
        expect(() => parseTime('2026-11-02T10:00:00')).toThrow(RangeError);
      }
    }
  });
});

describe('ManualClock', () => {
  it('moves only when told', () => {
    const clock = new ManualClock(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(10);
    expect(clock.now()).toBe(10);
  });
});
