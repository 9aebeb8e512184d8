// Outputs the broker will not take never stop a partition: flushes are split under the produce limit, and an
// output that can never be produced (too large, refused) is dead-lettered — its copy cut to fit — while
// processing goes on.
import { describe, expect, it } from 'vitest';
import {
  committedOffsets,
  contentEvent,
  createTopics,
  echoEnv,
  echoHarness,
  echoTopicNames,
  endOffsets,
  produce,
  waitUntil,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

/** Echo topics of one partition, input and output with a max.message.bytes each if given. */
async function topicsWith(prefix: string, configs: { input?: string; output?: string }) {
  const t = echoTopicNames(prefix);
  const limit = (maxBytes?: string): Record<string, string> =>
    maxBytes ? { 'max.message.bytes': maxBytes } : {};
  await createTopics([t.input], 1, false, limit(configs.input));
  await createTopics([t.output], 1, false, limit(configs.output));
  await createTopics([t.dlq, t.findings], 1);
  return t;
}

async function allCommitted(group: string, topic: string): Promise<boolean> {
  const ends = await endOffsets(topic);
  const committed = await committedOffsets(group, topic);
  return [...ends].every(([p, high]) => committed.get(p) === high);
}

describe('runtime output limits', () => {
  it('splits flushes under the limit and dead-letters a 1.2 MB record with its copy truncated', async () => {
    // The output topic takes at most 30 KB per batch; 300 echoes of ~350 B in one flush are ~100 KB.
    const t = await topicsWith('limits', { input: '2000000', output: '30000' });
    const big = { key: 'wiki/big', value: Buffer.from(`{"huge": "${'x'.repeat(1_200_000)}`) };
    await produce(t.input, [
      ...Array.from({ length: 150 }, (_, i) => contentEvent(`a-${i}`, `doc-${i}`)),
      big,
      ...Array.from({ length: 150 }, (_, i) => contentEvent(`b-${i}`, `doc-${i}`)),
    ]);
    const out = await collect([t.output, t.dlq]);
    const s = start(echoEnv(t, { KAFKA_MAX_REQUEST_BYTES: '20000' }));
    await out.waitFor('300 echoes and 1 dead letter', () => {
      return out.on(t.output).length >= 300 && out.on(t.dlq).length >= 1;
    });
    expect(new Set(out.json<EchoOutput>(t.output).map((e) => e.sourceId)).size).toBe(300);
    const [dead] = out.on(t.dlq);
    expect(dead!.headers['tidemark.dlq.offset']).toBe('150');
    expect(dead!.headers['tidemark.dlq.truncated']).toBe('true');
    expect(dead!.headers['tidemark.dlq.original.bytes']).toBe(String(big.value.length));
    expect(dead!.headers['tidemark.dlq.error.class']).toBe('OutputRejectedError');
    expect(dead!.headers['tidemark.dlq.error.message']).toMatch(
      /^output to .*-dlq-.* is about \d+ bytes, over the produce limit of 20000/,
    );
    expect(dead!.value!.length).toBeLessThan(20_000);
    expect(big.value.subarray(0, dead!.value!.length)).toEqual(dead!.value);
    await waitUntil('input committed to the end', () =>
      allCommitted(`tidemark-${t.service}`, t.input),
    );
    expect(s.child.exitCode).toBeNull();
  });

  it('dead-letters outputs the broker refuses (MESSAGE_TOO_LARGE) one by one and goes on', async () => {
    // Every echo (~350 B) is over the output topic's 200-byte limit; the DLQ takes them.
    const t = await topicsWith('refused', { output: '200' });
    await produce(
      t.input,
      Array.from({ length: 5 }, (_, i) => contentEvent(`r-${i}`, `doc-${i}`)),
    );
    const out = await collect([t.output, t.dlq]);
    const s = start(echoEnv(t));
    await out.waitFor('5 dead letters', () => out.on(t.dlq).length >= 5);
    await waitUntil('input committed to the end', () =>
      allCommitted(`tidemark-${t.service}`, t.input),
    );
    const dead = out.on(t.dlq);
    expect(
      dead.map((d) => (JSON.parse(d.value!.toString()) as EchoOutput).sourceId).sort(),
    ).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
    for (const d of dead) {
      expect(d.headers['tidemark.dlq.output.topic']).toBe(t.output);
      expect(d.headers['tidemark.dlq.error.message']).toMatch(/MESSAGE_TOO_LARGE|larger than/i);
      expect(d.headers['tidemark.dlq.truncated']).toBeUndefined();
    }
    expect(out.on(t.output)).toEqual([]);
    expect(s.child.exitCode).toBeNull();
  });
});
