// Seeded randomness for the simulator.
//
// Written by hand rather than taken from a library (seedrandom, pure-rand) on purpose: the simulator promises
// byte-identical output for a seed, run after run and release after release, so the exact algorithm and the
// exact integer-to-float conversion must never change under a dependency upgrade. sfc32 (Chris Doty-Humphrey's
// Small Fast Chaotic generator, from PractRand) is twenty lines, passes PractRand and BigCrush, has 128 bits
// of state (mulberry32's 32 bits would repeat within a large simulation), and needs only 32-bit integer
// operations, which JavaScript does exactly. Seeds are spread over the state with splitmix32.

/** A seeded stream of pseudo-random numbers. */
export interface Rng {
  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** A 32-bit unsigned integer. */
  nextUint32(): number;
}

/** Finalizer of SplitMix32/MurmurHash3: a bijective 32-bit mix with full avalanche. */
export function mix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Hashes a list of 32-bit integers into one 32-bit unsigned integer (order matters). */
export function hash32(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) h = mix32(h ^ mix32((v | 0) + 0x7f4a7c15));
  return h;
}

/** Hashes a string into a 32-bit unsigned integer (FNV-1a, then mixed). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return mix32(h);
}

/** A float in [0, 1) derived from a hash of the given integers, for per-document, order-free choices. */
export function unitHash(...values: readonly number[]): number {
  return hash32(...values) / 4294967296;
}

/** An sfc32 generator seeded from one or more 32-bit integers. */
export function createRng(...seed: readonly number[]): Rng {
  // splitmix32 expands the seed into four state words; a zero state is impossible because the counter word
  // starts at 1 and sfc32 never returns to an all-zero state.
  let s = hash32(...seed);
  const split = (): number => {
    s = (s + 0x9e3779b9) | 0;
    return mix32(s);
  };
  let a = split();
  let b = split();
  let c = split();
  let d = 1;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs of a freshly seeded sfc32 are weakly mixed; PractRand's reference discards 12.
  for (let i = 0; i < 12; i++) nextUint32();
  return { nextUint32, next: () => nextUint32() / 4294967296 };
}

/** An integer in [min, max] (inclusive). */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.next() * (max - min + 1));
}

/** A standard normal sample (Box–Muller; one of the pair is dropped to keep the stream stateless). */
export function normal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) would be -Infinity
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A log-normal sample with the given median and log-space standard deviation. */
export function logNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/** An exponential sample with the given mean (waiting time of a Poisson process). */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.next());
}

/** Picks one value by weight; `u` is a float in [0, 1). */
export function pickWeighted<T>(choices: ReadonlyArray<readonly [T, number]>, u: number): T {
  let total = 0;
  for (const [, w] of choices) total += w;
  let x = u * total;
  for (const [value, w] of choices) {
    if (x < w) return value;
    x -= w;
  }
  const last = choices[choices.length - 1];
  if (!last) throw new RangeError('pickWeighted: no choices');
  return last[0];
}
