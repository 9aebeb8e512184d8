import {
  ALERT_REFRESH_BY_HEADER,
  DependencyUnavailableError,
  EnvelopeError,
  TidemarkError,
  alertRecord,
  formatTime,
  parseTime,
  resolveTopics,
} from '@tidemark/core';
import type { Alert, HandlerContext, InputRecord, MetricsSink, OutputRecord } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createAlertmanagerBridgeService, toPostableAlert } from './alertmanager.js';
import type { PostableAlert } from './alertmanager.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const M = 60_000;
const H = 60 * M;
const topics = resolveTopics({});

function alert(over: Partial<Alert> = {}): Alert {
  const status = over.status ?? 'firing';
  return {
    status,
    labels: { check: 'freshness.sync-lag', severity: 'warning', system: 'confluence' },
    annotations: { summary: '3 × freshness.sync-lag on confluence' },
    startsAt: formatTime(T0),
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : formatTime(T0 + 10 * M),
    fingerprint: 'a1',
    receiver: 'platform-alerts',
    groupKey: '{}:{system="confluence"}',
    findings: { count: 3, sample: ['f1', 'f2', 'f3'] },
    generatorURL: 'urn:tidemark:alert:a1',
    ...over,
  };
}

describe('toPostableAlert', () => {
  it.each([
    [
      'a firing alert lasts until its refresh time plus grace',
      alert(),
      {
        labels: {
          alertname: 'freshness.sync-lag',
          check: 'freshness.sync-lag',
          severity: 'warning',
          system: 'confluence',
        },
        annotations: {
          summary: '3 × freshness.sync-lag on confluence',
          findings: '3',
          tidemark_receiver: 'platform-alerts',
        },
        startsAt: formatTime(T0),
        endsAt: formatTime(T0 + 4 * H + 10 * M),
        generatorURL: 'urn:tidemark:alert:a1',
      },
    ],
    [
      'a resolved alert ends when it resolved; description and runbook carried',
      alert({
        status: 'resolved',
        annotations: { summary: 's', description: 'd', runbook_url: 'https://runbooks.example/x' },
      }),
      {
        labels: {
          alertname: 'freshness.sync-lag',
          check: 'freshness.sync-lag',
          severity: 'warning',
          system: 'confluence',
        },
        annotations: {
          summary: 's',
          description: 'd',
          runbook_url: 'https://runbooks.example/x',
          findings: '3',
          tidemark_receiver: 'platform-alerts',
        },
        startsAt: formatTime(T0),
        endsAt: formatTime(T0 + 10 * M),
        generatorURL: 'urn:tidemark:alert:a1',
      },
    ],
  ])('%s', (_case, a, expected) => {
    expect(toPostableAlert(a, T0 + 4 * H, 10 * M)).toEqual(expected);
  });

  it('puts a configured generator URL in place of the alert’s own', () => {
    expect(toPostableAlert(alert(), T0, 0, 'https://tidemark.example/alerts').generatorURL).toBe(
      'https://tidemark.example/alerts',
    );
  });
});

/** An input record as the host hands it over, from the router's own output record. */
function input(out: OutputRecord, offset = '7'): InputRecord {
  return {
    topic: out.topic,
    partition: 0,
    offset,
    key: out.key === null || out.key === undefined ? null : Buffer.from(String(out.key)),
    value: out.value === null ? null : Buffer.from(String(out.value)),
    headers: { ...out.headers },
    timestamp: String(T0),
  } as InputRecord;
}

function harness(deliver: (alerts: PostableAlert[]) => Promise<void>) {
  const recorded: Array<[string, Record<string, string>, number]> = [];
  const metrics: MetricsSink = {
    record: (name, labels, n) => void recorded.push([name, labels, n]),
  };
  const svc = createAlertmanagerBridgeService({ alertsTopic: topics.alerts, deliver });
  const ctx: HandlerContext = {
    now: T0,
    partition: 0,
    service: svc.name,
    topics,
    metrics,
  };
  const handle = async (record: InputRecord) =>
    svc.handle(svc.createState(0), await svc.decode!(record), record, ctx);
  return { svc, handle, recorded };
}

const opts = { service: 'alert-router', topics };

describe('createAlertmanagerBridgeService', () => {
  it('consumes the alerts topic and posts each alert, firing until the router’s stamped refresh time', async () => {
    const posted: PostableAlert[][] = [];
    const { svc, handle, recorded } = harness(async (alerts) => void posted.push(alerts));
    expect(svc.inputs).toEqual([topics.alerts]);
    const firing = alertRecord(alert(), T0 + 30_000, opts, T0 + 2 * H);
    expect(firing.headers?.[ALERT_REFRESH_BY_HEADER]).toBe(formatTime(T0 + 2 * H));
    const resolved = alertRecord(
      alert({ status: 'resolved' }),
      T0 + 10 * M,
      opts,
      T0 + 9 * H, // ignored: a resolved alert has no refresh time
    );
    expect(resolved.headers?.[ALERT_REFRESH_BY_HEADER]).toBeUndefined();
    expect(await handle(input(firing))).toEqual([]);
    expect(await handle(input(resolved))).toEqual([]);
    expect(posted.map((batch) => batch.map((a) => a.endsAt))).toEqual([
      [formatTime(T0 + 2 * H + 10 * M)],
      [formatTime(T0 + 10 * M)],
    ]);
    expect(recorded).toEqual([
      ['tidemark_alertmanager_notifications_total', { outcome: 'sent' }, 1],
      ['tidemark_alertmanager_notifications_total', { outcome: 'sent' }, 1],
    ]);
  });

  it('keeps a firing alert written without the header alive for the default repeat and group intervals', async () => {
    const posted: PostableAlert[][] = [];
    const { handle } = harness(async (alerts) => void posted.push(alerts));
    await handle(input(alertRecord(alert(), T0, opts)));
    expect(posted[0]?.[0]?.endsAt).toBe(formatTime(T0 + 4 * H + 5 * M + 10 * M));
  });

  it.each([
    [
      'Alertmanager unavailable: a retry of the record, counted',
      new DependencyUnavailableError('alertmanager', 'Alertmanager unavailable after 5 attempts'),
      ['tidemark_alertmanager_retries_total', {}, 1],
    ],
    [
      'Alertmanager refusing the alert: the host dead-letters it, counted as failed',
      new TidemarkError('Alertmanager rejected the alert: HTTP 400 bad label', {
        retriable: false,
      }),
      ['tidemark_alertmanager_notifications_total', { outcome: 'failed' }, 1],
    ],
  ])('%s', async (_case, error, metric) => {
    const { handle, recorded } = harness(async () => {
      throw error;
    });
    await expect(handle(input(alertRecord(alert(), T0, opts, T0 + H)))).rejects.toBe(error);
    expect(recorded).toEqual([metric]);
  });

  it.each([
    [
      'a finding',
      JSON.stringify({
        specversion: '1.0',
        id: 'x',
        source: 's',
        type: 'dq.finding.v1',
        time: formatTime(T0),
        data: {},
      }),
    ],
    [
      'an alert without a receiver',
      JSON.stringify(JSON.parse(String(alertRecord(alert({ receiver: '' }), T0, opts).value))),
    ],
    ['not JSON', '{'],
  ])('dead-letters %s on the alerts topic', async (_case, value) => {
    const { svc } = harness(async () => undefined);
    const record = input({ topic: topics.alerts, key: 'k', value });
    expect(() => svc.decode!(record)).toThrow(EnvelopeError);
  });
});
