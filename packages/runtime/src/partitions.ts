// The partitions this instance owns: one slot per partition number (shared by all co-partitioned inputs) with
// its state, restore status and bookkeeping; assignment (GROUP_JOIN) creates and drops slots, and the per-partition
// lock (KeyedSerializer) keeps a partition's batches, ticks and restore from overlapping.
import type { PartitionState, ServiceDefinition } from '@tidemark/core';
import type { Logger } from 'pino';
import type { DependencyWaits } from './dependency-waits.js';
import type { PartitionEventTime } from './event-time.js';
import type { FailFn, HostStatus } from './host-status.js';
import type { RuntimeMetrics } from './metrics.js';
import type { OperationsMetrics } from './ops-metrics.js';

/** State and bookkeeping of one owned partition number (shared by all co-partitioned inputs). */
export interface Slot<S extends PartitionState> extends PartitionEventTime {
  partition: number;
  state: S;
  /** Next input offset per topic already reflected in `state` (restored from the changelog). */
  marker: Map<string, string>;
  ready: Promise<void>;
  restored: boolean;
  /** Set when the partition was revoked or its state can no longer be trusted; work on it stops. */
  dropped: boolean;
  /** Readiness (PARTITION_STALL_TIMEOUT): since when a batch is in hand, and each topic's last commit and lag. */
  busySince: number | undefined;
  progress: Map<string, { at: number; lag: bigint }>;
}

/** Runs one async job per key at a time, in call order; different keys run concurrently. */
export class KeyedSerializer<K> {
  readonly #tails = new Map<K, Promise<unknown>>();

  /** Queues fn behind every earlier job of the same key. */
  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when every job queued so far for key has finished. */
  idle(key: K): Promise<void> {
    return (this.#tails.get(key) ?? Promise.resolve()).then(() => undefined);
  }
}

export interface PartitionsInput<S extends PartitionState> {
  definition: Pick<ServiceDefinition<S, unknown>, 'inputs' | 'createState'>;
  /** The inputs' partition count at start (the changelog has as many). */
  partitionCount: () => number;
  /** Reads the slots' state from the changelog (changelog.ts); the slots are marked restored after it. */
  restore: (slots: Slot<S>[]) => Promise<void>;
  waits: DependencyWaits;
  status: HostStatus;
  fail: FailFn;
  metrics: RuntimeMetrics;
  ops: OperationsMetrics;
  logger: Logger;
}

/** The owned partitions and their lock; see the file comment. */
export class Partitions<S extends PartitionState> {
  readonly slots = new Map<number, Slot<S>>();
  readonly locks = new KeyedSerializer<number>();
  readonly #in: PartitionsInput<S>;

  constructor(input: PartitionsInput<S>) {
    this.#in = input;
  }

  /** The slots in partition order (ticks visit them so). */
  sorted(): Slot<S>[] {
    return [...this.slots.values()].sort((a, b) => a.partition - b.partition);
  }

  /** GROUP_JOIN: drops revoked partitions, creates (and restores) new ones. */
  onAssignment(memberAssignment: Record<string, number[]>): void {
    const { definition, status } = this.#in;
    const partitionCount = this.#in.partitionCount();
    const assigned = new Set<number>();
    for (const topic of definition.inputs)
      for (const p of memberAssignment[topic] ?? []) assigned.add(p);
    const beyond = [...assigned].filter((p) => p >= partitionCount);
    if (beyond.length > 0) {
      // Partitions were added to the inputs while running; the changelog has only partitionCount. Exit;
      // the start-up checks then say what to fix.
      this.#in.fail(
        new Error(
          `assigned partitions ${beyond.join(', ')} but the inputs had ${partitionCount} at start`,
        ),
        'input partition count changed',
      );
      return;
    }
    const revoked = [...this.slots.keys()].filter((p) => !assigned.has(p));
    for (const p of revoked) this.drop(p, 'revoked');
    const fresh = [...assigned].filter((p) => !this.slots.has(p)).sort((a, b) => a - b);
    this.#create(fresh);
    status.joined = true;
    status.rebalancing = false;
    this.#in.logger.info(
      { partitions: [...assigned].sort((a, b) => a - b), revoked, restoring: fresh },
      'partitions assigned',
    );
  }

  /** Forgets a partition's state (revoked, or no longer to be trusted); its next batch restores it again. */
  drop(partition: number, why: string): void {
    const slot = this.slots.get(partition);
    if (!slot) return;
    slot.dropped = true;
    this.slots.delete(partition);
    this.#in.waits.dropPartition(partition);
    this.#in.metrics.forgetPartition(partition, this.#in.definition.inputs);
    this.#in.ops.forgetPartition(partition, this.#in.definition.inputs);
    this.#in.logger.info({ partition, why }, 'partition state dropped');
  }

  /** The slot of a batch's partition. */
  slotFor(partition: number): Slot<S> {
    // GROUP_JOIN precedes every fetch, so this only creates a slot after a state was invalidated.
    if (!this.slots.has(partition)) this.#create([partition]);
    return this.slots.get(partition)!;
  }

  #create(partitions: readonly number[]): void {
    if (partitions.length === 0) return;
    const slots = partitions.map((partition) => {
      const slot: Slot<S> = {
        partition,
        state: this.#in.definition.createState(partition),
        marker: new Map(),
        ready: Promise.resolve(),
        restored: false,
        dropped: false,
        watermark: 0,
        nextTick: undefined,
        topicTime: new Map(),
        busySince: undefined,
        progress: new Map(),
      };
      this.slots.set(partition, slot);
      return slot;
    });
    const restoring = (async () => {
      // Work still running on these partitions (from before a revoke) finishes before the barrier is written.
      await Promise.all(partitions.map((p) => this.locks.idle(p)));
      await this.#in.restore(slots);
      for (const slot of slots) {
        slot.restored = true;
        this.#in.metrics.stateEntries.set({ partition: String(slot.partition) }, slot.state.size());
      }
    })();
    // A failed restore leaves the instance unable to process those partitions correctly: stop.
    restoring.catch((error: unknown) => {
      if (!this.#in.status.stopping) this.#in.fail(error, 'state restore failed');
    });
    for (const slot of slots) slot.ready = restoring;
  }
}
