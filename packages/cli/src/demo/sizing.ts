import type { ContractSet } from '@tidemark/contracts';
import type { SimMeta, SystemProfile, TruthEntry } from '@tidemark/sim';

const DAY = 86_400_000;
// Poisson noise: a window expected to hold just minSamples events falls short about half the time.
const MARGIN = 1.25;
// Drift windows close after allowed lateness (1 min) and are decided after a further delay (1 min); null-rate
// windows after 1 min of lateness and 2 min of settling. Both round up to this.
const DECIDE_AFTER_MS = 3 * 60_000;

/** Size of a run, as the demo sets it up. */
export interface RunSize {
  /** Content changes per document per day (the simulator's Poisson rate). */
  changesPerDocPerDay: number;
  /** How far the services' ticks trail the last event (EVENT_SKEW): nothing is decided in that last stretch. */
  skewMs: number;
}

/**
 * Faults of the windowed checks (null rate, drift) that this run is too small or too short to decide, each with
 * the reason: fewer expected events per window than the contract's minimum, no full window before the fault for a
 * baseline, or no window that ends (and is decided) before the last event. An estimate from the simulator's rates
 * and the contracts — it tells the user what to enlarge; the scorecard still counts such faults as missed.
 */
export function undecidableWindowFaults(
  contracts: ContractSet,
  profiles: Readonly<Record<string, SystemProfile>>,
  meta: SimMeta,
  truth: readonly TruthEntry[],
  size: RunSize,
): Array<{ entry: TruthEntry; reason: string }> {
  const start = Date.parse(meta.start);
  const end = Date.parse(meta.end);
  const out: Array<{ entry: TruthEntry; reason: string }> = [];
  for (const entry of truth) {
    if (entry.optional) continue;
    const system = entry.subject.system;
    const docs = meta.systems.find((s) => s.system === system)?.docs ?? 0;
    const profile = profiles[system];
    if (!profile) continue;
    const totalWeight = profile.classes.reduce((sum, c) => sum + c.weight, 0) || 1;
    const share = (classes: readonly string[] | undefined) =>
      classes === undefined
        ? 1
        : profile.classes
            .filter((c) => classes.includes(c.name))
            .reduce((sum, c) => sum + c.weight, 0) / totalWeight;
    const perWindow = (windowMs: number, classShare: number) =>
      docs * size.changesPerDocPerDay * (windowMs / DAY) * classShare;
    let need: {
      name: string;
      windowMs: number;
      minSamples: number;
      expected: number;
      baseline: boolean;
    };
    if (entry.check === 'contract.null-rate') {
      const field = entry.subject.field;
      const limit = contracts.settingsFor(system)?.nullRates.find((l) => l.field === field);
      if (!limit) continue;
      // Decided per content class: the busiest class decides first.
      const best = Math.max(...profile.classes.map((c) => c.weight / totalWeight), 0);
      need = {
        name: `${field} null rate`,
        windowMs: limit.windowMs,
        minSamples: limit.minCount,
        expected: perWindow(limit.windowMs, best),
        baseline: false,
      };
    } else if (entry.check.startsWith('drift.')) {
      const kind = entry.check.slice('drift.'.length);
      const feature = contracts
        .driftFeatures(system)
        .find(
          (f) =>
            f.kind === kind &&
            (kind === 'volume' ||
              f.field === entry.subject.feature ||
              f.name === entry.subject.feature),
        );
      if (!feature) continue;
      const connectors =
        feature.kind === 'volume' && feature.by === 'connector' ? profile.connectors.length : 1;
      need = {
        name: feature.name,
        windowMs: feature.windowMs,
        minSamples: feature.minSamples,
        expected:
          perWindow(feature.windowMs, share(feature.contentClasses)) / Math.max(1, connectors),
        baseline: feature.baseline.mode === 'rolling',
      };
    } else {
      continue;
    }
    const injected = Date.parse(entry.injectedAt);
    const where = `${entry.check} on ${system} (${need.name}, ${fmt(need.windowMs)} windows)`;
    if (need.expected < need.minSamples * MARGIN)
      out.push({
        entry,
        reason: `${where}: needs ${need.minSamples} events per window, this run makes about ${Math.round(need.expected)}`,
      });
    else if (need.baseline && injected - start < need.windowMs)
      out.push({ entry, reason: `${where}: no full window before the fault to compare with` });
    else if (injected + need.windowMs + DECIDE_AFTER_MS > end - size.skewMs)
      out.push({
        entry,
        reason: `${where}: no window with the fault is decided before the run ends`,
      });
  }
  return out;
}

function fmt(ms: number): string {
  return ms % DAY === 0
    ? `${ms / DAY}d`
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000}h`
      : `${ms / 60_000}m`;
}
