// Helpers for the freshness-monitor broker tests: the built service (services/freshness-monitor/dist, built by
// `npx tsc --build`) run as a child process, its /metrics parsed, and the input events it reads.
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatTime } from '@tidemark/core';
import type { Message } from 'kafkajs';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { ServiceProcess, ROOT, createTopics, unique, waitUntil } from '../runtime/helpers.js';

export const FRESHNESS_MAIN = path.join(ROOT, 'services/freshness-monitor/dist/main.js');

/** The system of the test contract, and its connector. */
export const SYSTEM = 'fresh-wiki';
export const CONNECTOR = 'fresh-wiki-prod';

/**
 * A contracts directory: the repo's owners.yaml plus one contract whose sync-lag SLAs are seconds, so a test
 * sees deadlines pass on the wall clock. `classes` maps a content class to its syncLag (system level: 3s).
 */
export async function contractsDir(classes: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tidemark-freshness-'));
  await copyFile(path.join(ROOT, 'contracts/owners.yaml'), path.join(dir, 'owners.yaml'));
  const classLines = Object.entries(classes).map(
    ([name, syncLag]) => `  ${name}:\n    slas: { syncLag: ${syncLag} }`,
  );
  await writeFile(
    path.join(dir, `${SYSTEM}.yaml`),
    [
      'apiVersion: tidemark/v1',
      'kind: SourceContract',
      `system: ${SYSTEM}`,
      'version: 1',
      'owner: { team: knowledge-ops, platformOwner: search-platform }',
      'slas: { syncLag: 3s }',
      // Named so that its sync-lag series carries the connector (unnamed ones are recorded as "other").
      `connectors: { instances: { ${CONNECTOR}: {} } }`,
      ...(classLines.length > 0 ? ['classes:', ...classLines] : []),
      '',
    ].join('\n'),
  );
  return dir;
}

/**
 * What one freshness-monitor under test needs: its unique topics (created, 3 partitions each), a contracts
 * directory (see contractsDir; the caller removes it) and its environment, named `<prefix>-freshness-…` with group
 * `<prefix>-group-…`. A test adds its own settings to `env`.
 */
export async function freshnessSetup(prefix: string, classes: Record<string, string>) {
  const t = {
    content: unique(`${prefix}-content`),
    sync: unique(`${prefix}-sync`),
    findings: unique(`${prefix}-findings`),
    dlq: unique(`${prefix}-dlq`),
  };
  await createTopics(Object.values(t), 3);
  const dir = await contractsDir(classes);
  const env = {
    SERVICE_NAME: unique(`${prefix}-freshness`),
    KAFKA_GROUP_ID: unique(`${prefix}-group`),
    TOPIC_CONTENT_CHANGES: t.content,
    TOPIC_SYNC_EVENTS: t.sync,
    TOPIC_FINDINGS: t.findings,
    TOPIC_DLQ: t.dlq,
    CONTRACTS_DIR: dir,
  };
  return { t, dir, env };
}

let seq = 0;
function cloudEvent(type: string, at: number, data: Record<string, unknown>): Message {
  const key = `${String(data['system'])}/${String(data['docId'])}`;
  return {
    key,
    value: JSON.stringify({
      specversion: '1.0',
      id: `${key}-${type}-${++seq}`,
      source: type.startsWith('index.') ? `connector/${CONNECTOR}` : `source/${SYSTEM}`,
      type,
      time: formatTime(at),
      subject: key,
      data,
    }),
  };
}

/** A `content.upserted` of revision 1 of `docId`, changed at the source at `at` (epoch ms). */
export function upserted(docId: string, contentClass: string, at: number): Message {
  return cloudEvent('content.upserted', at, {
    system: SYSTEM,
    docId,
    revision: 1,
    contentClass,
    title: `Title of ${docId}`,
    owner: 'alice@example.com',
    classification: 'internal',
  });
}

/** An `index.upserted` of revision 1 of `docId`: the change made at `sourceAt` applied by the index at `at`. */
export function indexed(docId: string, sourceAt: number, at: number): Message {
  return cloudEvent('index.upserted', at, {
    system: SYSTEM,
    docId,
    revision: 1,
    connector: CONNECTOR,
    sourceTime: formatTime(sourceAt),
  });
}

/** services/freshness-monitor running as a child process (`node --import @tidemark/runtime/otel dist/main.js`). */
export class FreshnessProcess extends ServiceProcess {
  constructor(env: Record<string, string>) {
    if (!existsSync(FRESHNESS_MAIN))
      throw new Error(`${FRESHNESS_MAIN} is missing: run \`npx tsc --build\` first`);
    super(env, ['--import', '@tidemark/runtime/otel'], FRESHNESS_MAIN);
  }

  #checkAlive(): void {
    if (this.child.exitCode !== null)
      throw new Error(
        `freshness-monitor exited ${this.child.exitCode}: ${this.stderr.slice(-500)} ${this.logs
          .slice(-3)
          .map((l) => JSON.stringify(l))
          .join(' | ')}`,
      );
  }

  /** The HTTP port from the "http listening" log line (failing fast if the service died). */
  override async port(): Promise<number> {
    await waitUntil(
      'http listening',
      () => {
        this.#checkAlive();
        return this.logs.some((l) => l.msg === 'http listening');
      },
      30_000,
    );
    return this.logs.find((l) => l.msg === 'http listening')!['port'] as number;
  }

  /** /metrics as text. */
  async metricsText(): Promise<string> {
    const { status, body } = await this.get('/metrics');
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
    return body;
  }

  /** /metrics, parsed. */
  async metrics(): Promise<MetricFamily[]> {
    return parsePrometheusTextFormat(await this.metricsText());
  }

  /** `tidemark_ticks_total` per partition. */
  async ticks(): Promise<Map<string, number>> {
    const family = (await this.metrics()).find((f) => f.name === 'tidemark_ticks_total');
    return new Map(
      (family?.metrics ?? []).map((m) => [m.labels?.['partition'] ?? '', Number(m.value)]),
    );
  }

  /**
   * Waits until every owned partition ran `rounds` more ticks. A tick is counted before its outputs are
   * flushed, and a partition's next tick waits for that flush (partition lock): so after 3 more, a tick
   * that began after this call (its `now` later than the call) has delivered its outputs.
   */
  async waitForTicks(rounds: number, timeoutMs = 20_000): Promise<void> {
    const { body } = await this.get('/readyz');
    const owned = (JSON.parse(body) as { partitions: number[] }).partitions.map(String);
    if (owned.length === 0) throw new Error('the service owns no partitions');
    const before = await this.ticks();
    await waitUntil(
      `${rounds} more tick rounds on partitions ${owned.join(', ')}`,
      async () => {
        const now = await this.ticks();
        return owned.every((p) => (now.get(p) ?? 0) >= (before.get(p) ?? 0) + rounds);
      },
      timeoutMs,
    );
  }

  override async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      `freshness-monitor ready (last logs: ${this.logs
        .slice(-3)
        .map((l) => l.msg)
        .join(' | ')})`,
      async () => {
        this.#checkAlive();
        return (await this.get('/readyz').catch(() => ({ status: 0 }))).status === 200;
      },
      timeoutMs,
    );
  }

  /** Prints the service's logs (for a failed test). */
  override dump(): void {
    console.log(
      `--- freshness-monitor pid ${this.child.pid} ---\n${this.logs
        .map((l) => JSON.stringify(l))
        .join('\n')}\n--- stderr ---\n${this.stderr}`,
    );
  }

  /** Stops the process if it still runs (SIGTERM, then SIGKILL after 20 s). */
  override async dispose(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}
