// The demo's live terminal view: a pure function of the counters, redrawn in place a few times a second.

/** What the live view shows. */
export interface DemoCounters {
  produced: number;
  total: number;
  findingsByCheck: Map<string, { firing: number; resolved: number }>;
  alerts: { firing: number; resolved: number };
  tickets: { open: number; update: number; resolve: number };
  dlq: number;
  syncLag: { p50: number; p99: number; count: number } | undefined;
  phase: string;
  elapsedMs: number;
}

/** Empty counters for a run of `total` events. */
export function emptyCounters(total: number): DemoCounters {
  return {
    produced: 0,
    total,
    findingsByCheck: new Map(),
    alerts: { firing: 0, resolved: 0 },
    tickets: { open: 0, update: 0, resolve: 0 },
    dlq: 0,
    syncLag: undefined,
    phase: 'starting',
    elapsedMs: 0,
  };
}

const BAR = 30;

/** Renders one frame (plain text lines, no escape codes; the caller redraws). */
export function renderFrame(c: DemoCounters): string[] {
  const share = c.total === 0 ? 1 : Math.min(1, c.produced / c.total);
  const filled = Math.round(share * BAR);
  const lines = [
    `Tidemark demo — ${c.phase} (${(c.elapsedMs / 1000).toFixed(0)}s)`,
    `events in  [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${c.produced}/${c.total} (${(share * 100).toFixed(0)}%)`,
    `sync lag   ${c.syncLag ? `p50 ${fmtSeconds(c.syncLag.p50)}  p99 ${fmtSeconds(c.syncLag.p99)}  (${c.syncLag.count} applied)` : '—'}`,
    `alerts     ${c.alerts.firing} firing, ${c.alerts.resolved} resolved`,
    `tickets    ${c.tickets.open} opened, ${c.tickets.update} updates, ${c.tickets.resolve} resolved`,
    `DLQ        ${c.dlq}`,
    'findings by check (firing / resolved):',
  ];
  const checks = [...c.findingsByCheck.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (checks.length === 0) lines.push('  (none yet)');
  for (const [check, n] of checks)
    lines.push(`  ${check.padEnd(30)} ${String(n.firing).padStart(6)} / ${n.resolved}`);
  return lines;
}

function fmtSeconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)}m` : `${s.toFixed(1)}s`;
}

/** Quantile estimate from a Prometheus histogram's cumulative buckets (linear within a bucket, like histogram_quantile). */
export function histogramQuantile(
  q: number,
  buckets: ReadonlyArray<{ le: number; count: number }>,
): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
