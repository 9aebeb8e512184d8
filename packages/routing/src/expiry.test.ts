import { envelopeInvalidFinding, formatTime, parseTime } from '@tidemark/core';
import type { Finding, InputRecord } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import { createRouter, entriesOf } from './router.js';
import type { RouterOutput } from './router.js';
import { RouterState } from './state.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

const CONFIG = parseRoutingConfig(
  `
route:
  receiver: ops
  group_by: [system, check]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 4h
receivers: [{ name: ops }]
`,
  'routing.yml',
);

const record = (offset: number, topic = 'content.changes.v1'): InputRecord => ({
  topic,
  partition: 0,
  offset: String(offset),
  timestamp: '0',
  key: 'confluence/P-1',
  value: Buffer.from('{'),
  headers: {},
});

const invalid = (at: number, offset: number, quietMs?: number, topic?: string): Finding =>
  envelopeInvalidFinding({
    record: record(offset, topic),
    error: new Error('not JSON'),
    service: 'contract-checker',
    now: at,
    ...(quietMs === undefined ? {} : { quietMs }),
  });

/** Ticks once a minute from `from` to `to`, ingesting `inputs` when due; returns alert statuses with times. */
function drive(state: RouterState, from: number, to: number, inputs: Array<[number, Finding]>) {
  const router = createRouter({ config: CONFIG });
  const out: RouterOutput['alerts'] = [];
  const queue = [...inputs];
  for (let now = from; now <= to; now += M) {
    while (queue.length > 0 && (queue[0]?.[0] ?? Infinity) <= now)
      router.ingest(state, (queue.shift() as [number, Finding])[1], now);
    out.push(...router.tick(state, now).alerts);
  }
  return out.map((a) => [a.labels['check'], a.status, a.startsAt, a.endsAt]);
}

describe('findings that expire (envelope.invalid quiet period)', () => {
  it('resolves an envelope.invalid finding 1h after the last invalid record of its (service, topic, system)', () => {
    const state = new RouterState(0);
    const alerts = drive(state, T0, T0 + 3 * H, [
      [T0, invalid(T0, 1)],
      [T0 + 30 * M, invalid(T0 + 30 * M, 2)], // a refresh: the quiet period starts again
    ]);
    expect(alerts).toEqual([
      ['envelope.invalid', 'firing', formatTime(T0), '0001-01-01T00:00:00Z'],
      ['envelope.invalid', 'resolved', formatTime(T0), formatTime(T0 + 90 * M)],
    ]);
    expect(entriesOf(state, 'finding').map(([, f]) => f.status)).toEqual(['resolved']);
  });

  it('takes the quiet period the builder was given; the alert resolves when its last finding expires', () => {
    const alerts = drive(new RouterState(0), T0, T0 + H, [
      [T0, invalid(T0, 1, 10 * M)],
      [T0, invalid(T0, 1, 10 * M, 'index.changes.v1')],
    ]);
    // Two findings (one per topic), one alert (the topic is not an alert label).
    expect(alerts.map((a) => [a[1], a[3]])).toEqual([
      ['firing', '0001-01-01T00:00:00Z'],
      ['resolved', formatTime(T0 + 10 * M)],
    ]);
  });

  it('fires again on a new invalid record after it resolved', () => {
    const alerts = drive(new RouterState(0), T0, T0 + 3 * H - M, [
      [T0, invalid(T0, 1)],
      [T0 + 2 * H, invalid(T0 + 2 * H, 9)],
    ]);
    expect(alerts.map((a) => [a[1], a[2]])).toEqual([
      ['firing', formatTime(T0)],
      ['resolved', formatTime(T0)],
      ['firing', formatTime(T0 + 2 * H)],
    ]);
  });

  it('keeps the expiry across a restore', () => {
    const state = new RouterState(0);
    drive(state, T0, T0 + 10 * M, [[T0, invalid(T0, 1)]]);
    const restored = new RouterState(0);
    for (const c of state.drainChanges()) restored.restore(c.key, c.value as Buffer | null);
    expect(drive(restored, T0 + 11 * M, T0 + 2 * H, []).map((a) => [a[1], a[3]])).toEqual([
      ['resolved', formatTime(T0 + H)],
    ]);
  });

  it('a finding without expiresAt never expires', () => {
    const { expiresAt: _, ...forever } = invalid(T0, 1);
    expect(drive(new RouterState(0), T0, T0 + 3 * H, [[T0, forever]]).map((a) => a[1])).toEqual([
      'firing',
    ]);
  });
});
