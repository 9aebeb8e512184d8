// docs/operations.md stays true: its configuration table lists exactly the variables the runtime's schema and the
// services read (found in their source), with the runtime's defaults; and every alert rule has its runbook section.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '@tidemark/core';
import { DEFAULT_RUNTIME_CONFIG, RUNTIME_ENV_VARS, loadRuntimeConfig } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/operations.md'), 'utf8');

/** Rows of the table under "## Configure": variable → default column. */
function configTable(): Map<string, string> {
  const section = doc.slice(doc.indexOf('## Configure'), doc.indexOf('## Topics and partitions'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([A-Z][A-Z0-9_]*\*?)`$/.exec(cells[1] ?? '')?.[1];
    if (name) rows.set(name, (cells[3] ?? '').replaceAll('`', ''));
  }
  return rows;
}

/** `env['NAME']` reads in the services' and their packages' non-test source. */
function envReadsInSource(): Set<string> {
  const names = new Set<string>();
  const dirs = [
    ...readdirSync(join(root, 'services')).map((s) => join(root, 'services', s, 'src')),
    ...['runtime', 'contracts', 'core'].map((p) => join(root, 'packages', p, 'src')),
  ];
  for (const dir of dirs) {
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      if (
        !file.endsWith('.ts') ||
        file.endsWith('.test.ts') ||
        file.includes('testing') ||
        file.includes('bench')
      )
        continue;
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/env\[['"]([A-Z][A-Z0-9_]*)['"]\]/g))
        // The OpenTelemetry SDK's own variables are one row, `OTEL_*`.
        names.add(m[1]!.startsWith('OTEL_') ? 'OTEL_*' : m[1]!);
    }
  }
  return names;
}

// Read by Node.js itself, not by Tidemark's code.
const PLATFORM_VARS = ['NODE_EXTRA_CA_CERTS'];

describe('docs/operations.md configuration table', () => {
  const table = configTable();

  it('lists every variable of the runtime schema and every one the services read, and no other', () => {
    const read = envReadsInSource();
    const expected = new Set([...RUNTIME_ENV_VARS, ...read, ...PLATFORM_VARS]);
    expect([...table.keys()].filter((n) => !expected.has(n))).toEqual([]);
    expect([...expected].filter((n) => !table.has(n))).toEqual([]);
    // The scan itself finds what it should (a regression here would make the check above vacuous).
    for (const n of ['SERVICE_NAME', 'CONTRACTS_DIR', 'ALERTMANAGER_URL', 'SCHEMA_REGISTRY_URL'])
      expect(read.has(n), n).toBe(true);
  });

  it('gives the runtime defaults the runtime uses', () => {
    const config = loadRuntimeConfig({ KAFKA_BROKERS: '127.0.0.1:9092' }, 'svc');
    const d = DEFAULT_RUNTIME_CONFIG;
    const cases: Array<[string, unknown, unknown]> = [
      ['KAFKA_SSL', table.get('KAFKA_SSL') === 'true', config.kafka.ssl],
      ['KAFKA_START_FROM', table.get('KAFKA_START_FROM'), config.kafka.startFrom],
      [
        'KAFKA_SESSION_TIMEOUT',
        parseDuration(table.get('KAFKA_SESSION_TIMEOUT')!),
        config.kafka.sessionTimeoutMs,
      ],
      [
        'KAFKA_MAX_BYTES_PER_PARTITION',
        Number(table.get('KAFKA_MAX_BYTES_PER_PARTITION')),
        config.kafka.maxBytesPerPartition,
      ],
      [
        'KAFKA_PARTITIONS_CONCURRENCY',
        Number(table.get('KAFKA_PARTITIONS_CONCURRENCY')),
        config.kafka.partitionsConsumedConcurrently,
      ],
      ['HTTP_HOST', table.get('HTTP_HOST'), config.http.host],
      ['HTTP_PORT', Number(table.get('HTTP_PORT')), config.http.port],
      ['LOG_LEVEL', table.get('LOG_LEVEL'), config.logLevel],
      ['TICK_SCHEDULE', table.get('TICK_SCHEDULE'), config.tickSchedule],
      ['SHUTDOWN_TIMEOUT', parseDuration(table.get('SHUTDOWN_TIMEOUT')!), config.shutdownTimeoutMs],
      ['TIDEMARK_CLOCK', table.get('TIDEMARK_CLOCK'), config.clock],
      ['EVENT_TICK', parseDuration(table.get('EVENT_TICK')!), config.eventTickMs],
      ['EVENT_SKEW', parseDuration(table.get('EVENT_SKEW')!), config.eventSkewMs],
      ['KAFKA_GROUP_ID', table.get('KAFKA_GROUP_ID'), `${d.namePrefix}<service>`],
      ['TOPIC_DLQ', table.get('TOPIC_DLQ'), config.topics.dlq],
      ['TOPIC_FINDINGS', table.get('TOPIC_FINDINGS'), config.topics.findings],
    ];
    for (const [name, documented, actual] of cases) expect(documented, name).toEqual(actual);
  });
});

describe('docs/operations.md runbook', () => {
  const rules = YAML.parse(readFileSync(join(root, 'deploy/prometheus/rules.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; annotations: { runbook_url: string } }> }>;
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  const headings = [...doc.matchAll(/^### (\w+)$/gm)].map((m) => m[1]!);

  it.each(alerts.map((a) => [a.alert, a.annotations.runbook_url]))(
    '%s has a section its runbook_url points to',
    (alert, url) => {
      expect(headings).toContain(alert);
      expect(url).toBe(`docs/operations.md#${alert.toLowerCase()}`);
    },
  );

  it('has no section for an alert that does not exist', () => {
    const runbook = doc.slice(doc.indexOf('## Runbook'), doc.indexOf('## Capacity'));
    const sections = [...runbook.matchAll(/^### (\w+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(alerts.map((a) => a.alert));
  });
});
