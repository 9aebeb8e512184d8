import { AssignerProtocol } from 'kafkajs';
import type { Cluster, Logger } from 'kafkajs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CO_PARTITIONED_ASSIGNER, assignPartitions, coPartitionedAssigner } from './assigner.js';

const asObject = (m: Map<string, number[]>) => Object.fromEntries(m);

describe('assignPartitions', () => {
  it.each([
    ['one member takes everything', [{ memberId: 'a', owned: [] }], 4, { a: [0, 1, 2, 3] }],
    [
      'fresh members split evenly in member order',
      [
        { memberId: 'b', owned: [] },
        { memberId: 'a', owned: [] },
      ],
      5,
      { a: [0, 2, 4], b: [1, 3] },
    ],
    [
      'a joining member takes only the excess of the owner',
      [
        { memberId: 'a', owned: [0, 1, 2, 3] },
        { memberId: 'b', owned: [] },
      ],
      4,
      { a: [0, 1], b: [2, 3] },
    ],
    [
      'owners keep what fits their quota',
      [
        { memberId: 'a', owned: [1, 3] },
        { memberId: 'b', owned: [0, 2] },
      ],
      4,
      { a: [1, 3], b: [0, 2] },
    ],
    [
      "a leaving member's partitions go to the others",
      [
        { memberId: 'a', owned: [0, 1] },
        { memberId: 'c', owned: [4, 5] },
      ],
      6,
      { a: [0, 1, 2], c: [3, 4, 5] },
    ],
    [
      'more members than partitions leaves some idle',
      [
        { memberId: 'a', owned: [] },
        { memberId: 'b', owned: [] },
        { memberId: 'c', owned: [] },
      ],
      2,
      { a: [0], b: [1], c: [] },
    ],
    [
      'a disputed partition goes to the first claimant',
      [
        { memberId: 'a', owned: [0, 1] },
        { memberId: 'b', owned: [1, 2] },
      ],
      4,
      { a: [0, 1], b: [2, 3] },
    ],
    [
      'claims outside the range are ignored',
      [{ memberId: 'a', owned: [7, -1, 1.5] }],
      2,
      { a: [0, 1] },
    ],
    ['no partitions, nothing assigned', [{ memberId: 'a', owned: [0] }], 0, { a: [] }],
  ])('%s', (_, members, count, expected) => {
    expect(asObject(assignPartitions(members, count))).toEqual(expected);
  });

  it('assigns every partition exactly once, balanced, and keeps what each member owned within its quota', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 45 }), { maxLength: 12 }), {
          minLength: 1,
          maxLength: 8,
        }),
        (count, claims) => {
          // Claims as a previous assignment would leave them: disjoint.
          const seen = new Set<number>();
          const members = claims.map((owned, i) => ({
            memberId: `m${i}`,
            owned: owned.filter((p) => !seen.has(p) && (seen.add(p), true)),
          }));
          const result = assignPartitions(members, count);
          const all = [...result.values()].flat().sort((a, b) => a - b);
          expect(all).toEqual(Array.from({ length: count }, (_, p) => p));
          const sizes = [...result.values()].map((ps) => ps.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          const quota = Math.floor(count / members.length);
          for (const m of members) {
            const kept = result.get(m.memberId)!.filter((p) => m.owned.includes(p)).length;
            const valid = m.owned.filter((p) => p < count).length;
            expect(kept).toBeGreaterThanOrEqual(Math.min(valid, quota));
          }
        },
      ),
    );
  });
});

describe('coPartitionedAssigner', () => {
  const cluster = (counts: Record<string, number>) =>
    ({
      findTopicPartitionMetadata: (topic: string) =>
        Array.from({ length: counts[topic] ?? 0 }, (_, partitionId) => ({ partitionId })),
    }) as unknown as Cluster;
  const logger = {} as Logger;

  it('gives partition p of every input to the same member and announces owned partitions in userData', async () => {
    const assigner = coPartitionedAssigner(() => [2, 3])({
      cluster: cluster({ a: 4, b: 4 }),
      groupId: 'g',
      logger,
    });
    expect(assigner.name).toBe(CO_PARTITIONED_ASSIGNER);
    const mine = assigner.protocol({ topics: ['a', 'b'] });
    const decoded = AssignerProtocol.MemberMetadata.decode(mine.metadata)!;
    expect(decoded.topics).toEqual(['a', 'b']);
    expect(JSON.parse(decoded.userData.toString())).toEqual({ owned: [2, 3] });
    const other = coPartitionedAssigner(() => [])({
      cluster: cluster({}),
      groupId: 'g',
      logger,
    }).protocol({ topics: ['a', 'b'] });
    const result = await assigner.assign({
      members: [
        { memberId: 'x', memberMetadata: mine.metadata },
        { memberId: 'y', memberMetadata: other.metadata },
      ],
      topics: ['a', 'b'],
    });
    const decodedResult = Object.fromEntries(
      result.map((r) => [
        r.memberId,
        AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment,
      ]),
    );
    expect(decodedResult).toEqual({ x: { a: [2, 3], b: [2, 3] }, y: { a: [0, 1], b: [0, 1] } });
  });

  it('refuses inputs with different partition counts', async () => {
    const assigner = coPartitionedAssigner(() => [])({
      cluster: cluster({ a: 3, b: 4 }),
      groupId: 'g',
      logger,
    });
    await expect(
      assigner.assign({
        members: [{ memberId: 'x', memberMetadata: Buffer.alloc(0) }],
        topics: ['a', 'b'],
      }),
    ).rejects.toMatchObject({
      name: 'KafkaJSNonRetriableError',
      retriable: false,
      message: 'inputs are not co-partitioned: a=3, b=4',
    });
  });
});
