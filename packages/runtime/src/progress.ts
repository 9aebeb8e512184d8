/** What the runtime knows about one owned partition's progress, for readiness. */
export interface PartitionProgress {
  partition: number;
  /** When the batch now being handled started (epoch ms), if one is. */
  busySince?: number | undefined;
  /** Per input topic: when its last batch was committed, and how many records were left behind it then. */
  topics: ReadonlyMap<string, { at: number; lag: bigint }>;
}

/**
 * Partitions that have records to process but made no progress for `timeoutMs`: a batch in hand for longer
 * than that (a hung produce, a handler that never returns), or records known to be waiting since the last
 * commit longer ago than that (fetching stopped). An idle partition with nothing to read is never stalled.
 */
export function stalledPartitions(
  partitions: Iterable<PartitionProgress>,
  now: number,
  timeoutMs: number,
): number[] {
  const stalled: number[] = [];
  for (const p of partitions) {
    const busy = p.busySince !== undefined && now - p.busySince > timeoutMs;
    let behind = false;
    if (p.busySince === undefined)
      for (const t of p.topics.values()) if (t.lag > 0n && now - t.at > timeoutMs) behind = true;
    if (busy || behind) stalled.push(p.partition);
  }
  return stalled.sort((a, b) => a - b);
}
