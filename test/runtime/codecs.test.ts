// Compressed input: the broker recompresses every batch with the topic's compression.type (its own Java codecs),
// and kafkajs producers may compress with a registered codec; the runtime must read all of them.
import { CompressionTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { registerCodecs } from '../../packages/runtime/src/codecs.js';
import {
  contentEvent,
  createTopics,
  echoHarness,
  kafka,
  produce,
  unique,
  waitUntil,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

describe('runtime codecs', () => {
  it('reads lz4, snappy and zstd batches compressed by the broker and by kafkajs', async () => {
    const service = unique('codecs');
    const byCodec = ['lz4', 'snappy', 'zstd'].map((codec) => ({
      codec,
      topic: unique(`codec-${codec}`),
    }));
    const output = unique('codec-out');
    const dlq = unique('codec-dlq');
    const findings = unique('codec-findings');
    await createTopics([output, dlq, findings], 1);
    for (const { codec, topic } of byCodec)
      await createTopics([topic], 1, false, { 'compression.type': codec });
    for (const { codec, topic } of byCodec)
      await produce(
        topic,
        Array.from({ length: 20 }, (_, i) => contentEvent(`${codec}-${i}`, `doc-${i}`)),
      );
    // A kafkajs producer compressing client-side; the broker keeps lz4 on the lz4 topic as it is.
    registerCodecs();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: byCodec[0]!.topic,
      acks: -1,
      compression: CompressionTypes.LZ4,
      messages: Array.from({ length: 5 }, (_, i) => contentEvent(`client-lz4-${i}`, `doc-${i}`)),
    });
    await producer.disconnect();

    const out = await collect([output, dlq]);
    const s = start({
      ECHO_SERVICE: service,
      ECHO_INPUTS: byCodec.map((c) => c.topic).join(','),
      ECHO_OUTPUT: output,
      TOPIC_DLQ: dlq,
      TOPIC_FINDINGS: findings,
    });
    await out.waitFor('65 echoes', () => out.on(output).length >= 65);
    const ids = new Set(out.json<EchoOutput>(output).map((e) => e.sourceId));
    for (const codec of ['lz4', 'snappy', 'zstd'])
      for (let i = 0; i < 20; i++) expect(ids).toContain(`${codec}-${i}`);
    for (let i = 0; i < 5; i++) expect(ids).toContain(`client-lz4-${i}`);
    await waitUntil('no crash', () => s.child.exitCode === null);
    expect(out.on(dlq)).toEqual([]);
  });
});
