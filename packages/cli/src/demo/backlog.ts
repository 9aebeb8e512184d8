import type { Admin } from 'kafkajs';
import { createPartitioner, type Partitioner } from '@tidemark/replay';

/** A consumer group and the topics it reads that the demo produces. */
export interface GateGroup {
  groupId: string;
  topics: readonly string[];
}

/**
 * Backpressure for the demo's producer, in event time. The services run on event time: each partition's ticks
 * trail the newest record it consumed by EVENT_SKEW, which is only safe while a partition's co-partitioned topics are
 * consumed roughly in step. A service that falls behind (a slow or busy machine) reads a backlog in fetches of up to
 * a megabyte per partition, and one topic can then run far ahead of another in event time — an index event still
 * unread while the content topic moved on makes a healthy change look late. So the producer waits whenever a
 * service's oldest unread record is more than `maxSpanMs` of event time older than the newest record produced: a
 * backlog never spans more than that, so neither can the skew between its topics.
 *
 * The event time of every produced offset is known because the demo's topics are new (offsets are contiguous from 0,
 * no transactions) and records are placed with kafkajs's own partitioner.
 */
export class BacklogGate {
  readonly #times = new Map<string, number[]>();
  readonly #partitioner: Partitioner;
  #newest = Number.NEGATIVE_INFINITY;
  #checkedAt = 0;
  #open = true;
  /** Wall-clock ms spent holding the producer, for the view. */
  heldMs = 0;

  constructor(
    private readonly admin: Admin,
    private readonly groups: readonly GateGroup[],
    partitions: number,
    private readonly maxSpanMs: number,
    private readonly pollMs = 200,
  ) {
    this.#partitioner = createPartitioner(partitions);
  }

  /** Notes a record about to be produced (in production order). */
  record(topic: string, key: string | null, time: number): void {
    if (key === null) return; // kafkajs places keyless records at random: not tracked, never waited for
    const tp = `${topic}\u0000${this.#partitioner.partition(topic, key)}`;
    let times = this.#times.get(tp);
    if (!times) this.#times.set(tp, (times = []));
    times.push(time);
    if (time > this.#newest) this.#newest = time;
  }

  /**
   * Resolves once every group's backlog spans at most maxSpanMs of event time (or the signal aborts); `check` runs
   * on every round and may throw (e.g. when a consumer died, its backlog never shrinks).
   */
  async hold(signal?: AbortSignal, check?: () => void): Promise<void> {
    const started = Date.now();
    try {
      for (;;) {
        if (signal?.aborted) return;
        check?.();
        // Between polls the last answer stands: asking the broker before each of ten batches a second is waste.
        if (this.#open && Date.now() - this.#checkedAt < this.pollMs) return;
        try {
          this.#open = (await this.backlogSpanMs()) <= this.maxSpanMs;
        } catch {
          // A transient admin error (e.g. the group coordinator moved): no answer is no reason to stop producing;
          // the next poll asks again.
          this.#open = true;
        }
        this.#checkedAt = Date.now();
        if (this.#open) return;
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      }
    } finally {
      this.heldMs += Date.now() - started;
    }
  }

  /** The largest event-time span between a group's oldest unread record and the newest record produced. */
  async backlogSpanMs(): Promise<number> {
    let span = 0;
    for (const group of this.groups) {
      const committed = await this.admin.fetchOffsets({
        groupId: group.groupId,
        topics: [...group.topics],
      });
      for (const topic of group.topics) {
        const partitions = committed.find((c) => c.topic === topic)?.partitions ?? [];
        for (const [tp, times] of this.#times) {
          if (!tp.startsWith(`${topic}\u0000`)) continue;
          const partition = Number(tp.slice(topic.length + 1));
          const offset = Number(partitions.find((p) => p.partition === partition)?.offset ?? -1);
          const next = offset < 0 ? 0 : offset;
          if (next < times.length) span = Math.max(span, this.#newest - times[next]!);
        }
      }
    }
    return span;
  }
}
