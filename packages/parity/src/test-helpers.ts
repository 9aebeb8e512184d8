// Builders of input events and a small harness, shared by this package's tests.
import { ManualClock, type Finding, type InputEvent } from '@tidemark/core';
import { advanceParity } from './advance.js';
import type { InFlightLookup } from './context.js';
import { applyContentEvent, applySyncEvent } from './ledger.js';
import type { IdHasher } from './inventory-diff.js';
import {
  applyMassPartial,
  collectMassPartials,
  massPartialEvent,
  type MassPartial,
} from './mass-removal.js';
import { staticParitySettings, type ParitySettingsOverrides } from './settings.js';
import { applyInventoryChunk } from './snapshots.js';
import { ParityState } from './state.js';

/** 2026-01-01T00:00:00Z, the start of every test timeline. */
export const T0 = Date.UTC(2026, 0, 1);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** RFC 3339 text of T0 + ms. */
export const at = (ms: number): string => new Date(T0 + ms).toISOString();

let seq = 0;
const base = (type: string, time: number, subject?: string) => ({
  specversion: '1.0' as const,
  id: `e${++seq}`,
  source: 'test',
  type,
  time: at(time),
  ...(subject ? { subject } : {}),
});

interface DocArgs {
  docId: string;
  revision: number;
  t: number;
  system?: string;
  aclHash?: string;
  contentClass?: string;
  classification?: string;
}

/** A content.upserted event. */
export function upserted(a: DocArgs): InputEvent {
  const system = a.system ?? 'wiki';
  return {
    ...base('content.upserted', a.t, `${system}/${a.docId}`),
    type: 'content.upserted',
    data: {
      system,
      docId: a.docId,
      revision: a.revision,
      contentClass: a.contentClass ?? 'policy',
      title: `title of ${a.docId}`,
      ...(a.aclHash ? { aclHash: a.aclHash } : {}),
      ...(a.classification ? { classification: a.classification } : {}),
    },
  };
}

/** A content.deleted event. */
export function deleted(a: DocArgs): InputEvent {
  const system = a.system ?? 'wiki';
  return {
    ...base('content.deleted', a.t, `${system}/${a.docId}`),
    type: 'content.deleted',
    data: { system, docId: a.docId, revision: a.revision },
  };
}

/** An index.upserted event. */
export function indexed(a: DocArgs): InputEvent {
  const system = a.system ?? 'wiki';
  return {
    ...base('index.upserted', a.t, `${system}/${a.docId}`),
    type: 'index.upserted',
    data: {
      connector: `${system}-prod`,
      system,
      docId: a.docId,
      revision: a.revision,
      sourceTime: at(a.t),
      ...(a.aclHash ? { aclHash: a.aclHash } : {}),
    },
  };
}

/** An index.removed event. */
export function removed(a: DocArgs): InputEvent {
  const system = a.system ?? 'wiki';
  return {
    ...base('index.removed', a.t, `${system}/${a.docId}`),
    type: 'index.removed',
    data: {
      connector: `${system}-prod`,
      system,
      docId: a.docId,
      revision: a.revision,
      sourceTime: at(a.t),
    },
  };
}

/** One inventory.snapshot chunk. */
export function chunk(a: {
  side: 'source' | 'index';
  snapshotId: string;
  chunk: number;
  chunks: number;
  docIds: string[];
  t: number;
  system?: string;
}): InputEvent {
  return {
    ...base('inventory.snapshot', a.t),
    type: 'inventory.snapshot',
    data: {
      system: a.system ?? 'wiki',
      side: a.side,
      snapshotId: a.snapshotId,
      chunk: a.chunk,
      chunks: a.chunks,
      docIds: a.docIds,
    },
  };
}

/** All chunks of one snapshot, `size` ids each. */
export function chunksOf(
  side: 'source' | 'index',
  snapshotId: string,
  docIds: string[],
  t: number,
  size = 2,
  system = 'wiki',
): InputEvent[] {
  const n = Math.max(1, Math.ceil(docIds.length / size));
  return Array.from({ length: n }, (_, c) =>
    chunk({
      side,
      snapshotId,
      chunk: c,
      chunks: n,
      docIds: docIds.slice(c * size, (c + 1) * size),
      t,
      system,
    }),
  );
}

/** A parity partition driven by a ManualClock, as the service would drive it. */
export class Harness {
  readonly clock = new ManualClock(T0);
  readonly settings;
  state: ParityState;
  inFlight: InFlightLookup | undefined;

  constructor(
    overrides: ParitySettingsOverrides = {},
    options: { partition?: number; hasher?: IdHasher } = {},
  ) {
    this.settings = staticParitySettings(overrides);
    this.state = new ParityState(
      options.partition ?? 0,
      options.hasher ? { hasher: options.hasher } : {},
    );
  }

  /** Handles events at the clock's current time (handlers never fire deadlines; `tickAt` does). */
  handle(...events: InputEvent[]): Finding[] {
    const out: Finding[] = [];
    for (const event of events) {
      const ctx = this.ctx();
      if (event.type === 'content.upserted' || event.type === 'content.deleted') {
        out.push(...applyContentEvent(this.state, event, ctx));
      } else if (event.type === 'inventory.snapshot') {
        out.push(...applyInventoryChunk(this.state, event, ctx));
      } else {
        out.push(...applySyncEvent(this.state, event, ctx));
      }
    }
    return out;
  }

  /**
   * Handles each event with the clock set to its own time, then ticks there: a live pipeline without lag, whose every
   * topic is read up to that time.
   */
  live(...events: InputEvent[]): Finding[] {
    return events.flatMap((event) => {
      this.clock.set(Date.parse(event.time));
      return [...this.handle(event), ...advanceParity(this.state, this.ctx())];
    });
  }

  /** Moves the clock to T0 + ms and fires what is due. */
  tickAt(ms: number): Finding[] {
    this.clock.set(T0 + ms);
    return advanceParity(this.state, this.ctx());
  }

  ctx() {
    return {
      settings: this.settings,
      now: this.clock.now(),
      ...(this.inFlight ? { inFlight: this.inFlight } : {}),
    };
  }

  /** Restores a fresh state of the same partition from everything drained so far plus `log`. */
  restart(log: Map<string, Buffer | null>): void {
    for (const change of this.state.drainChanges()) log.set(change.key, change.value);
    const next = new ParityState(this.state.partition, { hasher: this.state.hasher });
    for (const [key, value] of log) next.restore(key, value);
    this.state = next;
  }
}

/** Short view of findings for assertions: "status check subject". */
export function brief(findings: Finding[]): string[] {
  return findings.map(
    (f) =>
      `${f.status} ${f.check} ${f.subject.docId ? `${f.subject.system}/${f.subject.docId}` : f.subject.system}`,
  );
}

/**
 * Several partitions of one parity-verifier and the decider of the system `wiki` (partition 0, which owns the key on
 * the partials topic), wired as the host wires them: each tick collects every partition's partials and delivers them,
 * in partition order, to the decider.
 */
export class Cluster {
  readonly parts: Harness[];
  constructor(n: number, overrides: ParitySettingsOverrides = {}) {
    this.parts = Array.from({ length: n }, (_, p) => new Harness(overrides, { partition: p }));
  }

  /** The partition that owns a document: round robin over the number in its id (`doc-<n>`). */
  owner(docId: string): Harness {
    return this.parts[Number(docId.split('-').at(-1)) % this.parts.length] as Harness;
  }

  /** Handles each event on its document's partition, at that partition's clock. */
  handle(...events: InputEvent[]): Finding[] {
    return events.flatMap((e) =>
      this.owner(String(e.data['docId' as keyof typeof e.data])).handle(e),
    );
  }

  /** Ticks every partition at T0 + ms, then delivers the partials owed to the decider; returns every finding. */
  tickAt(ms: number): Finding[] {
    const out: Finding[] = [];
    const partials = [];
    for (const h of this.parts) {
      out.push(...h.tickAt(ms));
      partials.push(...collectMassPartials(h.state, h.ctx()));
    }
    out.push(...this.deliver(partials));
    return out;
  }

  /** Delivers partials to the decider (partition 0). */
  deliver(partials: MassPartial[]): Finding[] {
    const decider = this.parts[0] as Harness;
    return partials.flatMap((p) =>
      applyMassPartial(decider.state, massPartialEvent(p, 'parity-verifier'), decider.ctx()),
    );
  }
}
