// The shadow candidate's tally on a partition: each revision judged by both contracts is counted into the
// system's period (closing an ended one first), and an ended period becomes a `contract.shadow-diff` finding.
// The pure tally itself is in shadow.ts; this is where it meets the partition's state, the metrics and the output.
import type { HandlerContext, OutputRecord } from '@tidemark/core';
import { emit, type CheckerContext } from './context.js';
import type { Violation } from './evaluate.js';
import { ownerOf } from './findings.js';
import {
  SHADOW_DIFFS_METRIC,
  SHADOW_REVISIONS_METRIC,
  SHADOW_VIOLATIONS_METRIC,
} from './metrics.js';
import { closeShadowDiff, compareViolations, countShadowDiff } from './shadow.js';
import type { ContractCheckerState } from './state.js';

/** Tallies one revision's two verdicts (closing an ended period first) and counts them in the shadow metrics. */
export function compareWithCandidate(
  checker: CheckerContext,
  state: ContractCheckerState,
  system: string,
  enforced: readonly Violation[],
  candidate: readonly Violation[],
  ctx: HandlerContext,
): OutputRecord[] {
  const out = closeShadow(checker, state, system, ctx);
  const comparisons = compareViolations(enforced, candidate);
  state.shadowDiffs.set(
    system,
    countShadowDiff(
      state.shadowDiffs.get(system),
      comparisons,
      ctx.now,
      checker.shadowDiffPeriodMs,
    ),
  );
  ctx.metrics.record(SHADOW_REVISIONS_METRIC, { system }, 1);
  for (const c of comparisons)
    ctx.metrics.record(
      SHADOW_VIOLATIONS_METRIC,
      { system, check: c.check, rule: c.key, side: c.side },
      1,
    );
  return out;
}

/** Emits the shadow diff of a system whose period ended by `ctx.now`, keeping or dropping its tally. */
export function closeShadow(
  checker: CheckerContext,
  state: ContractCheckerState,
  system: string,
  ctx: HandlerContext,
): OutputRecord[] {
  const { contracts } = checker;
  const tally = state.shadowDiffs.get(system);
  if (tally === undefined) return [];
  const closed = closeShadowDiff(tally, ctx.now, {
    system,
    partition: ctx.partition,
    enforced: contracts.contractRef(system),
    candidate: contracts.shadowSettingsFor(system)?.contract,
    owner: ownerOf(contracts.settingsFor(system), undefined),
  });
  if (closed.entry === undefined) state.shadowDiffs.delete(system);
  else if (closed.entry !== tally) state.shadowDiffs.set(system, closed.entry);
  if (closed.finding)
    ctx.metrics.record(SHADOW_DIFFS_METRIC, { system, status: closed.finding.status }, 1);
  return closed.finding ? [emit(checker, closed.finding, ctx)] : [];
}

/** Closes the ended period of every system this partition tallies (on each tick). */
export function closeShadowDiffs(
  checker: CheckerContext,
  state: ContractCheckerState,
  ctx: HandlerContext,
): OutputRecord[] {
  const out: OutputRecord[] = [];
  for (const system of [...state.shadowDiffs.keys()])
    out.push(...closeShadow(checker, state, system, ctx));
  return out;
}
