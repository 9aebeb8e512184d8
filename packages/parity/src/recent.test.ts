import { describe, expect, it } from 'vitest';
import { RecentChangesTable } from './recent.js';
import { ParityState } from './state.js';
import { HOUR, Harness, MINUTE, T0, deleted, indexed } from './test-helpers.js';

describe('RecentChangesTable', () => {
  it('learns change times from the parity changelog and forgets what is older than the horizon', () => {
    const h = new Harness();
    h.handle(
      indexed({ docId: 'old', revision: 1, t: 0 }),
      deleted({ docId: 'new', revision: 1, t: 2 * HOUR }),
    );
    const table = new RecentChangesTable({ horizonMs: HOUR });
    for (const change of h.state.drainChanges()) table.apply(change.key, change.value);
    expect(table.lookup('wiki', 'new')).toBe(T0 + 2 * HOUR);
    expect(table.lookup('wiki', 'old')).toBeUndefined();
    expect(table.lookup('wiki', 'unknown')).toBeUndefined();
    table.apply(ParityState.docKey('wiki', 'new'), null);
    expect(table.lookup('wiki', 'new')).toBeUndefined();
    // Keys of other state kinds are not documents.
    const size = table.size;
    table.apply(ParityState.systemKey('wiki'), Buffer.from('{}'));
    expect(table.size).toBe(size);
  });

  it('excludes in-flight documents of other partitions from a reconciliation', () => {
    // Partition 1 owns the document; partition 0 owns the system's inventory.
    const owner = new Harness({ deleteSlaMs: 10 * MINUTE }, { partition: 1 });
    owner.handle(
      indexed({ docId: 'x', revision: 1, t: 0 }),
      deleted({ docId: 'x', revision: 2, t: 25 * MINUTE }),
    );
    const table = new RecentChangesTable();
    for (const change of owner.state.drainChanges()) table.apply(change.key, change.value);
    const inventory = new Harness({ deleteSlaMs: 10 * MINUTE });
    inventory.inFlight = (system, docId) => table.lookup(system, docId);
    inventory.clock.set(T0 + 30 * MINUTE);
    inventory.handle(
      ...[
        { side: 'source' as const, ids: ['a'] },
        { side: 'index' as const, ids: ['a', 'x'] },
      ].map(({ side, ids }) => ({
        specversion: '1.0' as const,
        id: side,
        source: 'test',
        type: 'inventory.snapshot' as const,
        time: new Date(T0 + 30 * MINUTE).toISOString(),
        data: { system: 'wiki', side, snapshotId: side, chunk: 0, chunks: 1, docIds: ids },
      })),
    );
    expect(inventory.state.recons.get('wiki')?.summary).toEqual({});
  });
});
