// TIDEMARK_CLOCK=event: ticks wait for every co-partitioned input, read or not, and a partition without records
// still ticks, from the slowest topic's event time.
import { describe, expect, it } from 'vitest';
import { contentEvent, createTopics, echoHarness, kafka, produce, unique } from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();
const minute = 60_000;

type Out = EchoOutput & { type?: string; now?: number };

async function topics(prefix: string, partitions: number) {
  const t = {
    content: unique(`${prefix}-content`),
    sync: unique(`${prefix}-sync`),
    output: unique(`${prefix}-out`),
    dlq: unique(`${prefix}-dlq`),
    findings: unique(`${prefix}-findings`),
    service: unique(prefix),
  };
  await createTopics([t.content, t.sync], partitions);
  await createTopics([t.output, t.dlq, t.findings], 1);
  return t;
}

function env(t: Awaited<ReturnType<typeof topics>>, extra: Record<string, string> = {}) {
  return {
    ECHO_SERVICE: t.service,
    ECHO_INPUTS: `${t.content},${t.sync}`,
    ECHO_OUTPUT: t.output,
    TOPIC_DLQ: t.dlq,
    TOPIC_FINDINGS: t.findings,
    TIDEMARK_CLOCK: 'event',
    EVENT_TICK: '10m',
    EVENT_SKEW: '0s',
    ECHO_TICK: 'true',
    ...extra,
  };
}

/**
 * One partition fed on two topics with records every 10 minutes of event time (`at(i)`), started with `extra`
 * settings: sends, waits for echoes, and checks that no tick passed a sync record before it was read.
 */
async function idleCase(prefix: string, extra: Record<string, string>) {
  const t = await topics(prefix, 1);
  const base = Math.floor((Date.now() - 5 * 60 * minute) / (10 * minute)) * 10 * minute;
  const at = (i: number) => base + i * 10 * minute + minute;
  const record = (id: string, i: number) => ({
    ...contentEvent(id, `doc-${i}`),
    timestamp: String(at(i)),
  });
  const send = (topic: string, prefix: string, from: number, to: number) =>
    produce(
      topic,
      Array.from({ length: to - from }, (_, k) => record(`${prefix}-${from + k}`, from + k)),
    );
  const out = await collect([t.output]);
  start(env(t, { TICK_SCHEDULE: '* * * * * *', ...extra }));
  const echoed = (id: string) => out.json<Out>(t.output).some((o) => o.sourceId === id);
  const echo = (...ids: string[]) =>
    out.waitFor(`${ids.join(', ')} echoed`, () => ids.every(echoed));
  const expectNoTickPastUnreadSync = (count: number) => {
    const seen = new Set<string>();
    for (const o of out.json<Out>(t.output)) {
      if (o.type !== 'tick') {
        seen.add(o.sourceId);
        continue;
      }
      for (let i = 0; i < count && at(i) < o.now!; i++)
        expect(seen, `tick at ${new Date(o.now!).toISOString()}`).toContain(`s-${i}`);
    }
  };
  return { t, at, record, send, out, echo, expectNoTickPastUnreadSync };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runtime event time', () => {
  it('a topic with records not read yet holds ticks back (backlog on both topics at start)', async () => {
    const t = await topics('evt-unread', 1);
    const base = Math.floor((Date.now() - 5 * 60 * minute) / (10 * minute)) * 10 * minute;
    // One minute past each 10-minute mark, so a tick at a mark always has every earlier record before it.
    const at = (i: number) => base + i * 10 * minute + minute;
    const series = (topic: string, prefix: string) =>
      produce(
        topic,
        Array.from({ length: 12 }, (_, i) => ({
          ...contentEvent(`${prefix}-${i}`, `doc-${i}`),
          timestamp: String(at(i)),
        })),
      );
    await series(t.content, 'c');
    await series(t.sync, 's');
    const out = await collect([t.output]);
    start(env(t));
    await out.waitFor(
      '24 echoes',
      () => out.json<Out>(t.output).filter((o) => o.type !== 'tick').length >= 24,
    );
    const seen = new Set<string>();
    let ticks = 0;
    for (const o of out.json<Out>(t.output)) {
      if (o.type !== 'tick') {
        seen.add(o.sourceId);
        continue;
      }
      ticks++;
      // Every record of either topic dated before the tick was handled before it.
      for (let i = 0; i < 12 && at(i) < o.now!; i++) {
        expect(seen, `tick at ${new Date(o.now!).toISOString()}`).toContain(`c-${i}`);
        expect(seen, `tick at ${new Date(o.now!).toISOString()}`).toContain(`s-${i}`);
      }
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('a partition without records ticks from the slowest topic time', async () => {
    const t = await topics('evt-idle', 2);
    const base = Math.floor((Date.now() - 3 * 60 * minute) / (10 * minute)) * 10 * minute;
    const producer = kafka.producer();
    await producer.connect();
    for (const topic of [t.content, t.sync]) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 6 }, (_, i) => ({
          ...contentEvent(`${topic}-${i}`, `doc-${i}`),
          partition: 0,
          timestamp: String(base + i * 10 * minute + minute + (topic === t.sync ? 0 : 10 * minute)),
        })),
      });
    }
    await producer.disconnect();
    const out = await collect([t.output]);
    start(env(t, { TICK_SCHEDULE: '* * * * * *' }));
    await out.waitFor('a tick of partition 1', () =>
      out.json<Out>(t.output).some((o) => o.type === 'tick' && o.partition === 1),
    );
    const idle = out.json<Out>(t.output).filter((o) => o.type === 'tick' && o.partition === 1);
    // The sync topic is the slower one: its last record is at base + 51 min.
    expect(Math.max(...idle.map((o) => o.now!))).toBeLessThanOrEqual(base + 51 * minute);
    expect(Math.max(...idle.map((o) => o.now!))).toBeGreaterThan(base);
  });

  it('after a lull with every topic idle, the first records again hold back ticks for the idle topics', async () => {
    const c = await idleCase('evt-lull', { EVENT_IDLE_TIMEOUT: '4s' });
    await c.send(c.t.sync, 's', 0, 3);
    await c.send(c.t.content, 'c', 0, 3);
    await c.echo('c-2', 's-2');
    // A lull (the producer paused) longer than EVENT_IDLE_TIMEOUT: both topics go idle.
    await sleep(5500);
    // Traffic resumes, content's batch first; sync's records follow within EVENT_IDLE_TIMEOUT (in production: in
    // the same fetch, handled after content's batch). No tick may pass a sync record not read yet.
    await c.send(c.t.content, 'c', 3, 9);
    await c.echo('c-8');
    await sleep(1000);
    await c.send(c.t.sync, 's', 3, 9);
    await c.echo('s-8');
    c.expectNoTickPastUnreadSync(9);
  });

  it('a topic read to its end holds ticks back until a whole later fetch round brought none of its records', async () => {
    // EVENT_IDLE_TIMEOUT 0: host time never holds a caught-up topic (as when one round outlasts the timeout on a
    // loaded host); only the fetch rounds do.
    const c = await idleCase('evt-round', { EVENT_IDLE_TIMEOUT: '0s' });
    // Pairs produced together, so they come in one fetch response: the index event s-i, then content of the
    // next change 10 minutes later (a tick boundary after s-i). No tick may pass s-i before it is read.
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (let i = 0; i < 8; i++) {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [
            { topic: c.t.content, messages: [c.record(`c-${i}`, i + 1)] },
            { topic: c.t.sync, messages: [c.record(`s-${i}`, i)] },
          ],
        });
        await c.echo(`c-${i}`, `s-${i}`);
      }
    } finally {
      await producer.disconnect();
    }
    c.expectNoTickPastUnreadSync(8);
  });

  it('a topic read to its end holds ticks back until it is idle, then its last records let ticks run', async () => {
    const c = await idleCase('evt-lag', { EVENT_IDLE_TIMEOUT: '15s' });
    // The sync topic is read to its end at s-2; then content runs far ahead while sync's next records are late
    // (as when its fetch trails the content topic's on a busy host).
    await c.send(c.t.sync, 's', 0, 3);
    await c.echo('s-2');
    await c.send(c.t.content, 'c', 0, 9);
    await c.echo('c-8');
    await sleep(2000);
    await c.send(c.t.sync, 's', 3, 9);
    await c.echo('s-8');
    c.expectNoTickPastUnreadSync(9);
    // Content runs ahead again and sync stays quiet: once sync has been idle for EVENT_IDLE_TIMEOUT, the schedule
    // runs the ticks content's records allow (no record arrives to trigger them).
    await c.send(c.t.content, 'c', 9, 12);
    await c.echo('c-11');
    await c.out.waitFor(
      'a tick up to the last content record',
      () =>
        c.out.json<Out>(c.t.output).some((o) => o.type === 'tick' && o.now! >= c.at(11) - minute),
      60_000,
    );
  });
});
