import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createPartitioner } from '@tidemark/replay';
import { BacklogGate } from './backlog.js';

const MIN = 60_000;

/** An admin whose fetchOffsets answers from a table of committed offsets: group → topic → partition → offset. */
function adminWith(committed: Record<string, Record<string, Record<number, number>>>): Admin {
  const admin: Pick<Admin, 'fetchOffsets'> = {
    fetchOffsets: ({ groupId, topics }) =>
      Promise.resolve(
        (topics ?? []).map((topic) => ({
          topic,
          partitions: Object.entries(committed[groupId]?.[topic] ?? {}).map(
            ([partition, offset]) => ({
              partition: Number(partition),
              offset: String(offset),
              metadata: null,
            }),
          ),
        })),
      ),
  };
  return admin as Admin;
}

// Two keys on different partitions of three, so each partition's offsets are known.
const partitioner = createPartitioner(3);
const keys = ['confluence/1', 'confluence/2', 'confluence/3', 'confluence/4', 'confluence/5'];
const [k0, k1] = [
  keys.find((k) => partitioner.partition('c', k) === 0)!,
  keys.find((k) => partitioner.partition('c', k) === 1)!,
];

function gateAfter(committed: Record<string, Record<string, Record<number, number>>>) {
  const gate = new BacklogGate(
    adminWith(committed),
    [
      { groupId: 'checker', topics: ['c'] },
      { groupId: 'freshness', topics: ['c', 's'] },
    ],
    3,
    5 * MIN,
    1,
  );
  // Partition 0 of c: offsets 0..3 at 0, 2, 4, 6 min; partition 1 of c: offsets 0..1 at 1, 7 min; s: offset 0 at 3 min.
  gate.record('c', k0, 0);
  gate.record('c', k1, 1 * MIN);
  gate.record('c', k0, 2 * MIN);
  gate.record('s', k0, 3 * MIN);
  gate.record('c', k0, 4 * MIN);
  gate.record('c', k0, 6 * MIN);
  gate.record('c', k1, 7 * MIN);
  return gate;
}

describe('BacklogGate', () => {
  it.each([
    ['nothing read yet: the oldest record is 7 minutes old', {}, 7 * MIN],
    [
      'everything read',
      { checker: { c: { 0: 4, 1: 2 } }, freshness: { c: { 0: 4, 1: 2 }, s: { 0: 1 } } },
      0,
    ],
    [
      'one group still has the 3-minute record of s unread',
      { checker: { c: { 0: 4, 1: 2 } }, freshness: { c: { 0: 4, 1: 2 }, s: { 0: 0 } } },
      4 * MIN,
    ],
    [
      'the slowest partition decides: offset 2 of c/0 (4 min) unread',
      { checker: { c: { 0: 2, 1: 2 } }, freshness: { c: { 0: 4, 1: 2 }, s: { 0: 1 } } },
      3 * MIN,
    ],
  ])('%s', async (_name, committed, span) => {
    expect(await gateAfter(committed).backlogSpanMs()).toBe(span);
  });

  it('holds while the backlog spans more than the limit, and lets go once it is read', async () => {
    const committed: Record<string, Record<string, Record<number, number>>> = {
      checker: { c: { 0: 0, 1: 0 } },
      freshness: { c: { 0: 4, 1: 2 }, s: { 0: 1 } },
    };
    const gate = gateAfter(committed);
    let released = false;
    const held = gate.hold().then(() => {
      released = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(false);
    committed['checker'] = { c: { 0: 3, 1: 2 } }; // 6 min record left: 1 min behind the newest
    await held;
    expect(released).toBe(true);
    expect(gate.heldMs).toBeGreaterThanOrEqual(15);
  });

  it('stops holding when the signal aborts', async () => {
    const gate = gateAfter({});
    const abort = new AbortController();
    const held = gate.hold(abort.signal);
    abort.abort();
    await expect(held).resolves.toBeUndefined();
  });
});

describe('BacklogGate on admin errors', () => {
  it('lets the producer go on when the offsets cannot be fetched (and asks again next time)', async () => {
    let calls = 0;
    const failing: Pick<Admin, 'fetchOffsets'> = {
      fetchOffsets: () => {
        calls++;
        return Promise.reject(new Error('This is not the correct coordinator for this group'));
      },
    };
    const gate = new BacklogGate(failing as Admin, [{ groupId: 'g', topics: ['c'] }], 3, MIN, 1);
    gate.record('c', 'confluence/1', 0);
    gate.record('c', 'confluence/1', 10 * MIN);
    await expect(gate.hold()).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 5));
    await gate.hold();
    expect(calls).toBe(2);
  });
});

describe('BacklogGate check', () => {
  it('stops holding with the error of a failed check (a dead consumer never catches up)', async () => {
    const gate = gateAfter({});
    let rounds = 0;
    await expect(
      gate.hold(undefined, () => {
        if (++rounds === 3) throw new Error('contract-checker exited with 1');
      }),
    ).rejects.toThrow('contract-checker exited with 1');
    expect(rounds).toBe(3);
  });
});
