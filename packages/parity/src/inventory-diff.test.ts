import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdInventory, diffInventories, hashId, type IdHasher } from './inventory-diff.js';

/** The obvious answer, with JS Sets: what diffInventories must match exactly. */
function oracle(source: string[][], index: string[][]) {
  const s = new Set(source.flat());
  const i = new Set(index.flat());
  return {
    missing: [...s].filter((id) => !i.has(id)).sort(),
    orphans: [...i].filter((id) => !s.has(id)).sort(),
    sourceCount: s.size,
    indexCount: i.size,
  };
}

function diff(source: string[][], index: string[][], hasher: IdHasher = hashId) {
  const d = diffInventories(new IdInventory(source, hasher), new IdInventory(index, hasher));
  return { ...d, missing: [...d.missing].sort(), orphans: [...d.orphans].sort() };
}

// Keeps 2 bits of the sort hash: nearly every id shares its prefix with others, so every path that settles
// collisions (by strings for groups, by check hash for lone pairs) is exercised.
const twoBitHash: IdHasher = (id, out) => {
  hashId(id, out);
  out[0] = 0;
  out[1] = (out[1] as number) & 3;
};
// No sort hash at all: one group holding every id.
const constantHash: IdHasher = (id, out) => {
  hashId(id, out);
  out[0] = 0;
  out[1] = 0;
};

describe('diffInventories', () => {
  it.each([
    { name: 'both empty', source: [], index: [] },
    { name: 'empty index', source: [['a', 'b'], ['c']], index: [] },
    { name: 'empty source', source: [], index: [['a'], ['b', 'c']] },
    {
      name: 'identical, different chunking and order',
      source: [
        ['a', 'b'],
        ['c', 'd'],
      ],
      index: [['d'], ['c', 'b', 'a']],
    },
    {
      name: 'duplicates within and across chunks',
      source: [
        ['a', 'a'],
        ['b', 'a'],
      ],
      index: [['b', 'c'], ['c']],
    },
    { name: 'empty chunks', source: [[], ['a'], []], index: [['b'], []] },
    { name: 'non-ASCII ids', source: [['Straße', 'ü/1', '😀']], index: [['Strasse', 'ü/1', '😀']] },
  ])('$name', ({ source, index }) => {
    for (const hasher of [hashId, twoBitHash, constantHash]) {
      expect(diff(source, index, hasher)).toMatchObject(oracle(source, index));
    }
  });

  it('counts settled collisions', () => {
    const d = diff([['a', 'b']], [['a', 'c']], constantHash);
    expect(d).toMatchObject({ missing: ['b'], orphans: ['c'], collisions: 1 });
    expect(diff([['a', 'b']], [['a', 'c']]).collisions).toBe(0);
    // A lone pair of different ids under one prefix: caught by the check-hash XORs, settled by a full re-read.
    expect(diff([['a'], ['k']], [['b'], ['k']], constantHash)).toMatchObject({
      missing: ['a'],
      orphans: ['b'],
      collisions: 1,
    });
    expect(diff([['a', 'k']], [['b', 'k']], twoBitHash)).toMatchObject({
      missing: ['a'],
      orphans: ['b'],
    });
  });

  it('trusts a lone pair only when the check hashes agree (the documented residual case)', () => {
    // With the prefix and the check hash both constant, a source-only and an index-only id look alike:
    // exactly the case whose probability the 96 - R hash bits bound.
    const blind: IdHasher = (_id, out) => {
      out[0] = 0;
      out[1] = 0;
      out[2] = 0;
    };
    expect(diff([['a']], [['b']], blind)).toMatchObject({ missing: [], orphans: [] });
    // A group of more than one id on a side is always settled by the strings themselves.
    expect(diff([['a', 'x']], [['b', 'x']], blind)).toMatchObject({
      missing: ['a'],
      orphans: ['b'],
    });
  });

  it('returns the result in hash order, the same whatever the chunking', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `doc-${i}`);
    const a = diffInventories(new IdInventory([ids]), new IdInventory([]));
    const b = diffInventories(
      new IdInventory([ids.slice(25), ids.slice(0, 25)]),
      new IdInventory([]),
    );
    expect(b.missing).toEqual(a.missing);
    expect(a.missing).not.toEqual(ids);
  });

  it('is exact on random inventories (property)', () => {
    const id = fc.oneof(
      fc.constantFrom('a', 'b', 'c', 'd', 'doc-1', 'doc-2'),
      fc.string({ minLength: 0, maxLength: 6 }),
      fc.nat(500).map((n) => `confluence:page-${n}`),
    );
    const side = fc.array(fc.array(id, { maxLength: 12 }), { maxLength: 6 });
    fc.assert(
      fc.property(
        side,
        side,
        fc.constantFrom(hashId, twoBitHash, constantHash),
        (source, index, hasher) => {
          const d = diff(source, index, hasher);
          const o = oracle(source, index);
          expect({
            missing: d.missing,
            orphans: d.orphans,
            sourceCount: d.sourceCount,
            indexCount: d.indexCount,
          }).toEqual(o);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('re-reads nothing unless a lone pair of different ids shares a prefix', () => {
    const chunks = Array.from({ length: 8 }, (_, c) =>
      Array.from({ length: 10 }, (_, i) => `doc-${c}-${i}`),
    );
    const index = chunks.map((c) => [...c]);
    index[5]?.push('extra');
    const d = diffInventories(new IdInventory(chunks), new IdInventory(index));
    expect(d).toMatchObject({ missing: [], orphans: ['extra'], chunksReread: 0 });
    // Prefix all equal but one id per side: caught by the check XORs, settled by re-reading both sides.
    const lone = diff([['a']], [['b']], constantHash);
    expect(lone).toMatchObject({ missing: ['a'], orphans: ['b'], collisions: 1, chunksReread: 2 });
  });

  it('rejects inventories whose back-references would not fit', () => {
    const chunks = new Array<string[]>(2 ** 21).fill(['x', 'y', 'z']);
    chunks[0] = new Array<string>(1025).fill('a');
    expect(() => new IdInventory(chunks)).toThrow(
      new RangeError(
        'inventory too large: 2097152 chunks of up to 1025 ids exceed 2147483648 references',
      ),
    );
  });
});
