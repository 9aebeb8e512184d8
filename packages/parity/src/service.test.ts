import {
  ConfigError,
  EnvelopeError,
  noopMetrics,
  resolveTopics,
  stateTopic,
  type HandlerContext,
  type InputEvent,
  type InputRecord,
  type OutputRecord,
} from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { FutureEventError } from './errors.js';
import { RecentChangesTable } from './recent.js';
import { createParityService, parityOptionsFromEnv } from './service.js';
import { staticParitySettings } from './settings.js';
import { ParityState } from './state.js';
import {
  HOUR,
  MINUTE,
  T0,
  at,
  chunksOf,
  deleted,
  indexed,
  removed,
  upserted,
} from './test-helpers.js';

const topics = resolveTopics();
const record = (topic: string): InputRecord => ({
  topic,
  partition: 0,
  offset: '0',
  timestamp: '0',
  key: null,
  value: null,
  headers: {},
});
const ctx = (now: number): HandlerContext => ({
  now,
  partition: 0,
  service: 'parity-verifier',
  topics,
  metrics: noopMetrics,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
});
const settings = staticParitySettings({ deleteSlaMs: 10 * MINUTE });
/** The checks of the finding records among outputs (mass-removal partials go to their own topic). */
const checks = (out: OutputRecord[]): string[] =>
  out
    .filter((r) => r.topic === topics.findings)
    .map((r) => (JSON.parse(String(r.value)) as { data: { check: string } }).data.check);

describe('createParityService', () => {
  it('declares its name, co-partitioned inputs and the recent-changes table on its own changelog', () => {
    const service = createParityService({ settings });
    expect(service.name).toBe('parity-verifier');
    expect(service.inputs).toEqual([
      'content.changes.v1',
      'sync.events.v1',
      'inventory.snapshots.v1',
      'tidemark.parity-verifier.mass-removal',
    ]);
    expect(service.tables?.map((t) => t.topic)).toEqual([stateTopic('parity-verifier')]);
    expect(createParityService({ settings, recentChanges: false }).tables).toBeUndefined();
  });

  it('handles events and fires deadlines on tick as finding records keyed by fingerprint', async () => {
    const service = createParityService({ settings });
    const state = service.createState(0);
    expect(
      await service.handle(
        state,
        deleted({ docId: 'd', revision: 1, t: 0 }),
        record(topics.contentChanges),
        ctx(T0),
      ),
    ).toEqual([]);
    expect(service.tick?.(state, ctx(T0 + 10 * MINUTE - 1))).toEqual([]);
    const [out] = service.tick?.(state, ctx(T0 + 10 * MINUTE)) ?? [];
    expect(out?.topic).toBe('dq.findings.v1');
    const event = JSON.parse(String(out?.value)) as {
      source: string;
      data: { check: string; fingerprint: string; traceparent: string };
    };
    expect(event.source).toBe('tidemark/parity-verifier');
    expect(event.data.check).toBe('parity.delete-missed');
    expect(out?.key).toBe(event.data.fingerprint);
    // The trace context of the deletion follows the finding fired later.
    expect(out?.headers).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(
      await service.handle(
        state,
        indexed({ docId: 'x', revision: 1, t: 0 }),
        record(topics.syncEvents),
        ctx(T0),
      ),
    ).toEqual([]);
    const chunks = chunksOf('source', 's', ['a'], 0);
    expect(
      await service.handle(state, chunks[0]!, record(topics.inventorySnapshots), ctx(T0)),
    ).toEqual([]);
  });

  it('on event time, the events themselves move deadlines forward (replay without ticks)', async () => {
    const service = createParityService({ settings, clock: 'event' });
    const state = service.createState(0);
    await service.handle(
      state,
      deleted({ docId: 'd', revision: 1, t: 0 }),
      record(topics.contentChanges),
      ctx(0),
    );
    const later = await service.handle(
      state,
      indexed({ docId: 'other', revision: 1, t: 10 * MINUTE }),
      record(topics.syncEvents),
      ctx(0),
    );
    expect(checks(later)).toEqual(['parity.delete-missed']);
    // And advance() flushes what a later time would fire.
    await service.handle(
      state,
      deleted({ docId: 'e', revision: 1, t: 10 * MINUTE }),
      record(topics.contentChanges),
      ctx(0),
    );
    expect(service.advance(state, T0 + 19 * MINUTE)).toEqual([]);
    expect(checks(service.advance(state, T0 + 20 * MINUTE))).toEqual(['parity.delete-missed']);
    expect(state.watermark).toBe(T0 + 10 * MINUTE);
  });
});

// The runtime's event-time mode hands a handler `now` = the newest record time of the partition over all its topics,
// while ticks trail the slowest topic. A partition's content and sync topics arrive in separate batches, so a handler
// may run with a `now` that the other topic has not been read up to: a deadline fired there is decided on half the
// facts. Ticks alone fire deadlines; a handler only schedules and resolves.
describe('handlers never fire a deadline ahead of the slowest topic (the handler-deadline blip)', () => {
  const SLA = 10 * MINUTE;
  // Per case: the document's content events, its sync events read early, and the sync event that settles it 5 s
  // before its deadline — read only after a content record of another document 5 s past the deadline.
  it.each([
    [
      'delete',
      [deleted({ docId: 'd', revision: 1, t: 0 })],
      [],
      removed({ docId: 'd', revision: 1, t: SLA - 5_000 }),
    ],
    [
      'acl',
      [upserted({ docId: 'd', revision: 1, t: 0, aclHash: 'new' })],
      [indexed({ docId: 'd', revision: 1, t: 0, aclHash: 'old' })],
      indexed({ docId: 'd', revision: 1, t: SLA - 5_000, aclHash: 'new' }),
    ],
  ])(
    '%s: a content record past the deadline, read before the sync record that settles it, fires nothing',
    async (_kind, content: InputEvent[], early: InputEvent[], settle: InputEvent) => {
      const service = createParityService({
        settings: staticParitySettings({ deleteSlaMs: SLA, aclSlaMs: SLA }),
      });
      const state = service.createState(0);
      const out: OutputRecord[] = [];
      const handle = async (event: InputEvent, topic: string, now: number) =>
        out.push(...(await service.handle(state, event, record(topic), ctx(now))));
      for (const e of content) await handle(e, topics.contentChanges, T0);
      for (const e of early) await handle(e, topics.syncEvents, T0);
      const ahead = T0 + SLA + 5_000;
      await handle(
        upserted({ docId: 'other', revision: 1, t: SLA + 5_000 }),
        topics.contentChanges,
        ahead,
      );
      await handle(settle, topics.syncEvents, ahead);
      // Ticks trail the slowest topic: the sync topic's time before the settling record, then past the deadline.
      out.push(...(service.tick?.(state, ctx(T0 + SLA - 5_000)) ?? []));
      out.push(...(service.tick?.(state, ctx(ahead)) ?? []));
      expect(checks(out)).toEqual([]);
    },
  );

  it('the tick still fires the deadline when nothing settles it', async () => {
    const service = createParityService({ settings: staticParitySettings({ deleteSlaMs: SLA }) });
    const state = service.createState(0);
    await service.handle(
      state,
      deleted({ docId: 'd', revision: 1, t: 0 }),
      record(topics.contentChanges),
      ctx(T0),
    );
    expect(
      await service.handle(
        state,
        upserted({ docId: 'other', revision: 1, t: SLA + 5_000 }),
        record(topics.contentChanges),
        ctx(T0 + SLA + 5_000),
      ),
    ).toEqual([]);
    const fired = service.tick?.(state, ctx(T0 + SLA)) ?? [];
    expect(checks(fired)).toEqual(['parity.delete-missed']);
  });
});

describe('mass removal through the partials topic', () => {
  it('a tick sends partials keyed by system; the decider decodes them and fires one finding for the system', async () => {
    const mass = staticParitySettings({
      massRemoval: { share: 0.5, windowMs: 10 * MINUTE, minDocuments: 4 },
    });
    const service = createParityService({ settings: mass });
    const partials = 'tidemark.parity-verifier.mass-removal';
    const states = [service.createState(0), service.createState(1)];
    const docs = ['a', 'b', 'c', 'd', 'e', 'f'];
    // Documents spread over two partitions; each partition's first tick reports what it holds.
    for (const [i, d] of docs.entries()) {
      await service.handle(
        states[i % 2]!,
        indexed({ docId: d, revision: 1, t: 0 }),
        record(topics.syncEvents),
        ctx(T0),
      );
    }
    const sent = states.flatMap((s) => service.tick?.(s, ctx(T0)) ?? []);
    expect(sent.map((r) => [r.topic, r.key])).toEqual([
      [partials, 'wiki'],
      [partials, 'wiki'],
    ]);
    for (const [i, d] of docs.slice(0, 5).entries()) {
      await service.handle(
        states[i % 2]!,
        removed({ docId: d, revision: 1, t: MINUTE }),
        record(topics.syncEvents),
        ctx(T0 + MINUTE),
      );
    }
    sent.push(...states.flatMap((s) => service.tick?.(s, ctx(T0 + MINUTE)) ?? []));
    // The decider: whichever partition owns the key `wiki` on the partials topic (here 1).
    const out: OutputRecord[] = [];
    for (const r of sent) {
      const rec = { ...record(partials), key: r.key, value: Buffer.from(String(r.value)) };
      const event = await service.decode!(rec);
      out.push(...(await service.handle(states[1]!, event, rec, ctx(T0 + MINUTE))));
    }
    expect(checks(out)).toEqual(['parity.mass-removal']);
    const finding = JSON.parse(String(out[0]?.value)) as {
      data: { subject: unknown; evidence: unknown };
    };
    expect(finding.data.subject).toEqual({ system: 'wiki' });
    expect(finding.data.evidence).toMatchObject({
      count: 5,
      known: 6,
      partitions: 2,
      connector: 'wiki-prod',
    });
  });

  it('a record on the partials topic that is no partial is an EnvelopeError (dead-lettered)', () => {
    const service = createParityService({ settings });
    const rec = {
      ...record('tidemark.parity-verifier.mass-removal'),
      value: Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: 'x',
          source: 's',
          type: 'tidemark.parity.mass-partial',
          time: at(0),
          data: { system: 'wiki' },
        }),
      ),
    };
    expect(() => service.decode!(rec)).toThrow(EnvelopeError);
  });
});

// Issue 12: one record dated 2099 (a producer with a broken clock) must not break parity for everyone.
describe('MAX_FUTURE_SKEW', () => {
  const now = T0 + 10 * MINUTE;
  it.each([
    { name: 'exactly MAX_FUTURE_SKEW ahead', t: 10 * MINUTE + HOUR, rejected: false },
    { name: '1 ms more', t: 10 * MINUTE + HOUR + 1, rejected: true },
    { name: 'dated 2099', t: Date.UTC(2099, 0, 1) - T0, rejected: true },
  ])(
    'an event $name of the partition’s watermark and clock: rejected $rejected',
    async ({ t, rejected }) => {
      const service = createParityService({ settings });
      const state = service.createState(0);
      await service.handle(
        state,
        indexed({ docId: 'a', revision: 1, t: 10 * MINUTE }),
        record(topics.syncEvents),
        ctx(now),
      );
      state.drainChanges();
      const handle = () =>
        service.handle(
          state,
          deleted({ docId: 'late', revision: 1, t }),
          record(topics.contentChanges),
          ctx(now),
        );
      if (!rejected) {
        await handle();
        expect(state.watermark).toBe(T0 + t);
        return;
      }
      let caught: unknown;
      try {
        await handle();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FutureEventError);
      expect((caught as FutureEventError).retriable).toBe(false);
      expect((caught as FutureEventError).message).toMatch(
        /^content\.deleted event e\d+ is dated .* ahead of the partition's watermark and clock \(2026-01-01T00:10:00\.000Z\): more than MAX_FUTURE_SKEW \(1h\); a producer clock is wrong$/,
      );
      // It moved nothing: no watermark, no ledger entry, no changelog entry.
      expect(state.watermark).toBe(now);
      expect(state.docs.has(ParityState.docKey('wiki', 'late'))).toBe(false);
      expect(state.drainChanges()).toEqual([]);
    },
  );

  it('accepts the first event after hours of silence: the host clock moved on with it', async () => {
    const service = createParityService({ settings });
    const state = service.createState(0);
    await service.handle(
      state,
      indexed({ docId: 'a', revision: 1, t: 0 }),
      record(topics.syncEvents),
      ctx(T0),
    );
    const later = indexed({ docId: 'b', revision: 1, t: 5 * HOUR });
    await service.handle(state, later, record(topics.syncEvents), ctx(T0 + 5 * HOUR));
    expect(state.watermark).toBe(T0 + 5 * HOUR);
  });

  it('keeps the recent-changes table intact for every other document', async () => {
    const table = new RecentChangesTable({ horizonMs: HOUR });
    const service = createParityService({ settings, recentChanges: table });
    const state = service.createState(0);
    await service.handle(
      state,
      indexed({ docId: 'a', revision: 1, t: 0 }),
      record(topics.syncEvents),
      ctx(T0),
    );
    expect(() =>
      service.handle(
        state,
        indexed({ docId: 'b', revision: 1, t: Date.UTC(2099, 0, 1) - T0 }),
        record(topics.syncEvents),
        ctx(T0),
      ),
    ).toThrow(FutureEventError);
    for (const change of state.drainChanges()) table.apply(change.key, change.value);
    expect(table.lookup('wiki', 'a')).toBe(T0);
    expect(table.lookup('wiki', 'b')).toBeUndefined();
  });

  it('on clock event, weighs against the watermark alone', async () => {
    const service = createParityService({ settings, clock: 'event', maxFutureSkewMs: HOUR });
    const state = service.createState(0);
    await service.handle(
      state,
      indexed({ docId: 'a', revision: 1, t: 0 }),
      record(topics.syncEvents),
      ctx(0),
    );
    expect(() =>
      service.handle(
        state,
        indexed({ docId: 'b', revision: 1, t: 2 * HOUR }),
        record(topics.syncEvents),
        ctx(0),
      ),
    ).toThrow(FutureEventError);
  });

  it('is configurable from MAX_FUTURE_SKEW, and a bad value names the variable', () => {
    expect(parityOptionsFromEnv({ MAX_FUTURE_SKEW: '2h' })).toEqual({ maxFutureSkewMs: 2 * HOUR });
    expect(parityOptionsFromEnv({})).toEqual({});
    expect(() => parityOptionsFromEnv({ MAX_FUTURE_SKEW: 'soon' })).toThrow(ConfigError);
    expect(() => parityOptionsFromEnv({ MAX_FUTURE_SKEW: 'soon' })).toThrow(
      'MAX_FUTURE_SKEW not a duration: "soon"',
    );
  });
});
