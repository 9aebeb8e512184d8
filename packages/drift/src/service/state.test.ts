import { describe, expect, it } from 'vitest';
import { DriftStateError } from '../errors.js';
import { DriftServiceState } from './state.js';

const series = JSON.stringify(['size', 'wiki', null]);

describe('DriftServiceState', () => {
  it.each([
    ['a key it does not know', 'x', '{}', 'unknown drift changelog key "x"'],
    ['a key without a series', 'w|size', '{}', 'unknown drift changelog key "w|size"'],
    ['a value that is not JSON', `p|${series}`, '{', `changelog entry p|${series} is not JSON`],
    [
      'a head without a series id',
      `d|${series}`,
      '{"id":1}',
      `changelog entry d|${series} is not a decider series head`,
    ],
    [
      'a volume count that is not a number',
      `v|${series}|0`,
      '"7"',
      `changelog entry v|${series}|0 is not a count`,
    ],
    [
      'a window that is not an accumulation',
      `w|${series}|0`,
      '{"kind":"x","count":1}',
      'unknown accumulation kind "x"',
    ],
  ])('refuses %s while restoring (DriftStateError)', (_what, key, value, message) => {
    const state = new DriftServiceState(0);
    let caught: unknown;
    try {
      state.restore(key, Buffer.from(value));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DriftStateError);
    expect((caught as Error).message).toBe(message);
  });

  it('deletes window entries whose series head is gone, on the first drain after restore', () => {
    const state = new DriftServiceState(0);
    state.restore(`w|${series}|0`, Buffer.from('{"kind":"volume","count":3}'));
    state.restore(`v|${series}|0`, Buffer.from('3'));
    expect(state.drainChanges().map((c) => [c.key, c.value === null])).toEqual([
      ['meta', false],
      [`w|${series}|0`, true],
      [`v|${series}|0`, true],
    ]);
    expect(state.size()).toBe(1);
  });

  it('writes nothing after a restore until something changes', () => {
    const state = new DriftServiceState(0);
    const meta = '{"watermark":5,"lateDropped":0,"latePartials":0,"droppedContributors":0}';
    state.restore('meta', Buffer.from(meta));
    state.restore(
      `d|${series}`,
      Buffer.from(
        JSON.stringify({
          id: { feature: 'size', system: 'wiki' },
          kind: 'volume',
          contributors: [[0, 10]],
          since: [],
          history: [],
          quarantine: [],
          lastDecided: 0,
          firing: false,
        }),
      ),
    );
    state.restore(`v|${series}|0`, Buffer.from('3'));
    expect(state.drainChanges()).toEqual([]);
    expect(state.size()).toBe(3);
    expect(state.stage.watermark).toBe(5);
    expect([...state.decider.series.get(series)!.volume]).toEqual([[0, 3]]);
  });
});
