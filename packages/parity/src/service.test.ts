import {
  noopMetrics,
  resolveTopics,
  stateTopic,
  type HandlerContext,
  type InputRecord,
} from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createParityService } from './service.js';
import { staticParitySettings } from './settings.js';
import { MINUTE, T0, chunksOf, deleted, indexed } from './test-helpers.js';

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

describe('createParityService', () => {
  it('declares its name, co-partitioned inputs and the recent-changes table on its own changelog', () => {
    const service = createParityService({ settings });
    expect(service.name).toBe('parity-verifier');
    expect(service.inputs).toEqual([
      'content.changes.v1',
      'sync.events.v1',
      'inventory.snapshots.v1',
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
    expect(
      later.map((r) => (JSON.parse(String(r.value)) as { data: { check: string } }).data.check),
    ).toEqual(['parity.delete-missed']);
    // And advance() flushes what a later time would fire.
    await service.handle(
      state,
      deleted({ docId: 'e', revision: 1, t: 10 * MINUTE }),
      record(topics.contentChanges),
      ctx(0),
    );
    expect(service.advance(state, T0 + 19 * MINUTE)).toEqual([]);
    expect(service.advance(state, T0 + 20 * MINUTE)).toHaveLength(1);
    expect(state.watermark).toBe(T0 + 10 * MINUTE);
  });
});
