// The few flags of a running host that its collaborators read (and the lifecycle and partitions write): one
// object handed to each of them, rather than private fields reached from everywhere.

/** Where the host is in its life; read by the batch loop, ticks, partitions and readiness. */
export interface HostStatus {
  /** Joined the group at least once since the last consumer (re)start. */
  joined: boolean;
  /** A rebalance is in progress (REBALANCING seen, GROUP_JOIN not yet). */
  rebalancing: boolean;
  /** stop() or a fatal error began: no new work starts. */
  stopping: boolean;
  /** The fatal error, once one happened (the service is exiting). */
  fatal: unknown;
}

/** Stops the service on a fatal error (exit 1, or 2 for a configuration found wrong while running). */
export type FailFn = (error: unknown, what: string) => void;
