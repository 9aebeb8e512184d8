import { describe, expect, it } from 'vitest';
import { emptyCounters, histogramQuantile, renderFrame } from './view.js';

describe('demo view', () => {
  it('renders progress, lag and findings sorted by check', () => {
    const c = emptyCounters(200);
    c.produced = 50;
    c.phase = 'producing';
    c.elapsedMs = 12_400;
    c.syncLag = { p50: 42, p99: 300, count: 17 };
    c.findingsByCheck.set('parity.orphan', { firing: 1, resolved: 0 });
    c.findingsByCheck.set('contract.required', { firing: 3, resolved: 1 });
    c.dlq = 2;
    expect(renderFrame(c)).toEqual([
      'Tidemark demo — producing (12s)',
      'events in  [########......................] 50/200 (25%)',
      'sync lag   p50 42.0s  p99 5.0m  (17 applied)',
      'alerts     0 firing, 0 resolved',
      'tickets    0 opened, 0 updates, 0 resolved',
      'DLQ        2',
      'findings by check (firing / resolved):',
      '  contract.required                   3 / 1',
      '  parity.orphan                       1 / 0',
    ]);
  });

  it('estimates quantiles from cumulative buckets like histogram_quantile', () => {
    const buckets = [
      { le: 1, count: 10 },
      { le: 10, count: 90 },
      { le: 100, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(1 + (9 * 40) / 80, 9);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(10 + (90 * 9) / 10, 9);
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeNaN();
  });
});
