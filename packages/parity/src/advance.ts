// Deadlines: the host's tick (every input read up to `now`) fires what is due — delete and ACL SLAs, ledger
// retention, mass-removal re-checks and snapshot expiry. Only here is a deadline decided to have passed unmet.
import type { Finding } from '@tidemark/core';
import { aclDue } from './acl.js';
import type { ParityContext } from './context.js';
import { deleteDue } from './delete.js';
import { evaluateLocalBurst } from './mass-removal.js';
import { expireSnapshot } from './snapshots.js';
import type { ParityState, SystemRecord } from './state.js';

/**
 * Fires every deadline due at or before `ctx.now`: delete and ACL SLAs, ledger retention, mass-removal
 * re-checks and snapshot expiry. Cost grows with the number due, not with the ledger size.
 */
export function advanceParity(state: ParityState, ctx: ParityContext): Finding[] {
  const out: Finding[] = [];
  for (;;) {
    const next = state.nextDue(ctx.now);
    if (!next) return out;
    for (const deadline of next.deadlines) {
      // Handling one deadline may settle another of the same moment.
      if (state.dueOf(deadline) !== next.due) continue;
      switch (deadline.kind) {
        case 'delete':
          out.push(...deleteDue(state, deadline.key, ctx));
          break;
        case 'acl':
          out.push(...aclDue(state, deadline.key, ctx));
          break;
        case 'forget':
          state.forgetDoc(deadline.key);
          break;
        case 'mass': {
          const sys = state.systems.get(deadline.key) as SystemRecord;
          delete sys.recheckAt;
          evaluateLocalBurst(state, sys, ctx.now, ctx.settings(sys.system));
          break;
        }
        case 'expiry':
          out.push(...expireSnapshot(state, deadline.key, ctx));
          break;
      }
    }
  }
}
