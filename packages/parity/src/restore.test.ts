import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding, InputEvent } from '@tidemark/core';
import {
  HOUR,
  Harness,
  MINUTE,
  chunksOf,
  deleted,
  indexed,
  removed,
  upserted,
} from './test-helpers.js';

const SETTINGS = {
  deleteSlaMs: 10 * MINUTE,
  aclSlaMs: 5 * MINUTE,
  syncLagMs: 10 * MINUTE,
  massRemoval: { share: 0.5, windowMs: 10 * MINUTE, minDocuments: 2 },
  snapshotExpiryMs: 30 * MINUTE,
  ledgerRetentionMs: HOUR,
};

// One step of a timeline: an event at a time, or a tick.
const docId = fc.constantFrom('a', 'b', 'c', 'd');
const step = fc.oneof(
  fc.record({
    kind: fc.constantFrom('upserted', 'deleted', 'indexed', 'removed'),
    docId,
    revision: fc.nat(4),
    acl: fc.constantFrom(undefined, 'A', 'B'),
    dt: fc.nat(8 * MINUTE),
  }),
  fc.record({
    kind: fc.constant('inventory'),
    side: fc.constantFrom('source', 'index'),
    ids: fc.subarray(['a', 'b', 'c', 'd', 'x']),
    dt: fc.nat(8 * MINUTE),
  }),
  fc.record({ kind: fc.constant('tick'), dt: fc.nat(20 * MINUTE) }),
);

type Step = {
  kind: string;
  dt: number;
  docId?: string;
  revision?: number;
  acl?: string | undefined;
  side?: string;
  ids?: string[];
};

/** Runs a timeline, restarting from the changelog before the steps listed in `restartAt`. */
function run(steps: Step[], restartAt: Set<number>): string[] {
  const h = new Harness(SETTINGS);
  const log = new Map<string, Buffer | null>();
  const out: Finding[] = [];
  let t = 0;
  steps.forEach((s, i) => {
    if (restartAt.has(i)) h.restart(log);
    t += s.dt;
    h.clock.set(h.clock.now() + s.dt);
    if (s.kind === 'tick') {
      out.push(...h.tickAt(t));
      return;
    }
    let events: InputEvent[];
    if (s.kind === 'inventory') {
      events = chunksOf(s.side as 'source' | 'index', `${s.side}-${i}`, s.ids ?? [], t, 2);
      // Deliver the last chunk first: assembly must not care.
      events = [...events.slice(-1), ...events.slice(0, -1)];
    } else {
      const args = {
        docId: s.docId as string,
        revision: s.revision as number,
        t,
        ...(s.acl ? { aclHash: s.acl } : {}),
      };
      const make = { upserted, deleted, indexed, removed }[s.kind as 'upserted'];
      events = [make(args)];
    }
    out.push(...h.handle(...events));
  });
  out.push(...h.tickAt(t + 2 * HOUR));
  return out.map((f) => `${f.observedAt} ${f.status} ${f.check} ${f.fingerprint}`);
}

describe('restart from the changelog', () => {
  it('gives the same findings as an uninterrupted run, at any restart points (property)', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(40), { maxLength: 4 }),
        (steps, restarts) => {
          expect(run(steps as Step[], new Set(restarts))).toEqual(run(steps as Step[], new Set()));
        },
      ),
      { numRuns: 200 },
    );
  });
});
