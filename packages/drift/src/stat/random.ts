// Deterministic randomness for pure code: a seeded generator passed in (tests, synthetic data) and a hash that turns
// an event id into a uniform priority, so sampling depends only on the events, never on arrival order or a clock.

/** A seeded uniform generator on [0, 1); each call advances its own state. */
export type Rng = () => number;

/** Creates a seeded generator (mulberry32: 32-bit state, full period, good enough for test data and sampling). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws a standard normal value from `rng` (Box–Muller). */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  let u = rng();
  while (u === 0) u = rng();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * Maps a string to a uniform number in [0, 1) with 53 bits (cyrb53 by bryc, public domain): fast, stable across
 * runs and platforms; not cryptographic, which sampling does not need. Written by hand because node:crypto's
 * sha256 costs ~1 µs per event on the hot path.
 */
export function hashUnit(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0) * 2097152 + ((h1 >>> 0) >>> 11)) / 9007199254740992;
}
