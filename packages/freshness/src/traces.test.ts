import { describe, expect, it } from 'vitest';
import { PendingPool } from './pending.js';
import { TRACEPARENT_BYTES, packTraceparent, unpackTraceparent } from './traces.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent packing', () => {
  it('round-trips a W3C traceparent through 26 bytes', () => {
    const bytes = new Uint8Array(TRACEPARENT_BYTES + 3);
    expect(packTraceparent(VALID, bytes, 3)).toBe(true);
    expect(unpackTraceparent(bytes, 3)).toBe(VALID);
  });

  it.each([
    ['uppercase hex', VALID.toUpperCase()],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['not a traceparent', 'hello'],
  ])('rejects %s', (_name, value) => {
    expect(packTraceparent(value, new Uint8Array(TRACEPARENT_BYTES), 0)).toBe(false);
  });
});

describe('PendingPool', () => {
  it('keeps clock and trace per handle, reusing released handles', () => {
    const pool = new PendingPool();
    const handles = Array.from({ length: 200 }, (_, i) => {
      const h = pool.allocate(2 * i, 1000 + i);
      pool.setTrace(h, `00-${i.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`);
      return h;
    });
    const h150 = handles[150] as number;
    expect([pool.revisionKey(h150), pool.since(h150), pool.trace(h150)]).toEqual([
      300,
      1150,
      '00-00000000000000000000000000000096-00f067aa0ba902b7-01',
    ]);
    pool.release(handles[7] as number);
    expect(pool.size).toBe(199);
    const reused = pool.allocate(1, 2);
    expect(reused).toBe(handles[7]);
    expect(pool.trace(reused)).toBeUndefined();
    pool.setTrace(reused, 'garbage');
    expect(pool.hasTrace(reused)).toBe(false);
    pool.setTrace(reused, VALID);
    expect(pool.trace(reused)).toBe(VALID);
    expect(pool.allocate(0, 0)).toBe(200);
  });
});
