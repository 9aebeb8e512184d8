// Stopping and crashing mid-stream: SIGTERM finishes the batch in flight and exits 0; SIGKILL loses nothing
// (a restart redelivers what was not committed; a repeated output is the same record again).
import { describe, expect, it } from 'vitest';
import type { Collector } from './helpers.js';
import {
  committedOffsets,
  contentEvent,
  echoEnv,
  echoTopics,
  endOffsets,
  produce,
  waitUntil,
  echoHarness,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

const TOTAL = 1500;
// Small fetches (~50 records a batch) so a stop or a kill lands between batches as well as inside one.
const SMALL_BATCHES = { KAFKA_MAX_BYTES_PER_PARTITION: '16384' };

async function setup(prefix: string) {
  const t = await echoTopics(prefix);
  const inputs = Array.from({ length: TOTAL }, (_, i) => contentEvent(`ev-${i}`, `doc-${i % 40}`));
  for (let i = 0; i < TOTAL; i += 500) await produce(t.input, inputs.slice(i, i + 500));
  const out = await collect([t.output]);
  return { t, out };
}

/** Every input has an output, and outputs for the same input are identical (same id, same content). */
function expectEveryInputOnce(out: Collector, topic: string): number {
  const byId = new Map<string, string>();
  let duplicates = 0;
  for (const r of out.on(topic)) {
    const value = r.value!.toString();
    const id = (JSON.parse(value) as EchoOutput).id;
    const seen = byId.get(id);
    if (seen !== undefined) {
      duplicates++;
      expect(value).toBe(seen);
    } else byId.set(id, value);
  }
  expect(byId.size).toBe(TOTAL);
  return duplicates;
}

describe('runtime shutdown', () => {
  it('SIGTERM mid-stream: finishes the batch in flight, commits only what has its output, exits 0', async () => {
    const { t, out } = await setup('sigterm');
    // 2 ms per record: the stream takes seconds, so the signal lands mid-batch.
    const first = start(echoEnv(t, { ECHO_DELAY_MS: '2', ...SMALL_BATCHES }));
    await out.waitFor('first outputs', () => out.on(t.output).length >= 150);
    const signalled = Date.now();
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(20_000);
    expect(first.logs.some((l) => l.msg === 'stopped' && l['code'] === 0)).toBe(true);

    // Everything committed has its output: offsets below the committed one per partition were echoed.
    const committed = await committedOffsets(`tidemark-${t.service}`, t.input);
    await new Promise((r) => setTimeout(r, 500)); // let the reader catch up with the last acked outputs
    const echoed = out.json<EchoOutput>(t.output);
    let committedTotal = 0;
    for (const [partition, offset] of committed) {
      const upTo = Number(offset);
      committedTotal += Math.max(upTo, 0);
      const have = new Set(
        echoed.filter((e) => e.partition === partition).map((e) => Number(e.offset)),
      );
      for (let o = 0; o < upTo; o++)
        expect(have.has(o), `partition ${partition} offset ${o}`).toBe(true);
    }
    expect(committedTotal).toBeGreaterThan(0);
    expect(committedTotal).toBeLessThan(TOTAL);
    // A clean stop commits what it produced: nothing is output beyond the committed offsets.
    expect(echoed.length).toBe(committedTotal);

    const second = start(echoEnv(t, SMALL_BATCHES));
    await out.waitFor(
      `all ${TOTAL} outputs`,
      () => new Set(out.json<EchoOutput>(t.output).map((e) => e.id)).size >= TOTAL,
    );
    expect(expectEveryInputOnce(out, t.output)).toBe(0);
    const ends = await endOffsets(t.input);
    await waitUntil('everything committed', async () => {
      const c = await committedOffsets(`tidemark-${t.service}`, t.input);
      return [...ends].every(([p, high]) => c.get(p) === high);
    });
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('SIGKILL mid-batch, restart: nothing lost; a repeated output equals the first', async () => {
    const { t, out } = await setup('sigkill');
    // The killed member stays in the group until its session times out; keep that short.
    const first = start(
      echoEnv(t, { ECHO_DELAY_MS: '2', KAFKA_SESSION_TIMEOUT: '6s', ...SMALL_BATCHES }),
    );
    await out.waitFor('first outputs', () => out.on(t.output).length >= 150);
    first.kill('SIGKILL');
    await first.exited;
    expect(first.exitSignal).toBe('SIGKILL');
    const before = out.on(t.output).length;
    expect(before).toBeLessThan(TOTAL);

    start(echoEnv(t, { KAFKA_SESSION_TIMEOUT: '6s', ...SMALL_BATCHES }));
    await out.waitFor(
      `all ${TOTAL} outputs`,
      () => new Set(out.json<EchoOutput>(t.output).map((e) => e.id)).size >= TOTAL,
    );
    await new Promise((r) => setTimeout(r, 500));
    expectEveryInputOnce(out, t.output);
    // Counts stay exact across the crash: per document the outputs count 1..n with no gap or double count.
    const latest = new Map<string, number>();
    for (const e of out.json<EchoOutput>(t.output))
      latest.set(e.key!, Math.max(latest.get(e.key!) ?? 0, e.count));
    const expected = new Map<string, number>();
    for (let i = 0; i < TOTAL; i++)
      expected.set(`wiki/doc-${i % 40}`, (expected.get(`wiki/doc-${i % 40}`) ?? 0) + 1);
    expect(latest).toEqual(expected);
  });
});
