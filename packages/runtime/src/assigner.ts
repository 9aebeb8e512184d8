import kafkajs from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';

// kafkajs is CommonJS and Node's named-export detection misses its error classes: take them off the default.
const { AssignerProtocol, KafkaJSNonRetriableError } = kafkajs;

/** What one group member brings to an assignment: its id and the partitions it owns now. */
export interface AssignmentMember {
  memberId: string;
  owned: readonly number[];
}

/**
 * Splits partition numbers 0..partitionCount-1 over the members, each getting ⌊n/m⌋ or ⌈n/m⌉ of them, and
 * keeping what it already owns where that fits (sticky), so a rebalance moves as little state as possible.
 * The result holds every member, in memberId order, with its partitions ascending.
 */
export function assignPartitions(
  members: readonly AssignmentMember[],
  partitionCount: number,
): Map<string, number[]> {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const result = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]));
  if (sorted.length === 0) return result;
  const base = Math.floor(partitionCount / sorted.length);
  let extras = partitionCount % sorted.length;
  const taken = new Set<number>();
  const leftovers = new Map<string, number[]>();
  // Pass 1: every member keeps up to `base` of the partitions it owns (first claim wins a disputed one).
  for (const m of sorted) {
    const mine = result.get(m.memberId)!;
    const rest: number[] = [];
    for (const p of [...new Set(m.owned)].sort((a, b) => a - b)) {
      if (!Number.isInteger(p) || p < 0 || p >= partitionCount || taken.has(p)) continue;
      if (mine.length < base) {
        mine.push(p);
        taken.add(p);
      } else rest.push(p);
    }
    leftovers.set(m.memberId, rest);
  }
  // Pass 2: up to `extras` members keep one more partition they own.
  for (const m of sorted) {
    if (extras === 0) break;
    const mine = result.get(m.memberId)!;
    const p = leftovers.get(m.memberId)!.find((q) => !taken.has(q));
    if (p !== undefined && mine.length === base) {
      mine.push(p);
      taken.add(p);
      extras--;
    }
  }
  // Pass 3: free partitions go to the members with the fewest, within their quota.
  for (let p = 0; p < partitionCount; p++) {
    if (taken.has(p)) continue;
    let target: number[] | undefined;
    for (const m of sorted) {
      const mine = result.get(m.memberId)!;
      const cap = base + (extras > 0 ? 1 : 0);
      if (mine.length < cap && (target === undefined || mine.length < target.length)) target = mine;
    }
    // Quotas always add up to partitionCount, so a target exists.
    if (target!.length === base) extras--;
    target!.push(p);
    taken.add(p);
  }
  for (const mine of result.values()) mine.sort((a, b) => a - b);
  return result;
}

/** Name of the assigner in the group protocol; every member of a Tidemark group must use it. */
export const CO_PARTITIONED_ASSIGNER = 'TidemarkCoPartitioned';

/**
 * A kafkajs partition assigner that gives partition number p of every subscribed topic to the same member,
 * since a service's state for partition p is shared by all its co-partitioned inputs (kafkajs' round-robin
 * assigner would split them). Members announce their current partitions in the group metadata (userData)
 * so assignments stay sticky. `owned` returns this member's partitions at the time it (re)joins.
 */
export function coPartitionedAssigner(owned: () => readonly number[]): PartitionAssigner {
  return ({ cluster }) => ({
    name: CO_PARTITIONED_ASSIGNER,
    version: 0,
    protocol({ topics }) {
      return {
        name: CO_PARTITIONED_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.from(JSON.stringify({ owned: [...owned()] })),
        }),
      };
    },
    async assign({ members, topics }) {
      const counts = topics.map((topic) => ({
        topic,
        partitions: cluster.findTopicPartitionMetadata(topic).length,
      }));
      const partitionCount = counts[0]?.partitions ?? 0;
      if (counts.some((c) => c.partitions !== partitionCount)) {
        // Non-retriable, thrown inside the group sync: kafkajs crashes the consumer at once (instead of
        // retrying the join) and the runtime exits non-zero — partitions were added to one input only.
        throw new KafkaJSNonRetriableError(
          `inputs are not co-partitioned: ${counts.map((c) => `${c.topic}=${c.partitions}`).join(', ')}`,
        );
      }
      const assignment = assignPartitions(
        members.map((m) => ({ memberId: m.memberId, owned: ownedFromMetadata(m.memberMetadata) })),
        partitionCount,
      );
      return [...assignment].map(([memberId, partitions]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: Object.fromEntries(topics.map((topic) => [topic, partitions])),
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

function ownedFromMetadata(metadata: Buffer): number[] {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    const parsed = JSON.parse(decoded?.userData?.toString('utf8') || '{}') as { owned?: unknown };
    return Array.isArray(parsed.owned)
      ? parsed.owned.filter((p): p is number => Number.isInteger(p))
      : [];
  } catch {
    // A member with unreadable metadata just has no claims; it still gets its fair share.
    return [];
  }
}
