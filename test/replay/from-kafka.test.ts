// `tidemark replay --from-kafka`: the input topics' range read from a real broker (offsets by timestamp, no
// group commits) runs the same in-process compositions as the file it was produced from.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_TOPICS, resolveTopics } from '@tidemark/core';
import { createProgram } from '@tidemark/cli';
import { loadContractDir } from '@tidemark/contracts/node';
import { parseRoutingConfig } from '@tidemark/routing';
import { parseLine, parseRangeBound, replay } from '@tidemark/replay';
import type { ReplayRecord, ReplaySummary } from '@tidemark/replay';
import { afterAll, describe, expect, it } from 'vitest';
import { readKafkaRange } from '../../packages/cli/src/kafka-range.js';
import {
  BROKERS,
  ROOT,
  closeProducer,
  createTopics,
  kafka,
  produce,
  unique,
} from '../runtime/helpers.js';

const FIXTURE = path.join(ROOT, 'packages/replay/testdata/basic.jsonl');
afterAll(closeProducer);

async function run(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await createProgram({
    info: (l) => lines.push(l),
    error: (l) => lines.push(`E ${l}`),
    exitCode: (c) => {
      if (c !== 0) throw new Error(`exit ${c}: ${lines.join('\n')}`);
    },
  }).parseAsync(['node', 'tidemark', ...args]);
  return lines;
}

describe('replay --from-kafka (broker)', () => {
  it('reads the input topics between two times, commits nothing, and replays like the file', async () => {
    const topics = resolveTopics({
      contentChanges: unique('rk-content'),
      syncEvents: unique('rk-sync'),
      inventorySnapshots: unique('rk-inventory'),
    });
    // Kept forever: the fixture is dated 2025, past the default 7-day retention, and the broker's retention check
    // (every 5 minutes) would otherwise delete its records between the produce and the read.
    await createTopics(
      [topics.contentChanges, topics.syncEvents, topics.inventorySnapshots],
      3,
      false,
      { 'retention.ms': '-1' },
    );
    const rename = new Map<string, string>([
      [DEFAULT_TOPICS.contentChanges, topics.contentChanges],
      [DEFAULT_TOPICS.syncEvents, topics.syncEvents],
      [DEFAULT_TOPICS.inventorySnapshots, topics.inventorySnapshots],
    ]);
    // The fixture's records, produced with their event time as the record timestamp.
    const records = readFileSync(FIXTURE, 'utf8')
      .split('\n')
      .map((l, i) => parseLine(l, i + 1, topics))
      .filter((r): r is ReplayRecord => r.kind === 'record')
      // Record envelopes name the default topics; this run's are unique.
      .map((r) => ({ ...r, topic: rename.get(r.topic) ?? r.topic }));
    expect(records.length).toBeGreaterThan(8);
    for (const r of records) {
      await produce(r.topic, [
        {
          key: r.key,
          value: r.value,
          headers: Object.fromEntries(
            Object.entries(r.headers).filter((e): e is [string, string] => e[1] !== undefined),
          ),
          timestamp: String(r.time),
        },
      ]);
    }
    const names = [topics.contentChanges, topics.syncEvents, topics.inventorySnapshots];
    const times = records.map((r) => r.time as number).sort((a, b) => a - b);

    // A window of the range: records at or after `since` and before `until`, in timestamp order.
    const since = times[3]!;
    const until = times[8]!;
    const window = await readKafkaRange({
      connection: { brokers: [...BROKERS], ssl: false },
      topics: names,
      since: parseRangeBound(new Date(since).toISOString(), '--since'),
      until: parseRangeBound(new Date(until).toISOString(), '--until'),
    });
    const stamps = window.map((l) =>
      Date.parse((JSON.parse(l) as { timestamp: string }).timestamp),
    );
    expect(stamps).toEqual(times.filter((t) => t >= since && t < until));

    // The whole range through the CLI, with the topic names from TOPIC_* as the services take them.
    const env = {
      TOPIC_CONTENT_CHANGES: topics.contentChanges,
      TOPIC_SYNC_EVENTS: topics.syncEvents,
      TOPIC_INVENTORY_SNAPSHOTS: topics.inventorySnapshots,
    };
    Object.assign(process.env, env);
    const out = mkdtempSync(path.join(tmpdir(), 'tidemark-from-kafka-'));
    try {
      await run(
        'replay',
        '--from-kafka',
        '--brokers',
        BROKERS.join(','),
        '--out',
        out,
        '--contracts',
        path.join(ROOT, 'contracts'),
        '--drain',
        '1d',
        '--quiet',
      );
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
    const fromKafka = JSON.parse(
      readFileSync(path.join(out, 'summary.json'), 'utf8'),
    ) as ReplaySummary;
    const fileOut = mkdtempSync(path.join(tmpdir(), 'tidemark-from-file-'));
    const { summary: fromFile } = await replay({
      input: FIXTURE,
      contracts: await loadContractDir(path.join(ROOT, 'contracts')),
      routing: parseRoutingConfig(
        readFileSync(path.join(ROOT, 'contracts/routing.yaml'), 'utf8'),
        'routing.yaml',
      ),
      out: fileOut,
      drainMs: 86_400_000,
    });
    expect(fromKafka.input.records).toBe(records.length);
    expect(fromKafka.findings.byCheckStatus).toEqual(fromFile.findings.byCheckStatus);
    expect(fromKafka.alerts).toEqual(fromFile.alerts);
    expect(fromKafka.tickets).toEqual(fromFile.tickets);

    // The read left no consumer group behind with committed offsets on these topics.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const groups = (await admin.listGroups()).groups.filter((g) =>
        g.groupId.startsWith('tidemark-replay-'),
      );
      for (const g of groups) {
        const offsets = await admin.fetchOffsets({ groupId: g.groupId, topics: names });
        for (const t of offsets) expect(t.partitions.every((p) => p.offset === '-1')).toBe(true);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
