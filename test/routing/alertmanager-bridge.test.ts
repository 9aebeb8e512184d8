// The Alertmanager bridge through a real broker and a real Alertmanager: the router publishes alerts to the
// alerts topic; the alert-router in ALERT_ROUTER_MODE=alertmanager POSTs each to Alertmanager and commits after
// it was accepted. While Alertmanager is down the bridge holds the alert (not ready), then delivers it; the
// resolve follows. The router itself refuses ALERTMANAGER_URL (it no longer posts from its tick).
import { ALERT_REFRESH_BY_HEADER, parseTime } from '@tidemark/core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { produce, waitUntil } from '../runtime/helpers.js';
import { AlertmanagerServer, freePort, haveAlertmanager } from './alertmanager-server.js';
import {
  contractsDir,
  finding,
  findingMessage,
  resolved,
  routerEnv,
  routerHarness,
  routerTopics,
} from './helpers.js';

const { start, collect, track } = routerHarness();

const ROUTING = `
route:
  receiver: platform
  group_by: [system, check]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - { name: platform }
`;

describe.skipIf(!haveAlertmanager())('Alertmanager bridge (broker, real Alertmanager)', () => {
  it('holds an alert while Alertmanager is down (not ready), delivers it once it is up, then its resolve', async () => {
    const am = track(new AlertmanagerServer(await freePort()));
    onTestFailed(() => console.log(`--- alertmanager output ---\n${am.output}`));
    const t = await routerTopics('ambridge');
    const env = routerEnv(t, contractsDir(ROUTING));
    const router = start(env);
    const bridge = start({
      ...env,
      ALERT_ROUTER_MODE: 'alertmanager',
      KAFKA_GROUP_ID: `${t.group}-alertmanager`,
      ALERTMANAGER_URL: am.url,
      DEPENDENCY_RETRY_MAX: '2s',
    });
    await Promise.all([router.waitReady(), bridge.waitReady()]);
    const out = await collect([t.alerts, t.dlq]);

    const a = finding({ subject: { system: 'confluence', connector: 'c1', docId: 'p1' } });
    await produce(t.findings, [findingMessage(a)]);
    await out.waitFor('the firing alert on the alerts topic', () => out.on(t.alerts).length > 0);
    // Alertmanager is not running: the bridge keeps the record and reports itself not ready.
    await waitUntil(
      'the bridge not ready while Alertmanager is down',
      async () => (await bridge.readiness().catch(() => ({ status: 0 }))).status === 503,
      60_000,
    );
    expect(await am.alerts().catch(() => 'down')).toBe('down');

    await am.start();
    await waitUntil(
      'the alert in Alertmanager',
      async () => (await am.alerts()).length > 0,
      60_000,
    );
    await bridge.waitReady();
    const [listed, ...more] = await am.alerts();
    expect(more).toEqual([]);
    expect(listed).toMatchObject({
      labels: {
        alertname: 'freshness.sync-lag',
        check: 'freshness.sync-lag',
        system: 'confluence',
        severity: 'warning',
      },
      annotations: { tidemark_receiver: 'platform', findings: '1' },
      status: { state: 'active' },
    });
    expect(listed!.generatorURL).toMatch(/^urn:tidemark:alert:/);
    // It lasts until the router's next guaranteed re-send (stamped on the record; at least the 1h repeat after the
    // send) plus 10 minutes.
    const [record] = out.on(t.alerts);
    const sentAt = parseTime((JSON.parse(String(record!.value)) as { time: string }).time);
    const refreshBy = parseTime(record!.headers[ALERT_REFRESH_BY_HEADER]!);
    expect(refreshBy).toBeGreaterThanOrEqual(sentAt + 3600_000);
    expect(parseTime(listed!.endsAt)).toBe(refreshBy + 600_000);

    await produce(t.findings, [findingMessage(resolved(a))]);
    await waitUntil(
      'the alert resolved in Alertmanager',
      async () => (await am.alerts()).length === 0,
      60_000,
    );
    expect(out.on(t.alerts)).toHaveLength(2);
    expect(out.on(t.dlq)).toEqual([]);
  });

  it('the router refuses ALERTMANAGER_URL at start (exit 2), naming the bridge', async () => {
    const t = await routerTopics('amrefuse');
    const router = start(
      routerEnv(t, contractsDir(ROUTING), { ALERTMANAGER_URL: 'http://127.0.0.1:9' }),
    );
    expect(await router.exited).toBe(2);
    expect(router.stderr + JSON.stringify(router.logs)).toContain('ALERT_ROUTER_MODE=alertmanager');
  });
});
