import { describe, expect, it } from 'vitest';
import { stalledPartitions } from './progress.js';
import type { PartitionProgress } from './progress.js';

const now = 1_000_000;
const topics = (entries: Array<[string, number, bigint]>) =>
  new Map(entries.map(([t, at, lag]) => [t, { at, lag }]));

describe('stalledPartitions', () => {
  it.each<{ case: string; p: PartitionProgress; stalled: boolean }>([
    {
      case: 'a batch in hand for longer than the timeout',
      p: { partition: 0, busySince: now - 61_000, topics: topics([]) },
      stalled: true,
    },
    {
      case: 'a batch in hand for less than the timeout',
      p: { partition: 0, busySince: now - 59_000, topics: topics([['a', now - 600_000, 10n]]) },
      stalled: false,
    },
    {
      case: 'records left behind the last commit, long ago',
      p: {
        partition: 0,
        topics: topics([
          ['a', now - 120_000, 0n],
          ['b', now - 61_000, 3n],
        ]),
      },
      stalled: true,
    },
    {
      case: 'records left behind a recent commit',
      p: { partition: 0, topics: topics([['a', now - 1_000, 5n]]) },
      stalled: false,
    },
    {
      case: 'idle for long with nothing to read',
      p: { partition: 0, topics: topics([['a', now - 3_600_000, 0n]]) },
      stalled: false,
    },
    { case: 'never fetched yet', p: { partition: 0, topics: topics([]) }, stalled: false },
  ])('$case', ({ p, stalled }) => {
    expect(stalledPartitions([p], now, 60_000)).toEqual(stalled ? [0] : []);
  });

  it('lists every stalled partition in order', () => {
    const busy = (partition: number) => ({ partition, busySince: 0, topics: topics([]) });
    expect(stalledPartitions([busy(3), busy(1)], now, 60_000)).toEqual([1, 3]);
  });
});
