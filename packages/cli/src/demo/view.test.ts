import { describe, expect, it } from 'vitest';
import { emptyCounters, histogramQuantile, renderFrame } from './view.js';

describe('demo view', () => {
  it('renders event-time progress, lag, and injected faults beside findings, sorted by check', () => {
    const start = Date.parse('2026-03-02T00:00:00Z');
    const c = emptyCounters(20_000, start, start + 18 * 3_600_000);
    c.produced = 5_000;
    c.eventTime = start + 4.5 * 3_600_000;
    c.phase = 'producing events';
    c.elapsedMs = 72_400;
    c.syncLag = { p50: 42, p99: 300, count: 1_700 };
    c.injected.set('parity.orphan', 3);
    c.injected.set('drift.volume', 1);
    c.findingsByCheck.set('parity.orphan', { firing: 1, resolved: 0 });
    c.findingsByCheck.set('contract.required', { firing: 3, resolved: 1 });
    c.dlq = 2;
    expect(renderFrame(c)).toEqual([
      'Tidemark demo — producing events (1m12s)',
      'event time [########......................] 04:30 UTC, 4h30 of 18h00 · 5,000 of 20,000 records',
      'sync lag   p50 42.0s  p99 5.0m  (1,700 applied)',
      'alerts     0 firing, 0 resolved',
      'tickets    0 opened, 0 updates, 0 resolved',
      'DLQ        2 dead letters',
      '',
      'check                          injected   firing resolved',
      'contract.required                     —        3        1',
      'drift.volume                          1        0        0',
      'parity.orphan                         3        1        0',
    ]);
  });

  it('shows record progress before the first event and when the run has no span', () => {
    const c = emptyCounters(200);
    c.produced = 50;
    expect(renderFrame(c).slice(0, 2)).toEqual([
      'Tidemark demo — starting (0s)',
      'event time [########......................] 25% · 50 of 200 records',
    ]);
    expect(renderFrame(c).at(-1)).toBe('  (nothing yet)');
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
