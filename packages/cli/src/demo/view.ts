// The demo's live terminal view: a pure function of the counters, redrawn in place a few times a second.

/** What the live view shows. */
export interface DemoCounters {
  produced: number;
  total: number;
  /** Simulated run: first and last event time (epoch ms), and the event time produced so far. */
  start: number;
  end: number;
  eventTime: number | undefined;
  /** Faults the simulator has injected so far, by check (required truth entries only). */
  injected: Map<string, number>;
  findingsByCheck: Map<string, { firing: number; resolved: number }>;
  alerts: { firing: number; resolved: number };
  tickets: { open: number; update: number; resolve: number };
  dlq: number;
  syncLag: { p50: number; p99: number; count: number } | undefined;
  phase: string;
  elapsedMs: number;
  /** Wall time the producer waited for the services to catch up. */
  heldMs: number;
}

/** Empty counters for a run of `total` events from `start` to `end` (event time, epoch ms). */
export function emptyCounters(total: number, start = 0, end = 0): DemoCounters {
  return {
    produced: 0,
    total,
    start,
    end,
    eventTime: undefined,
    injected: new Map(),
    findingsByCheck: new Map(),
    alerts: { firing: 0, resolved: 0 },
    tickets: { open: 0, update: 0, resolve: 0 },
    dlq: 0,
    syncLag: undefined,
    phase: 'starting',
    elapsedMs: 0,
    heldMs: 0,
  };
}

const BAR = 30;

/** Renders one frame (plain text lines, no escape codes; the caller redraws). */
export function renderFrame(c: DemoCounters): string[] {
  // Progress is event time, not records: the initial load sends a large share of the records in its first hour.
  const span = c.end - c.start;
  const at = c.eventTime ?? c.start;
  const share =
    span > 0
      ? Math.min(1, Math.max(0, (at - c.start) / span))
      : c.total === 0
        ? 1
        : c.produced / c.total;
  const filled = Math.round(share * BAR);
  const clock =
    span > 0 && c.eventTime !== undefined
      ? `${new Date(at).toISOString().slice(11, 16)} UTC, ${fmtHours(at - c.start)} of ${fmtHours(span)}`
      : `${(share * 100).toFixed(0)}%`;
  const lines = [
    `Tidemark demo — ${c.phase} (${fmtElapsed(c.elapsedMs)}${c.heldMs > 0 ? `; ${fmtElapsed(c.heldMs)} waiting for the services to catch up` : ''})`,
    `event time [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${clock} · ${c.produced.toLocaleString('en-US')} of ${c.total.toLocaleString('en-US')} records`,
    `sync lag   ${c.syncLag ? `p50 ${fmtSeconds(c.syncLag.p50)}  p99 ${fmtSeconds(c.syncLag.p99)}  (${c.syncLag.count.toLocaleString('en-US')} applied)` : '—'}`,
    `alerts     ${c.alerts.firing} firing, ${c.alerts.resolved} resolved`,
    `tickets    ${c.tickets.open} opened, ${c.tickets.update} updates, ${c.tickets.resolve} resolved`,
    `DLQ        ${c.dlq} dead letters`,
    '',
    `${'check'.padEnd(30)} ${'injected'.padStart(8)} ${'firing'.padStart(8)} ${'resolved'.padStart(8)}`,
  ];
  const checks = [...new Set([...c.injected.keys(), ...c.findingsByCheck.keys()])].sort((a, b) =>
    a.localeCompare(b),
  );
  if (checks.length === 0) lines.push('  (nothing yet)');
  for (const check of checks) {
    const n = c.findingsByCheck.get(check) ?? { firing: 0, resolved: 0 };
    const injected = c.injected.get(check);
    lines.push(
      `${check.padEnd(30)} ${(injected === undefined ? '—' : String(injected)).padStart(8)} ${String(n.firing).padStart(8)} ${String(n.resolved).padStart(8)}`,
    );
  }
  return lines;
}

function fmtSeconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)}m` : `${s.toFixed(1)}s`;
}

function fmtHours(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}`;
}

function fmtElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
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
