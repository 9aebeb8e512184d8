// A real Prometheus (Debian package) scrapes the real freshness-monitor of a broker test, loads
// deploy/prometheus/rules.yml, and answers PromQL over its HTTP API: the sync lag of a document indexed 1.5 s
// after its change lands in tidemark_sync_lag_seconds, a malformed record in the DLQ counter, and the
// operations metrics (ready, build info, lag in seconds) are there as the alert rules expect them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  CONNECTOR,
  FreshnessProcess,
  freshnessSetup,
  indexed,
  SYSTEM,
  upserted,
} from '../freshness/helpers.js';
import { closeProducer, produce, ROOT, unique, waitUntil } from '../runtime/helpers.js';
import { prometheus } from './tools.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await closeProducer();
});

/** A port nothing listens on now (the OS picks it), for Prometheus's own web listener. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPrometheus(
  target: string,
): Promise<{ query: (q: string) => Promise<Sample[]>; api: string; log: () => string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tidemark-prometheus-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(path.join(ROOT, 'deploy/prometheus/rules.yml'))}]`,
    'scrape_configs:',
    '  - job_name: tidemark-freshness-monitor',
    `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  let log = '';
  const child: ChildProcess = spawn(
    prometheus!,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  cleanup.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const api = `http://127.0.0.1:${port}/api/v1`;
  await waitUntil(
    'prometheus ready',
    async () => {
      if (child.exitCode !== null)
        throw new Error(`prometheus exited ${child.exitCode}: ${log.slice(-1000)}`);
      return fetch(`http://127.0.0.1:${port}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    },
    60_000,
  );
  const query = async (q: string): Promise<Sample[]> => {
    const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { result: Sample[] };
    };
    if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
    return body.data.result;
  };
  return { query, api, log: () => log };
}

describe.skipIf(!prometheus)('Prometheus scraping a running service', () => {
  it('queries tidemark_sync_lag_seconds and the DLQ counter of freshness-monitor through the HTTP API', async () => {
    const { t, dir, env } = await freshnessSetup('ops', { faq: '1h' });
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const service = new FreshnessProcess(env);
    cleanup.push(() => service.dispose());
    onTestFailed(() => service.dump());
    await service.waitReady();
    const prom = await startPrometheus(`127.0.0.1:${await service.port()}`);
    onTestFailed(() => console.error(prom.log().slice(-3000)));

    const doc = unique('doc');
    const at = Date.now() - 60_000;
    const change = upserted(doc, 'faq', at);
    // Same key, so the same partition: once it is caught up, both records are behind its commit.
    const producedAt = Date.now();
    await produce(t.content, [change, { key: change.key, value: '{not json' }]);
    await produce(t.sync, [indexed(doc, at, at + 1500)]);

    const scalar = async (q: string) => Number((await prom.query(q))[0]?.value[1] ?? NaN);
    const lagCount = `sum(tidemark_sync_lag_seconds_count{job="tidemark-freshness-monitor",system="${SYSTEM}",connector="${CONNECTOR}"})`;
    const dlq = `sum(tidemark_dlq_records_total{job="tidemark-freshness-monitor",topic="${t.content}"})`;
    const caughtUp = `max(tidemark_consumer_lag_seconds{topic=~"${t.content}|${t.sync}"})`;
    const progress = `count(tidemark_last_processed_record_timestamp_seconds{topic=~"${t.content}|${t.sync}"})`;
    // Everything the test asserts below comes from scrapes taken once all three records were handled and
    // committed; the lag-in-seconds and progress series only appear after a commit.
    await waitUntil(
      'prometheus sees the sync lag, the dead letter and both partitions caught up',
      async () =>
        (await scalar(lagCount)) === 1 &&
        (await scalar(dlq)) === 1 &&
        (await scalar(`sum(tidemark_records_in_total{topic="${t.content}"})`)) === 2 &&
        (await scalar(progress)) === 2 &&
        (await scalar(caughtUp)) === 0,
      90_000,
    );

    // 1.5 s falls in the (1, 5] bucket, its sum is the lag itself.
    expect(await scalar(`sum(tidemark_sync_lag_seconds_sum{system="${SYSTEM}"})`)).toBeCloseTo(
      1.5,
      3,
    );
    expect(await scalar(`sum(tidemark_sync_lag_seconds_bucket{system="${SYSTEM}",le="1"})`)).toBe(
      0,
    );
    expect(await scalar(`sum(tidemark_sync_lag_seconds_bucket{system="${SYSTEM}",le="5"})`)).toBe(
      1,
    );
    expect(await prom.query('tidemark_ready')).toEqual([
      expect.objectContaining({
        metric: expect.objectContaining({ service: expect.stringMatching(/^ops-freshness/) }),
        value: [expect.any(Number), '1'],
      }),
    ]);
    expect((await prom.query('tidemark_build_info'))[0]?.metric).toMatchObject({
      version: '0.1.0',
      node_version: process.versions.node,
    });
    // The last processed record of the sync topic is the index event, produced during this test.
    const lastSync = await scalar(
      `max(tidemark_last_processed_record_timestamp_seconds{topic="${t.sync}"})`,
    );
    expect(lastSync * 1000).toBeGreaterThanOrEqual(producedAt - 1000);
    expect(lastSync * 1000).toBeLessThanOrEqual(Date.now());
    expect(await scalar(`max(tidemark_consumer_lag{topic="${t.content}"})`)).toBe(0);

    // The alert rules load and evaluate in this Prometheus; none of Tidemark's health alerts fires.
    const rules = (await (await fetch(`${prom.api}/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; state: string }> }> };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(12);
    expect(loaded.filter((r) => r.health !== 'ok' && r.health !== 'unknown')).toEqual([]);
    expect(loaded.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual([]);
  });
});
