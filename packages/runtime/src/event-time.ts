// TIDEMARK_CLOCK=event: each partition's `now` is its highest record timestamp, and ticks run inline on event
// time (every EVENT_TICK of it) — the replay semantics, live. A clock shared by partitions would let one
// partition's fast-forward fire another's deadlines before its records were read. This module decides how far a
// partition's ticks may go (the slowest co-partitioned topic that may still bring records, minus EVENT_SKEW);
// ticks.ts runs them.
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';

/** Event time of one input topic of a partition (event-time mode). */
export interface TopicTime {
  time: number;
  /** Read to the high watermark its last batch reported, and no record since. */
  caughtUp: boolean;
  /** Host ms the topic was caught up (or its hold re-armed). */
  caughtUpAt: number;
  /** The consumer's fetch rounds per broker node then (see EventTime#isIdle). */
  caughtUpRounds: ReadonlyMap<number, number>;
}

/** A topic's time before its first batch, or at start-up with records not read yet (−∞). */
export function unreadTopic(time: number): TopicTime {
  return { time, caughtUp: false, caughtUpAt: 0, caughtUpRounds: new Map() };
}

/** The event-time bookkeeping of one owned partition (part of its slot). */
export interface PartitionEventTime {
  partition: number;
  /** The highest record timestamp of this partition. */
  watermark: number;
  /** The partition's next tick on event time. */
  nextTick: number | undefined;
  /**
   * Per input topic, the highest timestamp read, whether it was read to its end, and since when (host ms;
   * EVENT_IDLE_TIMEOUT after that it no longer holds ticks back).
   */
  topicTime: Map<string, TopicTime>;
}

export interface EventTimeSettings {
  /** EVENT_IDLE_TIMEOUT */
  eventIdleMs: number;
  /** EVENT_SKEW */
  eventSkewMs: number;
}

/** The event-time clocks of this instance's partitions, and the consumer's fetch rounds they wait on. */
export class EventTime {
  /**
   * Fetches started per broker node. kafkajs fetches from a node, hands every batch of the response to the
   * handler and only then fetches again: a new round means the previous response was handled in full.
   */
  readonly #fetchRounds = new Map<number, number>();
  readonly #settings: EventTimeSettings;

  constructor(settings: EventTimeSettings) {
    this.#settings = settings;
  }

  /** The consumer started a fetch from `nodeId` (its FETCH_START event). */
  countFetch(nodeId: number): void {
    this.#fetchRounds.set(nodeId, (this.#fetchRounds.get(nodeId) ?? 0) + 1);
  }

  /**
   * Records `timestamp` for `topic` and moves the partition's watermark; returns how far its ticks may now run
   * (undefined for a timestamp that is not a time: nothing moves, nothing ticks).
   * Ticks go only as far as the slowest co-partitioned topic that still has records to read (minus the allowed
   * skew): the content and sync halves of a partition arrive in separate batches, and a consumer catching up
   * may read hours of one before the other — an index event not yet read must not make its change look late.
   * A topic read to its end does not hold ticks back (an inventory topic may stay quiet for hours).
   */
  advance(slot: PartitionEventTime, topic: string, timestamp: number): number | undefined {
    if (!Number.isFinite(timestamp)) return undefined;
    const hostNow = Date.now();
    const read = slot.topicTime.get(topic);
    // A topic that had gone idle gets records again: traffic resumes after a lull (a paused producer, a quiet
    // night), and the other idle topics' next records may be in the same fetch, behind this batch. They hold
    // ticks back for another EVENT_IDLE_TIMEOUT instead of letting this topic tick past them at once.
    if (read && this.#isIdle(read, hostNow)) {
      for (const [other, t] of slot.topicTime)
        if (other !== topic && t.caughtUp) this.#holdFromNow(t, hostNow);
    }
    if (read) {
      read.time = Math.max(read.time, timestamp);
      read.caughtUp = false;
    } else slot.topicTime.set(topic, unreadTopic(timestamp));
    if (timestamp > slot.watermark) slot.watermark = timestamp;
    return this.tickBound(slot, hostNow);
  }

  /** A batch read `topic` of the partition up to the high watermark it reported: the topic's hold starts. */
  caughtUp(slot: PartitionEventTime, topic: string): void {
    const read = slot.topicTime.get(topic);
    if (!read) return;
    read.caughtUp = true;
    this.#holdFromNow(read, Date.now());
  }

  /** Starts a caught-up topic's hold over again: EVENT_IDLE_TIMEOUT and two fetch rounds from now. */
  #holdFromNow(t: TopicTime, hostNow: number): void {
    t.caughtUpAt = hostNow;
    t.caughtUpRounds = new Map(this.#fetchRounds);
  }

  /**
   * A topic no longer holds ticks back once it was read to its end, EVENT_IDLE_TIMEOUT passed, and a fetch round
   * that began after that was handled in full (two rounds started since) with no record of it. Host time alone
   * is not enough on a loaded host: one round can take longer than the timeout, and its response may hold this
   * topic's next records behind another topic's batch.
   */
  #isIdle(t: TopicTime, hostNow: number): boolean {
    if (!t.caughtUp || hostNow - t.caughtUpAt < this.#settings.eventIdleMs) return false;
    for (const [node, rounds] of t.caughtUpRounds)
      if ((this.#fetchRounds.get(node) ?? 0) < rounds + 2) return false;
    return true;
  }

  /**
   * How far a partition's event-time ticks may run: the slowest of its input topics that still has records to
   * read — or was read to its end less than EVENT_IDLE_TIMEOUT ago (its next batch may be on its way, behind
   * another topic's fetch: a deadline must not fire before the event that meets it is read) — minus EVENT_SKEW.
   * With every topic idle, the partition's watermark.
   */
  tickBound(slot: PartitionEventTime, hostNow: number): number {
    let bound = Infinity;
    for (const t of slot.topicTime.values()) {
      if (!this.#isIdle(t, hostNow) && t.time < bound) bound = t.time;
    }
    if (bound === Infinity) bound = slot.watermark;
    return bound - this.#settings.eventSkewMs;
  }

  /**
   * How far partitions without records of their own may tick: the slowest input topic's event time on this
   * instance (each topic's highest time over the partitions that read it, then the lowest of those, minus
   * EVENT_SKEW). Undefined when no partition has read anything; −∞ while a topic has records not read yet.
   */
  idlePartitionBound(slots: Iterable<PartitionEventTime>): number | undefined {
    const latest = new Map<string, number>();
    for (const slot of slots)
      for (const [topic, t] of slot.topicTime)
        latest.set(topic, Math.max(latest.get(topic) ?? -Infinity, t.time));
    if (latest.size === 0) return undefined;
    // A topic with records not read yet (−∞) holds idle partitions back too.
    return Math.min(...latest.values()) - this.#settings.eventSkewMs;
  }
}

/** What markUnreadTopics reads the group's position with. */
export interface UnreadTopicsInput {
  admin: Admin;
  groupId: string;
  inputs: readonly string[];
  startFrom: 'earliest' | 'latest';
  logger: Logger;
}

/**
 * Event-time mode: the topics of partitions that have records this instance has not read yet (from the
 * group's committed offsets, or the start of the log, up to the high watermark). They start at time −∞, so
 * the partition's ticks wait until their first records are read — after a restart with a backlog on both
 * topics, content must not tick past sync events still unread.
 */
export async function markUnreadTopics(
  { admin, groupId, inputs, startFrom, logger }: UnreadTopicsInput,
  slots: readonly PartitionEventTime[],
): Promise<void> {
  const committed = await admin.fetchOffsets({
    groupId,
    topics: [...inputs],
  });
  for (const topic of inputs) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const slot of slots) {
      const log = offsets.find((o) => o.partition === slot.partition);
      if (!log) continue;
      const position = done.find((d) => d.partition === slot.partition)?.offset ?? '-1';
      const from =
        BigInt(position) >= 0n
          ? BigInt(position)
          : startFrom === 'earliest'
            ? BigInt(log.low)
            : BigInt(log.high);
      if (BigInt(log.high) > from && !slot.topicTime.has(topic)) {
        slot.topicTime.set(topic, unreadTopic(-Infinity));
        logger.debug(
          { topic, partition: slot.partition, from: String(from), high: log.high },
          'records not read yet hold ticks back',
        );
      }
    }
  }
}
