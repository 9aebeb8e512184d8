// The drift-detector through the real broker: the built service (services/drift-detector/dist/main.js, started the
// way its `npm start` does) reads a backlog with a planted shift from unique topics, goes through its internal
// partials topic, fires drift findings on dq.findings; after a stop and a restart it restores its windows and
// baseline from the changelog and resolves them when the distribution is back. Everything happens in event time
// (half an hour ago): windows close because later events move each partition's watermark, not by the clock.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Finding } from '@tidemark/core';
import { createRng, normal } from '@tidemark/drift';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  ServiceProcess,
  consumeAll,
  createTopics,
  produce,
  serviceHarness,
  unique,
  type ConsumedRecord,
} from '../runtime/helpers.js';

const MINUTE = 60_000;

const CONTRACT = `
apiVersion: tidemark/v1
kind: SourceContract
system: itwiki
version: 4
owner: { steward: it@example.com }
labels: { suite: integration }
drift:
  - name: size
    kind: numeric
    field: sizeBytes
    window: 1m
    baseline: { mode: rolling, windows: 3 }
    minSamples: 200
    thresholds: { psi: 0.25, ksPValue: 0.001 }
  - name: language
    kind: categorical
    field: language
    window: 1m
    baseline: { mode: rolling, windows: 3 }
    minSamples: 200
    thresholds: { chiSquarePValue: 0.001 }
`;

const DRIFT_MAIN = path.join(ROOT, 'services/drift-detector/dist/main.js');
/** The built service, started the way its `npm start` does. */
const { start } = serviceHarness(
  (env) => new ServiceProcess(env, ['--import', '@tidemark/runtime/otel'], DRIFT_MAIN),
);

let contractsDir: string;

beforeAll(async () => {
  contractsDir = await mkdtemp(path.join(os.tmpdir(), 'drift-it-'));
  await writeFile(path.join(contractsDir, 'itwiki.yaml'), CONTRACT);
});
afterAll(async () => {
  await rm(contractsDir, { recursive: true, force: true });
});

/** `n` upserts spread over one minute-window: sizes ~ N(mean, 500), languages en/de/fr (a third `und` if asked). */
function windowEvents(start: number, w: number, n: number, mean: number, und = false): Message[] {
  const rng = createRng(100 + w);
  const langs = ['en', 'de', 'fr'];
  return Array.from({ length: n }, (_, i) => {
    const docId = `w${w}-${i}`;
    const time = new Date(start + Math.floor((i * MINUTE) / n)).toISOString();
    return {
      key: `itwiki/${docId}`,
      value: JSON.stringify({
        specversion: '1.0',
        id: `it-${docId}`,
        source: 'connector/itwiki',
        type: 'content.upserted',
        time,
        subject: `itwiki/${docId}`,
        data: {
          system: 'itwiki',
          docId,
          revision: 1,
          contentClass: 'page',
          title: docId,
          language: und && i % 3 === 0 ? 'und' : langs[Math.floor(rng() * 3)],
          sizeBytes: Math.max(0, Math.round(normal(rng, mean, 500))),
        },
      }),
    };
  });
}

/** Events of a system no feature watches, at `time`, with keys spread over every partition: they move watermarks. */
function watermarkEvents(time: number, tag: string): Message[] {
  return Array.from({ length: 30 }, (_, i) => ({
    key: `other/${tag}-${i}`,
    value: JSON.stringify({
      specversion: '1.0',
      id: `it-${tag}-${i}`,
      source: 'connector/other',
      type: 'content.upserted',
      time: new Date(time).toISOString(),
      data: {
        system: 'other',
        docId: `${tag}-${i}`,
        revision: 1,
        contentClass: 'page',
        title: 'x',
      },
    }),
  }));
}

const findingsOf = (records: readonly ConsumedRecord[]): Finding[] =>
  records.map((r) => (JSON.parse(r.value!) as { data: Finding }).data);

describe('drift-detector service (broker)', () => {
  it('fires drift findings on a planted shift, then resolves them after a restart restores its state', async () => {
    const name = unique('drift-it');
    const t = {
      content: unique('drift-content'),
      sync: unique('drift-sync'),
      partials: `tidemark.${name}.partials`,
      findings: unique('drift-findings'),
      dlq: unique('drift-dlq'),
    };
    await createTopics(Object.values(t));
    const env = {
      CONTRACTS_DIR: contractsDir,
      DRIFT_SERVICE_NAME: name,
      DRIFT_IDLE_AFTER: '1h', // never idle here: only event time closes windows
      DRIFT_DECIDE_DELAY: '3s',
      TICK_SCHEDULE: '* * * * * *',
      KAFKA_GROUP_ID: unique('drift-it-group'),
      TOPIC_CONTENT_CHANGES: t.content,
      TOPIC_SYNC_EVENTS: t.sync,
      TOPIC_FINDINGS: t.findings,
      TOPIC_DLQ: t.dlq,
    };
    // A backlog of five one-minute windows, half an hour old: three fill the baseline, one is judged normal, the
    // fifth carries the shift (larger documents, a third of them in language `und`). Events a minute after its end
    // (plus the default lateness of 60 s) close it on every partition.
    const base = Math.floor((Date.now() - 30 * MINUTE) / MINUTE) * MINUTE;
    const at = (w: number) => base + w * MINUTE;
    for (let w = 0; w < 4; w++) await produce(t.content, windowEvents(at(w), w, 300, 6000));
    await produce(t.content, windowEvents(at(4), 4, 300, 9000, true));
    await produce(t.content, watermarkEvents(at(6) + 30_000, 'a'));

    const first = start(env);
    const fired = findingsOf(await consumeAll(t.findings, { until: 2, timeoutMs: 40_000 }));
    expect(fired.map((f) => `${f.check} ${f.status} ${f.subject.feature}`).sort()).toEqual([
      'drift.categorical firing language',
      'drift.numeric firing size',
    ]);
    const size = fired.find((f) => f.subject.feature === 'size')!;
    expect(size).toMatchObject({
      subject: { system: 'itwiki', feature: 'size', field: 'sizeBytes' },
      owner: { steward: 'it@example.com' },
      labels: { suite: 'integration' },
      contract: { file: expect.stringMatching(/itwiki\.yaml$/), version: '4' },
      observedAt: new Date(at(5)).toISOString(),
      evidence: { window: { count: 300 }, baseline: { windows: 3, count: 900 } },
    });
    // Every partition's share went through the partials topic.
    const partials = await consumeAll(t.partials);
    expect(new Set(partials.map((p) => p.key))).toEqual(new Set(['itwiki']));
    expect(await first.stop()).toBe(0);

    // Back to normal while the service is down; the restarted service restores baseline and firing state.
    await produce(t.content, windowEvents(at(7), 7, 300, 6000));
    await produce(t.content, watermarkEvents(at(9) + 30_000, 'b'));
    const second = start(env);
    const all = findingsOf(await consumeAll(t.findings, { until: 4, timeoutMs: 40_000 }));
    const resolved = all.filter((f) => f.status === 'resolved');
    expect(resolved.map((f) => `${f.check} ${f.status} ${f.subject.feature}`).sort()).toEqual([
      'drift.categorical resolved language',
      'drift.numeric resolved size',
    ]);
    const sizeResolved = resolved.find((f) => f.subject.feature === 'size')!;
    expect(sizeResolved.fingerprint).toBe(size.fingerprint);
    expect(sizeResolved.observedAt).toBe(new Date(at(8)).toISOString());
    expect(all).toHaveLength(4);
    expect(await consumeAll(t.dlq)).toEqual([]);
    expect(await second.stop()).toBe(0);
  });
});
