import { describe, expect, it } from 'vitest';
import { messageBytes, planBatches } from './produce-batches.js';
import type { Addressed } from './produce-batches.js';

const msg = (topic: string, valueBytes: number, key = 'k'): Addressed => ({
  topic,
  message: { key, value: 'x'.repeat(valueBytes), headers: { h: 'v' } },
});

describe('planBatches', () => {
  it('estimates a message from its key, value and headers, never below their bytes', () => {
    expect(messageBytes(msg('t', 1000).message)).toBeGreaterThanOrEqual(1000 + 1 + 2);
    expect(messageBytes({ key: null, value: Buffer.alloc(10) })).toBeGreaterThanOrEqual(10);
  });

  it.each([
    {
      case: 'everything fits in one batch',
      sizes: [100, 100, 100],
      max: 10_000,
      batches: [3],
      tooLarge: 0,
    },
    {
      case: 'splits in order when the limit is reached',
      sizes: [400, 400, 400, 400],
      max: 1300,
      batches: [2, 2],
      tooLarge: 0,
    },
    {
      case: 'puts aside what alone exceeds the limit',
      sizes: [100, 5000, 100],
      max: 1200,
      batches: [2],
      tooLarge: 1,
    },
    { case: 'nothing to send', sizes: [], max: 1200, batches: [], tooLarge: 0 },
  ])('$case', ({ sizes, max, batches, tooLarge }) => {
    const messages = sizes.map((n, i) => msg(`t${i % 2}`, n, `k${i}`));
    const plan = planBatches(messages, max);
    expect(plan.batches.map((b) => b.length)).toEqual(batches);
    expect(plan.tooLarge).toHaveLength(tooLarge);
    // Order is kept and nothing is lost or duplicated.
    expect([...plan.batches.flat(), ...plan.tooLarge].map((m) => m.message.key).sort()).toEqual(
      messages.map((m) => m.message.key).sort(),
    );
    expect(plan.batches.flat().map((m) => m.message.key)).toEqual(
      messages.filter((m) => !plan.tooLarge.includes(m)).map((m) => m.message.key),
    );
    for (const b of plan.batches)
      expect(b.reduce((n, m) => n + messageBytes(m.message), 0)).toBeLessThanOrEqual(max);
  });

  it('splits 5,000 small outputs into batches under a 1 MB limit', () => {
    const plan = planBatches(
      Array.from({ length: 5000 }, (_, i) => msg('alerts', 600, `k${i}`)),
      1_000_000,
    );
    expect(plan.batches.length).toBeGreaterThan(2);
    expect(plan.batches.flat()).toHaveLength(5000);
  });
});
