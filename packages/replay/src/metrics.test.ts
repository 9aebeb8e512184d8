import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from './metrics.js';

describe('MemoryMetrics', () => {
  it('keeps histogram observations and reports nearest-rank quantiles over matching series', () => {
    const m = new MemoryMetrics([['lag', 'histogram']]);
    // 1..100 spread over two label sets, in shuffled order.
    for (let i = 100; i >= 1; i--) m.record('lag', { system: i % 2 ? 'a' : 'b' }, i);
    const all = m.histogram('lag');
    expect(all).toEqual({ count: 100, sum: 5050, p50: 50, p90: 90, p99: 99, max: 100 });
    const odd = m.histogram('lag', { system: 'a' });
    // Odd values 1..99: the 25th of 50 is 49, the 45th is 89, the 50th is 99.
    expect(odd).toEqual({ count: 50, sum: 2500, p50: 49, p90: 89, p99: 99, max: 99 });
  });

  it('reports an empty histogram with null quantiles', () => {
    expect(new MemoryMetrics([['lag', 'histogram']]).histogram('lag')).toEqual({
      count: 0,
      sum: 0,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    });
  });

  it('adds counters, sets gauges, and treats undeclared names as counters', () => {
    const m = new MemoryMetrics([
      ['c', 'counter'],
      ['g', 'gauge'],
    ]);
    m.record('c', { k: '1' }, 2);
    m.record('c', { k: '1' }, 3);
    m.record('c', { k: '2' }, 1);
    m.record('g', {}, 7);
    m.record('g', {}, 4);
    m.record('other', {}, 1);
    m.record('other', {}, 1);
    expect(m.total('c')).toBe(6);
    expect(m.total('c', { k: '1' })).toBe(5);
    expect(m.total('g')).toBe(4);
    expect(m.total('other')).toBe(2);
    expect(m.series().map((s) => [s.name, s.labels, s.value])).toEqual([
      ['c', { k: '1' }, 5],
      ['c', { k: '2' }, 1],
      ['g', {}, 4],
      ['other', {}, 2],
    ]);
  });

  it.each([
    ['keys in another order', { a: '1', b: '2' }, { b: '2', a: '1' }, 1],
    ['an undefined member', { a: '1' }, { a: '1', b: undefined }, 1],
    ['one label more', { a: '1' }, { a: '1', b: '2' }, 2],
    ['a separator inside a value', { a: '1|b', b: '' }, { a: '1', b: '|b' }, 2],
    ['a key and a value swapped', { a: 'b' }, { b: 'a' }, 2],
  ])('keeps one series per label set: %s', (_name, first, second, series) => {
    const m = new MemoryMetrics([['c', 'counter']]);
    m.record('c', first as Record<string, string>, 1);
    m.record('c', second as Record<string, string>, 1);
    expect(m.series()).toHaveLength(series);
    expect(m.total('c')).toBe(2);
  });
});
