import { ManualClock, findingFingerprint, parseTime } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { advanceTo, applyEvent, type FreshnessInputEvent } from './checks.js';
import { FreshnessLedger } from './ledger.js';
import {
  HOUR,
  MINUTE,
  T0,
  TRACE_A,
  at,
  brief,
  run,
  settingsWith,
  testSettings,
} from './test-events.js';

function setup(settings = testSettings) {
  const ledger = new FreshnessLedger({ settings });
  const clock = new ManualClock(T0);
  const apply = (event: FreshnessInputEvent, traceparent?: string) =>
    applyEvent(ledger, event, parseTime(event.time), traceparent).findings;
  const tickAt = (ms: number) => {
    clock.set(ms);
    return advanceTo(ledger, clock.now());
  };
  return { ledger, apply, tickAt };
}

describe('freshness.connector-silent', () => {
  it('fires exactly one heartbeat after first sight when no run ever succeeds', () => {
    const { apply, tickAt } = setup();
    apply(run({ runId: 'r1', status: 'started', at: T0 }));
    expect(tickAt(T0 + HOUR - 1)).toEqual([]);
    const fired = tickAt(T0 + HOUR);
    expect(brief(fired)).toEqual([`freshness.connector-silent firing confluence-prod@${at(HOUR)}`]);
    expect(fired[0]).toMatchObject({
      severity: 'critical',
      fingerprint: findingFingerprint('freshness.connector-silent', {
        system: 'confluence',
        connector: 'confluence-prod',
      }),
      owner: { team: 'confluence-platform', platformOwner: 'kb-platform@example.com' },
      evidence: { lastSuccessAt: null, firstSeenAt: at(0), slaSeconds: 3600, deadline: at(HOUR) },
    });
    expect(tickAt(T0 + 5 * HOUR)).toEqual([]);
  });

  it('counts from the last success and resolves on the next one', () => {
    const { apply, tickAt } = setup();
    apply(run({ runId: 'r1', status: 'succeeded', at: T0 }));
    expect(tickAt(T0 + HOUR - 1)).toEqual([]);
    expect(brief(tickAt(T0 + HOUR))).toEqual([
      `freshness.connector-silent firing confluence-prod@${at(HOUR)}`,
    ]);
    const found = apply(run({ runId: 'r2', status: 'succeeded', at: T0 + 2 * HOUR }), TRACE_A);
    expect(brief(found)).toEqual([
      `freshness.connector-silent resolved confluence-prod@${at(2 * HOUR)}`,
    ]);
    expect(found[0]).toMatchObject({ traceparent: TRACE_A });
    expect(tickAt(T0 + 3 * HOUR - 1)).toEqual([]);
    expect(tickAt(T0 + 3 * HOUR)).toHaveLength(1);
  });

  it('treats a quiet connector (succeeded runs that see no items) as healthy', () => {
    const { apply, tickAt } = setup();
    for (let i = 0; i < 48; i++) {
      const time = T0 + i * 30 * MINUTE;
      expect(tickAt(time)).toEqual([]);
      expect(apply(run({ runId: `r${i}`, status: 'succeeded', at: time, itemsSeen: 0 }))).toEqual(
        [],
      );
    }
  });

  it('does not count started or failed runs as a heartbeat', () => {
    const { apply, tickAt } = setup(settingsWith({ failingRuns: 0 }));
    apply(run({ runId: 'r0', status: 'succeeded', at: T0 }));
    apply(run({ runId: 'r1', status: 'started', at: T0 + 30 * MINUTE }));
    apply(run({ runId: 'r1', status: 'failed', at: T0 + 40 * MINUTE, error: 'HTTP 503' }));
    expect(brief(tickAt(T0 + HOUR))).toEqual([
      `freshness.connector-silent firing confluence-prod@${at(HOUR)}`,
    ]);
  });

  it('reports a gap found by a late success as fired at the deadline and resolved', () => {
    const { apply } = setup();
    apply(run({ runId: 'r1', status: 'succeeded', at: T0 }));
    expect(brief(apply(run({ runId: 'r2', status: 'succeeded', at: T0 + 2 * HOUR })))).toEqual([
      `freshness.connector-silent firing confluence-prod@${at(HOUR)}`,
      `freshness.connector-silent resolved confluence-prod@${at(2 * HOUR)}`,
    ]);
  });

  it('ignores a late, older success', () => {
    const { apply, tickAt } = setup();
    apply(run({ runId: 'r2', status: 'succeeded', at: T0 + 30 * MINUTE }));
    apply(run({ runId: 'r1', status: 'succeeded', at: T0 }));
    expect(tickAt(T0 + 30 * MINUTE + HOUR - 1)).toEqual([]);
    expect(tickAt(T0 + 30 * MINUTE + HOUR)).toHaveLength(1);
  });
});

describe('freshness.connector-failing', () => {
  const failed = (i: number, time: number) =>
    run({ runId: `f${i}`, status: 'failed', at: time, error: `HTTP 503 (attempt ${i})` });

  it('fires on the Nth failed run in a row and resolves on the next success', () => {
    const { apply } = setup(settingsWith({ heartbeatMs: 0 }));
    apply(run({ runId: 'ok', status: 'succeeded', at: T0 }));
    expect(apply(failed(1, T0 + MINUTE))).toEqual([]);
    expect(apply(failed(2, T0 + 2 * MINUTE))).toEqual([]);
    const fired = apply(failed(3, T0 + 3 * MINUTE));
    expect(brief(fired)).toEqual([
      `freshness.connector-failing firing confluence-prod@${at(3 * MINUTE)}`,
    ]);
    expect(fired[0]).toMatchObject({
      severity: 'high',
      summary:
        'connector confluence-prod (confluence) failed 3 runs in a row (threshold 3): HTTP 503 (attempt 3)',
      evidence: {
        count: 3,
        threshold: 3,
        runIds: ['f1', 'f2', 'f3'],
        lastError: 'HTTP 503 (attempt 3)',
      },
    });
    expect(apply(failed(4, T0 + 4 * MINUTE))).toEqual([]);
    expect(brief(apply(run({ runId: 'ok2', status: 'succeeded', at: T0 + 5 * MINUTE })))).toEqual([
      `freshness.connector-failing resolved confluence-prod@${at(5 * MINUTE)}`,
    ]);
  });

  it('counts a redelivered failure once', () => {
    const { apply } = setup(settingsWith({ heartbeatMs: 0 }));
    apply(failed(1, T0));
    apply(failed(2, T0 + MINUTE));
    expect(apply(failed(2, T0 + MINUTE))).toEqual([]);
    expect(apply(failed(1, T0))).toEqual([]);
    expect(apply(failed(3, T0 + 2 * MINUTE))).toHaveLength(1);
  });

  it('does not count failures older than the latest success, whatever the arrival order', () => {
    const { apply } = setup(settingsWith({ heartbeatMs: 0 }));
    apply(run({ runId: 'ok', status: 'succeeded', at: T0 + 10 * MINUTE }));
    apply(failed(1, T0 + MINUTE));
    apply(failed(2, T0 + 2 * MINUTE));
    apply(failed(3, T0 + 3 * MINUTE));
    expect(apply(failed(4, T0 + 11 * MINUTE))).toEqual([]);
  });

  it('stays firing when a late success is older than the streak', () => {
    const { apply } = setup(settingsWith({ heartbeatMs: 0 }));
    apply(failed(1, T0 + MINUTE));
    apply(failed(2, T0 + 2 * MINUTE));
    expect(apply(failed(3, T0 + 3 * MINUTE))).toHaveLength(1);
    expect(apply(run({ runId: 'old', status: 'succeeded', at: T0 }))).toEqual([]);
  });

  it('resolves silent and failing together on one success', () => {
    const { apply, tickAt } = setup();
    apply(failed(1, T0));
    apply(failed(2, T0 + MINUTE));
    apply(failed(3, T0 + 2 * MINUTE));
    expect(brief(tickAt(T0 + HOUR))).toEqual([
      `freshness.connector-silent firing confluence-prod@${at(HOUR)}`,
    ]);
    expect(brief(apply(run({ runId: 'ok', status: 'succeeded', at: T0 + 2 * HOUR })))).toEqual([
      `freshness.connector-silent resolved confluence-prod@${at(2 * HOUR)}`,
      `freshness.connector-failing resolved confluence-prod@${at(2 * HOUR)}`,
    ]);
  });
});
