// Reconciliation of a system's latest complete source and index snapshots: documents only in the index
// (`parity.orphan`) and only in the source (`parity.missing`), leaving out those in flight; one summary finding per
// kind and per-document findings up to the cap, withheld while the system's mass removal fires.
import { formatTime, type Finding } from '@tidemark/core';
import type { ParityContext } from './context.js';
import { PARITY_CHECKS, parityFinding } from './findings.js';
import { diffInventories } from './inventory-diff.js';
import { ParityState, type DocRecord, type ReconRecord, type SnapshotRecord } from './state.js';

/** Whether a mass removal burst was seen for the system close enough to the snapshots to explain their gap. */
function massSuppressed(state: ParityState, system: string, since: number): boolean {
  const sys = state.systems.get(system);
  return (
    sys !== undefined && (sys.firing !== undefined || (sys.lastFiringAt ?? -Infinity) >= since)
  );
}

/**
 * Compares a system's latest complete source and index snapshots. Documents that changed within their
 * SLA of the snapshots (per the local ledger and `ctx.inFlight`) are in flight and left out. Emits one
 * summary finding per kind (re-emitted when its count changes) and per-document findings up to the cap;
 * while the system's mass removal fires, only the summaries are emitted.
 */
export function reconcile(
  state: ParityState,
  source: SnapshotRecord,
  index: SnapshotRecord,
  ctx: ParityContext,
): Finding[] {
  const system = source.system;
  const s = ctx.settings(system);
  const diff = diffInventories(state.inventory(source), state.inventory(index));
  const early = Math.min(source.takenAt, index.takenAt);
  const late = Math.max(source.takenAt, index.takenAt);
  const lastChange = (docId: string): { at: number | undefined; rec: DocRecord | undefined } => {
    const rec = state.docs.get(ParityState.docKey(system, docId));
    const local = rec ? Math.max(rec.sourceAt, rec.indexAt, rec.removedAt) : undefined;
    const remote = ctx.inFlight?.(system, docId);
    const at =
      local === undefined ? remote : remote === undefined ? local : Math.max(local, remote);
    return { at, rec };
  };
  const settle = (
    ids: string[],
    kind: 'orphan' | 'missing',
  ): { kept: string[]; inFlight: number } => {
    const kept: string[] = [];
    let inFlight = 0;
    for (const id of ids) {
      const { at, rec } = lastChange(id);
      if (at !== undefined) {
        const ds = rec ? ctx.settings(system, rec.contentClass) : s;
        const sla = kind === 'orphan' ? ds.deleteSlaMs : ds.syncLagMs;
        // Changed between the snapshots, or too recently before the later one for the index to follow.
        if (at > early || at + sla > late) {
          inFlight++;
          continue;
        }
      }
      kept.push(id);
    }
    return { kept, inFlight };
  };
  const orphan = settle(diff.orphans, 'orphan');
  const missing = settle(diff.missing, 'missing');
  const suppressed = massSuppressed(state, system, early - s.massRemoval.windowMs);
  const recon = state.recon(system);
  const context = {
    sourceSnapshot: source.snapshotId,
    indexSnapshot: index.snapshotId,
    sourceTakenAt: formatTime(source.takenAt),
    indexTakenAt: formatTime(index.takenAt),
  };
  const out = [
    ...reconcileKind(state, recon, 'orphan', orphan, diff, context, suppressed, ctx),
    ...reconcileKind(state, recon, 'missing', missing, diff, context, suppressed, ctx),
  ];
  recon.last = { source: source.snapshotId, index: index.snapshotId, at: ctx.now };
  state.touch(ParityState.reconKey(system));
  return out;
}

function reconcileKind(
  state: ParityState,
  recon: ReconRecord,
  kind: 'orphan' | 'missing',
  found: { kept: string[]; inFlight: number },
  diff: { sourceCount: number; indexCount: number; collisions: number },
  context: Record<string, string>,
  suppressed: boolean,
  ctx: ParityContext,
): Finding[] {
  const system = recon.system;
  const s = ctx.settings(system);
  const check = kind === 'orphan' ? PARITY_CHECKS.orphan : PARITY_CHECKS.missing;
  const ids = found.kept;
  const out: Finding[] = [];
  const phrase =
    kind === 'orphan'
      ? 'documents in the index that the source no longer has'
      : 'source documents missing from the index';

  // Per-document findings: keep those still found, add new ones (hash order) up to the cap.
  const previous = recon.docs[kind];
  const previousSet = new Set(previous);
  const still = new Set<string>();
  for (const id of ids) if (previousSet.has(id)) still.add(id);
  const next = previous.filter((id) => still.has(id));
  if (!suppressed) {
    for (const id of ids) {
      if (next.length >= s.maxDocumentFindings) break;
      if (!previousSet.has(id)) next.push(id);
    }
  }
  const docFindingFor = (docId: string, status: 'firing' | 'resolved'): Finding => {
    const rec = state.docs.get(ParityState.docKey(system, docId));
    const ds = ctx.settings(system, rec?.contentClass);
    return parityFinding({
      check,
      status,
      subject: {
        system,
        docId,
        ...(rec?.contentClass ? { contentClass: rec.contentClass } : {}),
      },
      identity: { system, docId },
      settings: ds,
      now: ctx.now,
      summary:
        status === 'resolved'
          ? `${system}/${docId} is no longer ${kind === 'orphan' ? 'an orphan in the index' : 'missing from the index'}`
          : kind === 'orphan'
            ? `${system}/${docId} is in the index but not in the source inventory`
            : `${system}/${docId} is in the source inventory but not in the index`,
      evidence: { ...context },
      classification: rec?.classification,
    });
  };
  for (const id of previous) if (!still.has(id)) out.push(docFindingFor(id, 'resolved'));
  for (const id of next) if (!previousSet.has(id)) out.push(docFindingFor(id, 'firing'));
  recon.docs[kind] = next;

  const count = ids.length;
  const before = recon.summary[kind];
  if (count > 0 && before !== count) {
    recon.summary[kind] = count;
    out.push(
      parityFinding({
        check,
        status: 'firing',
        subject: { system },
        settings: s,
        now: ctx.now,
        summary: `${count} ${system} ${phrase}${suppressed ? ' (during a mass removal: per-document findings withheld)' : ''}`,
        evidence: {
          count,
          sample: ids.slice(0, s.sampleSize),
          inFlightExcluded: found.inFlight,
          sourceCount: diff.sourceCount,
          indexCount: diff.indexCount,
          perDocumentFindings: next.length,
          perDocumentCap: s.maxDocumentFindings,
          ...(suppressed ? { suppressedBy: PARITY_CHECKS.massRemoval } : {}),
          ...context,
        },
      }),
    );
  } else if (count === 0 && before !== undefined) {
    delete recon.summary[kind];
    out.push(
      parityFinding({
        check,
        status: 'resolved',
        subject: { system },
        settings: s,
        now: ctx.now,
        summary: `no ${system} ${phrase} any more`,
        evidence: {
          count: 0,
          inFlightExcluded: found.inFlight,
          sourceCount: diff.sourceCount,
          indexCount: diff.indexCount,
          ...context,
        },
      }),
    );
  }
  return out;
}
