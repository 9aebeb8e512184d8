// /healthz and /readyz of a host: what an orchestrator sees. Health is "no fatal error"; readiness lists every
// reason the instance should not get traffic yet (see the README for each).
import { safeErrorText } from '@tidemark/core';
import type { PartitionState } from '@tidemark/core';
import type { HostStatus } from './host-status.js';
import type { Probe } from './http.js';
import type { Slot } from './partitions.js';
import { stalledPartitions } from './progress.js';

/** 200 unless a fatal error happened. */
export function health(status: Readonly<HostStatus>): Probe {
  const { fatal } = status;
  return {
    ok: fatal === undefined,
    detail:
      fatal === undefined
        ? {}
        : // Anyone who can reach the port reads this: no text that could quote a record.
          { error: safeErrorText(fatal) },
  };
}

export interface ReadinessInput<S extends PartitionState> {
  status: Readonly<HostStatus>;
  slots: Iterable<Slot<S>>;
  tablesCaughtUp: boolean;
  /** The `topic:partition`s waiting for a dependency, sorted. */
  waitingOnDependency: string[];
  /** PARTITION_STALL_TIMEOUT */
  stallTimeoutMs: number;
}

/** 200 once joined, not rebalancing, restored, tables caught up, no dependency wait and no stalled partition. */
export function readiness<S extends PartitionState>(input: ReadinessInput<S>): Probe {
  const { status, tablesCaughtUp, waitingOnDependency } = input;
  const partitions = [...input.slots];
  const restoring = partitions.filter((s) => !s.restored).map((s) => s.partition);
  const stalled = stalledPartitions(
    partitions
      .filter((s) => s.restored)
      .map((s) => ({ partition: s.partition, busySince: s.busySince, topics: s.progress })),
    Date.now(),
    input.stallTimeoutMs,
  );
  const ok =
    status.fatal === undefined &&
    !status.stopping &&
    status.joined &&
    !status.rebalancing &&
    restoring.length === 0 &&
    tablesCaughtUp &&
    waitingOnDependency.length === 0 &&
    stalled.length === 0;
  return {
    ok,
    detail: {
      joined: status.joined,
      rebalancing: status.rebalancing,
      stopping: status.stopping,
      partitions: partitions.map((s) => s.partition).sort((a, b) => a - b),
      restoring,
      tablesCaughtUp,
      waitingOnDependency,
      stalled,
    },
  };
}
