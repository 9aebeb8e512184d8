// Partition state: it survives a restart, and moves with its partition to another instance of the group.
import { describe, expect, it } from 'vitest';
import { contentEvent, echoEnv, echoTopics, produce, waitUntil, echoHarness } from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

/** Outputs per key in output order must count 1, 2, 3, … with no gap and no repeat. */
function expectContinuousCounts(echoes: readonly EchoOutput[]): void {
  const byKey = new Map<string, number[]>();
  for (const e of echoes) byKey.set(e.key!, [...(byKey.get(e.key!) ?? []), e.count]);
  for (const [key, counts] of byKey) {
    expect(counts, key).toEqual(counts.map((_, i) => i + 1));
  }
}

describe('runtime partition state', () => {
  it('survives a restart: counts go on from the changelog', async () => {
    const t = await echoTopics('restart');
    const out = await collect([t.output]);
    await produce(
      t.input,
      Array.from({ length: 20 }, (_, i) => contentEvent(`a-${i}`, `doc-${i % 4}`)),
    );
    const first = start(echoEnv(t));
    await out.waitFor('20 outputs', () => out.on(t.output).length >= 20);
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    await produce(
      t.input,
      Array.from({ length: 20 }, (_, i) => contentEvent(`b-${i}`, `doc-${i % 4}`)),
    );
    const second = start(echoEnv(t));
    await out.waitFor('40 outputs', () => out.on(t.output).length >= 40);
    const echoes = out.json<EchoOutput>(t.output);
    expectContinuousCounts(echoes);
    expect(
      echoes
        .filter((e) => e.sourceId.startsWith('b-'))
        .map((e) => e.count)
        .sort((a, b) => a - b),
    ).toEqual([6, 7, 8, 9, 10].flatMap((c) => [c, c, c, c]));
    // The second instance rebuilt the four documents' counts from the changelog (one entry per change).
    const restored = second.logs.find((l) => l.msg === 'partition state restored');
    expect(restored?.['records']).toBeGreaterThanOrEqual(4);
  });

  it('moves with its partition to a second instance on rebalance (two instances, one group)', async () => {
    const t = await echoTopics('rebalance', 4);
    const out = await collect([t.output]);
    const docs = 16;
    await produce(
      t.input,
      Array.from({ length: docs * 2 }, (_, i) => contentEvent(`r1-${i}`, `doc-${i % docs}`)),
    );
    const a = start(echoEnv(t, { ECHO_INSTANCE: 'a', KAFKA_SESSION_TIMEOUT: '6s' }));
    await out.waitFor('round 1', () => out.on(t.output).length >= docs * 2);
    await a.waitReady();
    expect((await a.readiness()).partitions).toEqual([0, 1, 2, 3]);

    const b = start(echoEnv(t, { ECHO_INSTANCE: 'b', KAFKA_SESSION_TIMEOUT: '6s' }));
    await waitUntil('partitions split between a and b', async () => {
      const [ra, rb] = await Promise.all([
        a.readiness(),
        b.readiness().catch(() => ({ status: 0, partitions: [] })),
      ]);
      return (
        ra.status === 200 &&
        rb.status === 200 &&
        ra.partitions.length === 2 &&
        rb.partitions.length === 2
      );
    });
    const [pa, pb] = [(await a.readiness()).partitions, (await b.readiness()).partitions];
    expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3]);

    await produce(
      t.input,
      Array.from({ length: docs * 2 }, (_, i) => contentEvent(`r2-${i}`, `doc-${i % docs}`)),
    );
    await out.waitFor('round 2', () => out.on(t.output).length >= docs * 4);
    const echoes = out.json<EchoOutput>(t.output);
    expectContinuousCounts(echoes);
    const round2 = echoes.filter((e) => e.sourceId.startsWith('r2-'));
    // b handled the partitions it took over, and its counts continue a's: 3 and 4 for every document.
    expect(
      round2
        .filter((e) => e.instance === 'b')
        .map((e) => e.partition)
        .sort(),
    ).toEqual(
      round2
        .filter((e) => pb.includes(e.partition))
        .map((e) => e.partition)
        .sort(),
    );
    expect(round2.some((e) => e.instance === 'b')).toBe(true);
    for (const e of round2) expect([3, 4]).toContain(e.count);
    expect(round2.every((e) => e.instance === (pb.includes(e.partition) ? 'b' : 'a'))).toBe(true);

    // When b leaves, its partitions (and their state) go back to a.
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    await waitUntil(
      'a owns everything again',
      async () => (await a.readiness()).partitions.length === 4,
    );
    await produce(
      t.input,
      Array.from({ length: docs }, (_, i) => contentEvent(`r3-${i}`, `doc-${i % docs}`)),
    );
    await out.waitFor('round 3', () => out.on(t.output).length >= docs * 5);
    const round3 = out.json<EchoOutput>(t.output).filter((e) => e.sourceId.startsWith('r3-'));
    expect(round3.every((e) => e.instance === 'a' && e.count === 5)).toBe(true);
  });
});
