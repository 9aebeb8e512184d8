// Helpers for the alert-router's broker tests: its topics, a contracts directory with a fast routing.yaml,
// finding records as checkers write them, and the built service (services/alert-router/dist/main.js) as a
// real process, and the per-file harness that starts and stops it. Topic, producer and collector helpers are the
// shared ones of test/runtime/helpers.ts.
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFinding, findingRecord, formatTime, resolveTopics } from '@tidemark/core';
import type { Finding, FindingInput } from '@tidemark/core';
import type { Message } from 'kafkajs';
import {
  ROOT,
  ServiceProcess,
  createTopics,
  serviceHarness,
  unique,
  waitUntil,
} from '../runtime/helpers.js';
import type { Harness } from '../runtime/helpers.js';

export const ROUTER_MAIN = path.join(ROOT, 'services/alert-router/dist/main.js');

/** Short timers so a test sees groups flush within seconds; tickets for content checks. */
export const FAST_ROUTING = `
route:
  receiver: platform-alerts
  group_by: [system, check]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['check=~"freshness\\.review-overdue|contract\\..*"']
      receiver: steward-tickets
    - matchers: ['check=~"routing\\..*"']
      receiver: platform-notices
      group_wait: 0s
receivers:
  - { name: platform-alerts, kind: alerts }
  - { name: platform-notices, kind: alerts }
  - { name: steward-tickets, kind: tickets, period: 7d, sla: 14d }
`;

/** A contracts directory: the shipped contracts with `routing` as routing.yaml. */
export function contractsDir(routing: string = FAST_ROUTING, silences?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-router-contracts-'));
  const shipped = path.join(ROOT, 'contracts');
  for (const f of readdirSync(shipped)) {
    if (f.endsWith('.yaml') && f !== 'routing.yaml' && f !== 'silences.yaml')
      copyFileSync(path.join(shipped, f), path.join(dir, f));
  }
  writeFileSync(path.join(dir, 'routing.yaml'), routing);
  if (silences !== undefined) writeFileSync(path.join(dir, 'silences.yaml'), silences);
  return dir;
}

/** Unique topics of one alert-router under test, created; `name` is its SERVICE_NAME. */
export async function routerTopics(prefix: string, partitions = 3) {
  const name = unique(prefix);
  const t = {
    name,
    group: unique(`${prefix}-group`),
    findings: unique(`${prefix}-findings`),
    alerts: unique(`${prefix}-alerts`),
    tickets: unique(`${prefix}-tickets`),
    dlq: unique(`${prefix}-dlq`),
    silences: unique(`${prefix}-silences`),
    repartition: `tidemark.${name}.by-system`,
  };
  await createTopics([t.findings, t.alerts, t.tickets, t.dlq, t.repartition], partitions);
  await createTopics([t.silences], partitions, true);
  return t;
}

export type RouterTopics = Awaited<ReturnType<typeof routerTopics>>;

/** Environment of an alert-router over these topics. */
export function routerEnv(
  t: RouterTopics,
  contracts: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SERVICE_NAME: t.name,
    KAFKA_GROUP_ID: t.group,
    CONTRACTS_DIR: contracts,
    TOPIC_FINDINGS: t.findings,
    TOPIC_ALERTS: t.alerts,
    TOPIC_TICKETS: t.tickets,
    TOPIC_DLQ: t.dlq,
    TOPIC_SILENCES: t.silences,
    TICK_SCHEDULE: '* * * * * *',
    KAFKA_SESSION_TIMEOUT: '6s',
    ...extra,
  };
}

/** A finding as a checker would write it (observed now, confluence sync lag unless overridden). */
export function finding(over: Partial<FindingInput> = {}): Finding {
  return buildFinding({
    check: 'freshness.sync-lag',
    status: 'firing',
    severity: 'warning',
    subject: { system: 'confluence', connector: 'confluence-prod', docId: 'p1' },
    owner: {},
    summary: 'not in the index yet',
    evidence: {},
    observedAt: formatTime(Date.now()),
    ...over,
  });
}

/** The findings-topic message of a finding (key = fingerprint, CloudEvent value, trace header). */
export function findingMessage(f: Finding): Message {
  const r = findingRecord(f, { service: 'freshness-monitor-test', topics: resolveTopics() });
  return {
    key: r.key,
    value: r.value as string,
    ...(r.headers ? { headers: r.headers as Record<string, string> } : {}),
  };
}

/** The same finding resolved now. */
export function resolved(f: Finding): Finding {
  return { ...f, status: 'resolved', observedAt: formatTime(Date.now()) };
}

/** The built alert-router running as a child process. */
export class RouterProcess extends ServiceProcess {
  constructor(env: Record<string, string>) {
    super(env, [], ROUTER_MAIN);
  }

  override async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      `alert-router ready (logs: ${this.logs
        .slice(-3)
        .map((l) => l.msg)
        .join(' | ')}; stderr: ${this.stderr.slice(-300)})`,
      async () => {
        if (this.child.exitCode !== null)
          throw new Error(`alert-router exited ${this.child.exitCode}: ${this.stderr}`);
        const line = this.logs.find((l) => l.msg === 'http listening');
        if (!line) return false;
        const res = await fetch(`http://127.0.0.1:${line['port'] as number}/readyz`).catch(
          () => undefined,
        );
        return res?.status === 200;
      },
      timeoutMs,
    );
  }

  override dump(): void {
    console.log(
      `--- alert-router pid ${this.child.pid} logs ---\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n--- stderr ---\n${this.stderr}`,
    );
  }
}

/** The per-file harness of the alert-router tests: `start` spawns a RouterProcess (see serviceHarness). */
export function routerHarness(): Harness<RouterProcess> {
  return serviceHarness((env) => new RouterProcess(env));
}
