// Exact set difference of two id inventories of up to tens of millions of ids each, without a JS Set.
//
// Each side becomes one BigUint64Array of sort keys, sorted by the engine's native typed-array sort
// (~0.7 s for 10M keys here, far faster than any comparator or hand-written radix sort in JS):
//
//   key = [ top (64 - R) bits of a 64-bit id hash | R-bit back-reference (chunk * stride + position) ]
//
// plus one Uint32Array of 32-bit check hashes in chunk order. A merge walks both key arrays by hash prefix.
// Exactness: ids with equal prefixes on a side (duplicates or prefix collisions) are compared as strings
// through their back-references; a lone id on each side with equal prefixes is a match only if the 32-bit
// check hashes agree too, and distinct check hashes prove the strings differ. The one residual error is a
// source-only id and an index-only id that agree on all 64 - R + 32 hash bits while no other id shares the
// prefix: at most m * o / 2^(96 - R) for m missing and o orphan ids (2e-14 at 10M ids with 10k of each).
// Memory: 12 bytes per id and side, next to the ids themselves (retained chunk arrays, never copied).

/** Hashes one id: out[0] = low and out[1] = high word of the 64-bit sort hash, out[2] = the 32-bit check hash. */
export type IdHasher = (id: string, out: Uint32Array) => void;

/**
 * The default IdHasher: three multiply-xor lanes over the UTF-16 code units (the cyrb53 construction by
 * bryc, public domain, widened to 64 bits, plus an FNV-1a lane for the check). Written by hand because a
 * library call per id (crypto digests, xxhash-wasm) costs more than the whole comparison at this scale
 * (~1 µs vs ~60 ns), and strings need no UTF-8 encoding here: equal strings have equal code units.
 */
export const hashId: IdHasher = (id, out) => {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let h3 = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
    h3 = Math.imul(h3 ^ ch, 16777619);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  h3 ^= h3 >>> 15;
  h3 = Math.imul(h3, 0x2c1b3c6d);
  h3 ^= h3 >>> 12;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
};

// Word order of a BigUint64Array element seen through a Uint32Array view.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** The most ids a side may hold: back-references must fit in 31 bits of a key. */
export const MAX_INVENTORY_REFS = 2 ** 31;

/** One side's ids as the chunks they arrived in, with the sorted keys built on first use. */
export class IdInventory {
  /** Chunks in position order; the arrays are kept, not copied. */
  readonly chunks: ReadonlyArray<readonly string[]>;
  /** Ids held, duplicates included. */
  readonly length: number;
  readonly #stride: number;
  /** Bits of a back-reference in a key. */
  readonly refBits: number;
  readonly #hasher: IdHasher;
  #keys: BigUint64Array | undefined;
  #checks: Uint32Array | undefined;

  constructor(chunks: ReadonlyArray<readonly string[]>, hasher: IdHasher = hashId) {
    this.chunks = chunks;
    let length = 0;
    let stride = 1;
    for (const chunk of chunks) {
      length += chunk.length;
      if (chunk.length > stride) stride = chunk.length;
    }
    const refs = chunks.length * stride;
    if (refs > MAX_INVENTORY_REFS) {
      throw new RangeError(
        `inventory too large: ${chunks.length} chunks of up to ${stride} ids exceed ${MAX_INVENTORY_REFS} references`,
      );
    }
    this.length = length;
    this.#stride = stride;
    this.refBits = Math.max(1, Math.ceil(Math.log2(refs)));
    this.#hasher = hasher;
  }

  /** The id a back-reference points to. */
  id(ref: number): string {
    return (this.chunks[Math.floor(ref / this.#stride)] as readonly string[])[
      ref % this.#stride
    ] as string;
  }

  /** Bytes of the typed arrays built so far. */
  get byteLength(): number {
    return (this.#keys?.byteLength ?? 0) + (this.#checks?.byteLength ?? 0);
  }

  /** Sorted keys and check hashes (by back-reference); built once, on first call. */
  index(): { keys: Uint32Array; checks: Uint32Array } {
    if (this.#keys === undefined || this.#checks === undefined) this.#build();
    return {
      keys: new Uint32Array((this.#keys as BigUint64Array).buffer),
      checks: this.#checks as Uint32Array,
    };
  }

  #build(): void {
    const keys = new BigUint64Array(this.length);
    const words = new Uint32Array(keys.buffer);
    const checks = new Uint32Array(this.chunks.length * this.#stride);
    const out = new Uint32Array(3);
    const hasher = this.#hasher;
    const r = this.refBits;
    let k = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c] as readonly string[];
      const base = c * this.#stride;
      for (let i = 0; i < chunk.length; i++) {
        hasher(chunk[i] as string, out);
        const ref = base + i;
        words[2 * k + HI] = out[1] as number;
        // The hash's own top bits stay in place, so both sides' prefixes line up whatever their R.
        words[2 * k + LO] = (((out[0] as number) >>> r) << r) | ref;
        checks[ref] = out[2] as number;
        k++;
      }
    }
    keys.sort();
    this.#keys = keys;
    this.#checks = checks;
  }
}

/** The exact difference of a source and an index inventory, in hash order (stable across runs). */
export interface InventoryDiff {
  /** Ids in the source, not in the index. */
  missing: string[];
  /** Ids in the index, not in the source. */
  orphans: string[];
  /** Distinct ids in the source. */
  sourceCount: number;
  /** Distinct ids in the index. */
  indexCount: number;
  /** Hash-prefix groups that held different ids and were settled by comparing strings or check hashes. */
  collisions: number;
}

/** Compares two inventories exactly (see the header of this file for the method and its bound). */
export function diffInventories(source: IdInventory, index: IdInventory): InventoryDiff {
  const s = source.index();
  const x = index.index();
  const ks = s.keys;
  const ki = x.keys;
  const ns = source.length;
  const ni = index.length;
  // Compare on the prefix both sides have: the top 64 - max(R) bits.
  const shift = Math.max(source.refBits, index.refBits);
  const maskS = 2 ** source.refBits - 1;
  const maskI = 2 ** index.refBits - 1;
  const missing: string[] = [];
  const orphans: string[] = [];
  let sourceDup = 0;
  let indexDup = 0;
  let collisions = 0;
  let i = 0;
  let j = 0;
  while (i < ns || j < ni) {
    const sh = i < ns ? (ks[2 * i + HI] as number) : 0;
    const sl = i < ns ? (ks[2 * i + LO] as number) >>> shift : 0;
    const ih = j < ni ? (ki[2 * j + HI] as number) : 0;
    const il = j < ni ? (ki[2 * j + LO] as number) >>> shift : 0;
    const order =
      i >= ns
        ? 1
        : j >= ni
          ? -1
          : sh !== ih
            ? sh < ih
              ? -1
              : 1
            : sl !== il
              ? sl < il
                ? -1
                : 1
              : 0;
    let i2 = i;
    if (order <= 0) {
      i2 = i + 1;
      while (i2 < ns && ks[2 * i2 + HI] === sh && (ks[2 * i2 + LO] as number) >>> shift === sl)
        i2++;
    }
    let j2 = j;
    if (order >= 0) {
      j2 = j + 1;
      while (j2 < ni && ki[2 * j2 + HI] === ih && (ki[2 * j2 + LO] as number) >>> shift === il)
        j2++;
    }
    if (i2 - i === 1 && j2 - j === 1) {
      // The common case: one id on each side with this prefix.
      const refS = (ks[2 * i + LO] as number) & maskS;
      const refI = (ki[2 * j + LO] as number) & maskI;
      if (s.checks[refS] !== x.checks[refI]) {
        collisions++;
        missing.push(source.id(refS));
        orphans.push(index.id(refI));
      }
    } else if (i2 - i === 1 && j2 === j) {
      missing.push(source.id((ks[2 * i + LO] as number) & maskS));
    } else if (j2 - j === 1 && i2 === i) {
      orphans.push(index.id((ki[2 * j + LO] as number) & maskI));
    } else {
      // Duplicates or colliding prefixes: settle by the strings themselves.
      const inS = new Set<string>();
      for (let k = i; k < i2; k++) inS.add(source.id((ks[2 * k + LO] as number) & maskS));
      const inI = new Set<string>();
      for (let k = j; k < j2; k++) inI.add(index.id((ki[2 * k + LO] as number) & maskI));
      sourceDup += i2 - i - inS.size;
      indexDup += j2 - j - inI.size;
      if (new Set([...inS, ...inI]).size > 1) collisions++;
      for (const id of [...inS].sort()) if (!inI.has(id)) missing.push(id);
      for (const id of [...inI].sort()) if (!inS.has(id)) orphans.push(id);
    }
    i = i2;
    j = j2;
  }
  return {
    missing,
    orphans,
    sourceCount: ns - sourceDup,
    indexCount: ni - indexDup,
    collisions,
  };
}
