// The tick's part of null rates: close this partition's ended windows into partials (re-keyed to the partition
// that merges them), and turn the decided windows of the merged counts into `contract.null-rate` findings.
// Counting and merging are in null-rate.ts.
import {
  buildFinding,
  formatTime,
  type Finding,
  type HandlerContext,
  type OutputRecord,
} from '@tidemark/core';
import { emit, type CheckerContext } from './context.js';
import { ownerOf } from './findings.js';
import { closeNullRateWindows, decideNullRates, partialSeverity } from './null-rate.js';
import { asCandidateFinding } from './shadow.js';
import type { ContractCheckerState } from './state.js';

/** The partials of the windows ended by `now` (or the watermark), then the findings of the windows decided. */
export function nullRateTick(
  checker: CheckerContext,
  state: ContractCheckerState,
  ctx: HandlerContext,
): OutputRecord[] {
  const { contracts } = checker;
  const now = ctx.now;
  const out: OutputRecord[] = [];
  const partials = closeNullRateWindows(
    state,
    Math.max(now, state.watermark),
    (system, cls, field, candidate) =>
      (candidate
        ? contracts.shadowSettingsFor(system, cls || undefined)
        : contracts.settingsFor(system, cls || undefined)
      )?.nullRates.find((l) => l.field === field),
    (system, candidate) =>
      candidate ? contracts.shadowSettingsFor(system)?.contract : contracts.contractRef(system),
    checker.name,
  );
  out.push(...partials);
  for (const verdict of decideNullRates(state, now)) {
    const { partial, counts } = verdict;
    const cls = partial.contentClass || undefined;
    const settings =
      (partial.candidate ? contracts.shadowSettingsFor(partial.system, cls) : undefined) ??
      contracts.settingsFor(partial.system, cls);
    const finish = partial.candidate ? asCandidateFinding : (f: Finding) => f;
    const rate = counts[0] === 0 ? 0 : counts[1] / counts[0];
    out.push(
      emit(
        checker,
        finish(
          buildFinding({
            check: 'contract.null-rate',
            status: verdict.status,
            severity: partialSeverity(partial),
            subject: {
              system: partial.system,
              ...(partial.contentClass ? { contentClass: partial.contentClass } : {}),
              field: partial.field,
            },
            owner: ownerOf(settings, undefined),
            summary: `${partial.system}${partial.contentClass ? `/${partial.contentClass}` : ''}: ${(rate * 100).toFixed(1)}% of documents have no ${partial.field} (limit ${(partial.threshold * 100).toFixed(1)}%)`,
            evidence: {
              field: partial.field,
              observed: Number(rate.toFixed(6)),
              threshold: partial.threshold,
              count: counts[0],
              nulls: counts[1],
              window: {
                start: formatTime(verdict.windowStart),
                end: formatTime(verdict.windowStart + partial.windowMs),
              },
            },
            observedAt: formatTime(verdict.windowStart + partial.windowMs),
            contract: partial.contract,
            ...(partial.shadow ? { shadow: true } : {}),
          }),
        ),
        ctx,
      ),
    );
  }
  return out;
}
