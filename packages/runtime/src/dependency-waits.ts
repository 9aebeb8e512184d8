// Records whose handler found a dependency unavailable (a DependencyUnavailableError from core): the
// topic-partition is paused and the same record tried again after a backoff. Readiness is false while any waits.
import { describeError } from '@tidemark/core';
import type { TidemarkError } from '@tidemark/core';
import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay } from './delivery.js';
import type { HostStatus } from './host-status.js';

/** The record a batch stopped at because a dependency is unavailable. */
export interface BlockedRecord {
  offset: string;
  error: TidemarkError;
  trace: { trace_id?: string; span_id?: string };
}

/** A topic-partition paused because a dependency of its handler is unavailable. */
interface DependencyWait {
  /** The record to try again. */
  offset: string;
  attempt: number;
  since: number;
  timer: NodeJS.Timeout;
}

export interface DependencyWaitsInput {
  /** The group consumer of the moment (it is replaced after a broker outage). */
  consumer: () => Consumer | undefined;
  /** DEPENDENCY_RETRY_MAX */
  retryMaxMs: number;
  status: HostStatus;
  logger: Logger;
}

/** Per `topic:partition`, the record waiting for a dependency to come back. */
export class DependencyWaits {
  readonly #waits = new Map<string, DependencyWait>();
  readonly #in: DependencyWaitsInput;

  constructor(input: DependencyWaitsInput) {
    this.#in = input;
  }

  /** The waiting `topic:partition` keys, sorted (readiness detail). */
  keys(): string[] {
    return [...this.#waits.keys()].sort();
  }

  /**
   * A record's handler found a dependency unavailable: pause its topic-partition, and after a backoff (capped
   * at DEPENDENCY_RETRY_MAX) seek back to the record and resume, so the same record is tried again. Readiness is
   * false meanwhile; nothing is dead-lettered and no finding is written.
   */
  pause(
    slot: { partition: number; dropped: boolean },
    topic: string,
    blocked: BlockedRecord,
  ): void {
    const { status, logger } = this.#in;
    const key = `${topic}:${slot.partition}`;
    const previous = this.#waits.get(key);
    const attempt = previous && previous.offset === blocked.offset ? previous.attempt + 1 : 0;
    const delayMs = backoffDelay(attempt, {
      initialMs: 500,
      maxMs: this.#in.retryMaxMs,
    });
    const { errorClass, message } = describeError(blocked.error);
    logger.warn(
      {
        topic,
        partition: slot.partition,
        offset: blocked.offset,
        ...blocked.trace,
        attempt,
        delayMs,
        errorClass,
        error: message,
        ...(blocked.error.context['dependency'] === undefined
          ? {}
          : { dependency: blocked.error.context['dependency'] }),
      },
      'dependency unavailable; partition paused, the record will be retried',
    );
    const target = [{ topic, partitions: [slot.partition] }];
    this.#in.consumer()!.pause(target);
    const timer = setTimeout(() => {
      const wait = this.#waits.get(key);
      if (wait?.timer !== timer) return;
      if (slot.dropped || status.stopping || status.fatal !== undefined) {
        this.#waits.delete(key);
        return;
      }
      this.#in.consumer()!.seek({ topic, partition: slot.partition, offset: blocked.offset });
      this.#in.consumer()!.resume(target);
    }, delayMs);
    timer.unref();
    this.#waits.set(key, {
      offset: blocked.offset,
      attempt,
      since: previous?.since ?? Date.now(),
      timer,
    });
  }

  /** A record of `topic:partition` went through: its wait (if any) is over. */
  passed(key: string): void {
    if (this.#waits.has(key)) this.#end(key);
  }

  #end(key: string): void {
    const wait = this.#waits.get(key);
    if (!wait) return;
    clearTimeout(wait.timer);
    this.#waits.delete(key);
    this.#in.logger.info(
      { partition: key, waitedMs: Date.now() - wait.since, attempts: wait.attempt + 1 },
      'dependency available again; partition resumed',
    );
  }

  /** The partition was dropped: its waits end, and its topic-partitions fetch again. */
  dropPartition(partition: number): void {
    for (const [key, wait] of this.#waits) {
      const [topic, p] = [key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1)];
      if (Number(p) !== partition) continue;
      clearTimeout(wait.timer);
      this.#waits.delete(key);
      // Whoever owns the partition next (maybe this instance again) must find it fetching.
      this.#in.consumer()?.resume([{ topic, partitions: [partition] }]);
    }
  }
}
