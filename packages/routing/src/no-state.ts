import type { PartitionState, StateChange } from '@tidemark/core';

/**
 * The partition state of a sender (webhook, Jira) that keeps nothing between records: its position is the
 * consumer group's committed offset, so there is nothing to restore or write to a changelog.
 */
export class NoState implements PartitionState {
  restore(): void {}
  drainChanges(): StateChange[] {
    return [];
  }
  size(): number {
    return 0;
  }
}
