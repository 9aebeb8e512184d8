// The contract checker on the real broker, hosted in-process by the runtime so the Schema Registry can be the
// library's MockClient: unframed and framed records, a framed record that breaks its schema, a poison record,
// and a restart with open findings followed by a fixing revision (exactly one `resolved`).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js';
import { CLOUDEVENTS_CONTENT_TYPE, DLQ_HEADERS, eventSchemas, type Finding } from '@tidemark/core';
import { loadContractDir } from '@tidemark/contracts/node';
import { framedDecoder } from '@tidemark/service-contract-checker/framed';
import { Collector, produce, ROOT } from '../runtime/helpers.js';
import { checkerHost, checkerTopics, runbook } from './helpers.js';

const T = '2026-11-02T10:00:00Z';
describe('contract-checker through the real broker', () => {
  const host = checkerHost();

  it('checks unframed and framed records, dead-letters poison and schema breaks, resolves after a restart', async () => {
    const checker = await checkerTopics('cc', 3);
    const { topics } = checker;

    const client = new MockClient();
    const schemaId = await client.register(
      `${topics.content}-value`,
      { schemaType: 'JSON', schema: JSON.stringify(eventSchemas['content.upserted']) },
      false,
    );
    const frame = (value: unknown) => {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(schemaId, 1);
      return Buffer.concat([header, Buffer.from(JSON.stringify(value))]);
    };

    const contracts = await loadContractDir(path.join(ROOT, 'contracts'));
    const start = () =>
      host.run(checker, '*/2 * * * * *', { contracts, framed: framedDecoder(client) });

    const out = await Collector.start([topics.findings, topics.dlq]);
    const first = await start();
    await produce(topics.content, [
      { key: 'confluence/R1', value: JSON.stringify(runbook('R1', 1, { owner: null }, T)) },
      { key: 'confluence/R2', value: frame(runbook('R2', 1, { classification: 'secret' }, T)) },
      { key: 'confluence/R3', value: frame(runbook('R3', 1, { revision: 'three' }, T)) },
      { key: 'confluence/R4', value: Buffer.from('{"specversion": "1.0", oops') },
    ]);
    const findings = () => out.json<{ data: Finding }>(topics.findings).map((e) => e.data);
    const has = (check: string, docId: string, status = 'firing') =>
      findings().some((f) => f.check === check && f.subject.docId === docId && f.status === status);
    await out.waitFor(
      'the four outcomes',
      () =>
        has('contract.required', 'R1') &&
        has('contract.allowed', 'R2') &&
        has('contract.schema', 'R3') &&
        findings().some((f) => f.check === 'envelope.invalid') &&
        out.on(topics.dlq).length === 2,
    );
    // Structured CloudEvents carry the content-type the CloudEvents Kafka binding requires; a dead letter is the
    // input's bytes and headers, passed through untouched.
    expect(new Set(out.on(topics.findings).map((r) => r.headers['content-type']))).toEqual(
      new Set([CLOUDEVENTS_CONTENT_TYPE]),
    );
    const dead = out.on(topics.dlq);
    expect(dead.map((d) => d.headers['content-type'])).toEqual([undefined, undefined]);
    expect(dead.map((d) => d.key).sort()).toEqual(['confluence/R3', 'confluence/R4']);
    const poison = dead.find((d) => d.key === 'confluence/R4')!;
    expect(poison.value?.toString()).toBe('{"specversion": "1.0", oops');
    expect(poison.headers[DLQ_HEADERS.errorClass]).toBe('EnvelopeError');
    expect(poison.headers[DLQ_HEADERS.topic]).toBe(topics.content);
    expect(
      dead
        .find((d) => d.key === 'confluence/R3')!
        .value?.subarray(5)
        .toString(),
    ).toContain('"three"');
    // R2 was framed and valid: it was checked like any other record.
    expect(findings().find((f) => f.subject.docId === 'R2')?.evidence).toMatchObject({
      field: 'classification',
      observed: 'secret',
    });

    // Restart with R1's finding open; a fixing revision resolves it exactly once.
    expect(await first.stop('restart')).toBe(0);
    await start();
    await produce(topics.content, [
      { key: 'confluence/R1', value: JSON.stringify(runbook('R1', 1, { owner: null }, T)) }, // redelivered duplicate
      { key: 'confluence/R1', value: JSON.stringify(runbook('R1', 2, {}, T)) },
    ]);
    await out.waitFor('R1 resolved', () => has('contract.required', 'R1', 'resolved'));
    await new Promise((r) => setTimeout(r, 1500));
    const r1 = findings()
      .filter((f) => f.subject.docId === 'R1')
      .map((f) => `${f.check} ${f.status}`);
    expect(r1).toEqual(['contract.required firing', 'contract.required resolved']);
    await out.close();
  });
});
