import { describe, expect, it } from 'vitest';
import { TRACEPARENT_BYTES, TracePool, packTraceparent, unpackTraceparent } from './traces.js';

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

describe('TracePool', () => {
  it('stores, returns and reuses handles', () => {
    const pool = new TracePool();
    const handles = Array.from({ length: 200 }, (_, i) =>
      pool.add(`00-${i.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`),
    );
    expect(pool.get(handles[150] as number)).toBe(
      '00-00000000000000000000000000000096-00f067aa0ba902b7-01',
    );
    pool.release(handles[7] as number);
    expect(pool.add(VALID)).toBe(handles[7]);
    expect(pool.get(handles[7] as number)).toBe(VALID);
    expect(pool.add('garbage')).toBe(-1);
    expect(pool.get(-1)).toBeUndefined();
    expect(pool.add(VALID)).toBe(200);
  });
});
