// consume → handler → produce → commit, dead letters, global tables, ticks and the HTTP endpoints, against
// the real broker with the echo fixture service running as a process.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import {
  committedOffsets,
  contentEvent,
  createTopics,
  echoEnv,
  echoTopics,
  endOffsets,
  produce,
  unique,
  waitUntil,
  echoHarness,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

describe('runtime pipeline', () => {
  it('handles every record, produces its output with the input trace context, then commits', async () => {
    const t = await echoTopics('pipe');
    const traceparent = (i: number) =>
      `00-${i.toString(16).padStart(32, 'a')}-${'b'.repeat(16)}-01`;
    const inputs = Array.from({ length: 30 }, (_, i) =>
      contentEvent(
        `ev-${i}`,
        `doc-${i % 6}`,
        i % 2 === 0 ? { headers: { traceparent: traceparent(i) } } : {},
      ),
    );
    await produce(t.input, inputs);
    const out = await collect([t.output]);
    const service = start(echoEnv(t));
    await out.waitFor('30 outputs', () => out.on(t.output).length >= 30);

    const echoes = out.json<EchoOutput>(t.output);
    expect(new Set(echoes.map((e) => e.id))).toEqual(new Set(inputs.map((_, i) => `echo:ev-${i}`)));
    // Per document, counts run 1..5 in input order: state is per partition and records keep their order.
    for (let d = 0; d < 6; d++) {
      const counts = echoes
        .filter((e) => e.key === `wiki/doc-${d}`)
        .map((e) => [e.sourceId, e.count]);
      expect(counts).toEqual([0, 1, 2, 3, 4].map((k) => [`ev-${d + 6 * k}`, k + 1]));
    }
    for (const r of out.on(t.output)) {
      const i = Number((JSON.parse(r.value!.toString()) as EchoOutput).sourceId.slice(3));
      if (i % 2 === 0) expect(r.headers['traceparent']).toBe(traceparent(i));
      else expect(r.headers['traceparent']).toBeUndefined();
    }
    const ends = await endOffsets(t.input);
    await waitUntil('offsets committed up to the end', async () => {
      const committed = await committedOffsets(`tidemark-${t.service}`, t.input);
      return [...ends].every(([p, high]) => committed.get(p) === high);
    });
    expect(service.child.exitCode).toBeNull();
  });

  it('sends poison records to the DLQ with the original bytes and reason, with a finding, and goes on', async () => {
    const t = await echoTopics('poison', 1);
    const good1 = contentEvent('good-1', 'doc');
    const invalidJson = { key: 'wiki/doc', value: Buffer.from('{"specversion": "1.0", nope') };
    const unknownType = {
      key: 'wiki/doc',
      value: JSON.stringify({
        specversion: '1.0',
        id: 'u1',
        source: 's',
        type: 'content.exploded',
        time: '2026-01-01T00:00:00Z',
        data: {},
      }),
      headers: { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`, origin: 'unit' },
    };
    const schemaBreak = {
      key: 'wiki/doc',
      value: JSON.stringify({
        specversion: '1.0',
        id: 's1',
        source: 's',
        type: 'content.upserted',
        time: '2026-01-01T00:00:00Z',
        data: { system: 'wiki', revision: -1 },
      }),
    };
    const handlerThrows = contentEvent('boom-1', 'doc', { title: 'boom' });
    const good2 = contentEvent('good-2', 'doc');
    const inputs = [good1, invalidJson, unknownType, schemaBreak, handlerThrows, good2];
    await produce(t.input, inputs);
    const out = await collect([t.output, t.dlq, t.findings]);
    const service = start(echoEnv(t, { ECHO_FAIL_TITLE: 'boom' }));
    await out.waitFor(
      '2 outputs, 4 dead letters, 4 findings',
      () =>
        out.on(t.output).length >= 2 && out.on(t.dlq).length >= 4 && out.on(t.findings).length >= 4,
    );

    expect(out.json<EchoOutput>(t.output).map((e) => [e.sourceId, e.count])).toEqual([
      ['good-1', 1],
      ['good-2', 2],
    ]);
    const dead = out
      .on(t.dlq)
      .sort(
        (a, b) =>
          Number(a.headers['tidemark.dlq.offset']) - Number(b.headers['tidemark.dlq.offset']),
      );
    expect(dead.map((d) => d.headers['tidemark.dlq.offset'])).toEqual(['1', '2', '3', '4']);
    expect(dead.map((d) => d.headers['tidemark.dlq.error.class'])).toEqual([
      'EnvelopeError',
      'EnvelopeError',
      'EnvelopeError',
      'Error',
    ]);
    for (const [i, d] of dead.entries()) {
      const original = inputs[i + 1]!;
      expect(d.value).toEqual(Buffer.from(original.value as string | Buffer));
      expect(d.key).toBe('wiki/doc');
      expect(d.headers['tidemark.dlq.topic']).toBe(t.input);
      expect(d.headers['tidemark.dlq.partition']).toBe('0');
      expect(d.headers['tidemark.dlq.service']).toBe(t.service);
      expect(d.headers['tidemark.dlq.timestamp']).toMatch(/^\d{13}$/);
    }
    expect(dead[0]!.headers['tidemark.dlq.error.message']).toMatch(/JSON/);
    expect(dead[1]!.headers['tidemark.dlq.error.message']).toMatch(/content\.exploded/);
    // A handler's own error text may quote the record: only its class reaches the header.
    expect(dead[3]!.headers['tidemark.dlq.error.message']).toBe(
      'Error (its message is withheld: it may quote the record)',
    );
    // Original headers travel with the dead letter.
    expect(dead[1]!.headers['origin']).toBe('unit');
    expect(dead[1]!.headers['traceparent']).toBe(unknownType.headers.traceparent);

    const findings = out.json<{
      type: string;
      data: { check: string; evidence: { offset: string; topic: string } };
    }>(t.findings);
    expect(findings.map((f) => [f.type, f.data.check, f.data.evidence.offset]).sort()).toEqual([
      ['tidemark.finding', 'envelope.invalid', '1'],
      ['tidemark.finding', 'envelope.invalid', '2'],
      ['tidemark.finding', 'envelope.invalid', '3'],
      ['tidemark.finding', 'envelope.invalid', '4'],
    ]);

    // /metrics is Prometheus exposition: parse it with a real parser and read the runtime's series.
    await waitUntil(
      'offsets committed',
      async () => (await committedOffsets(`tidemark-${t.service}`, t.input)).get(0) === '6',
    );
    const metrics = await service.get('/metrics');
    expect(metrics.status).toBe(200);
    const families = new Map(parsePrometheusTextFormat(metrics.body).map((f) => [f.name, f]));
    const sample = (name: string, labels: Record<string, string> = {}) =>
      families
        .get(name)
        ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    expect(families.get('tidemark_records_in_total')?.type).toBe('COUNTER');
    expect(Number(sample('tidemark_records_in_total', { topic: t.input })?.value)).toBe(6);
    expect(Number(sample('tidemark_dlq_records_total', { topic: t.input })?.value)).toBe(4);
    expect(Number(sample('tidemark_records_out_total', { topic: t.output })?.value)).toBe(2);
    expect(Number(sample('tidemark_records_out_total', { topic: t.dlq })?.value)).toBe(4);
    expect(families.get('tidemark_handler_duration_seconds')?.type).toBe('HISTOGRAM');
    // (parse-prometheus-text-format folds a histogram's label sets into one; there is one here.)
    expect(families.get('tidemark_handler_duration_seconds')?.metrics[0]?.buckets?.['+Inf']).toBe(
      '6',
    );
    expect(Number(sample('tidemark_consumer_lag', { topic: t.input, partition: '0' })?.value)).toBe(
      0,
    );
    expect(Number(sample('tidemark_state_entries', { partition: '0' })?.value)).toBe(1);
    expect(Number(sample('tidemark_echo_records_total', { topic: t.input })?.value)).toBe(2);
    expect(sample('tidemark_records_in_total')?.labels?.['service']).toBe(t.service);

    expect((await service.get('/healthz')).status).toBe(200);
    const ready = await service.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'ok',
      partitions: [0],
      restoring: [],
      tablesCaughtUp: true,
    });
    expect((await service.get('/nope')).status).toBe(404);
  });

  it('reads a global table in full before it is ready, keeps following it, and ticks every owned partition', async () => {
    const t = await echoTopics('table', 2);
    const table = unique('table');
    await createTopics([table], 2, true);
    await produce(table, [
      { key: 'wiki/a', value: 'first' },
      { key: 'wiki/a', value: 'alpha' },
      { key: 'wiki/b', value: 'beta' },
      { key: 'wiki/c', value: 'gone' },
      { key: 'wiki/c', value: null },
    ]);
    await produce(t.input, [
      contentEvent('a1', 'a'),
      contentEvent('b1', 'b'),
      contentEvent('c1', 'c'),
    ]);
    const out = await collect([t.output]);
    const service = start(
      echoEnv(t, { ECHO_TABLE: table, ECHO_TICK: 'true', TICK_SCHEDULE: '* * * * * *' }),
    );
    const echoes = () =>
      out.json<EchoOutput & { type?: string }>(t.output).filter((e) => e.type !== 'tick');
    await out.waitFor('3 echoes', () => echoes().length >= 3);
    expect(Object.fromEntries(echoes().map((e) => [e.key, e.table]))).toEqual({
      'wiki/a': 'alpha',
      'wiki/b': 'beta',
      'wiki/c': null,
    });
    await service.waitReady();

    await produce(table, [{ key: 'wiki/a', value: 'again' }]);
    await new Promise((r) => setTimeout(r, 1500));
    await produce(t.input, [contentEvent('a2', 'a')]);
    await out.waitFor('echo of a2', () => echoes().some((e) => e.sourceId === 'a2'));
    expect(echoes().find((e) => e.sourceId === 'a2')).toMatchObject({ table: 'again', count: 2 });

    // Ticks: each owned partition ticks with its own state; entries add up to the distinct keys seen.
    type Tick = { type: string; partition: number; entries: number };
    await out.waitFor('ticks of both partitions', () => {
      const ticks = out.json<Tick>(t.output).filter((e) => e.type === 'tick');
      return new Set(ticks.map((k) => k.partition)).size === 2;
    });
    const ticks = out.json<Tick>(t.output).filter((e) => e.type === 'tick');
    const latest = new Map(ticks.map((k) => [k.partition, k.entries]));
    expect([...latest.values()].reduce((a, b) => a + b, 0)).toBe(3);
    const tickMetric = (await service.get('/metrics')).body;
    const family = parsePrometheusTextFormat(tickMetric).find(
      (f) => f.name === 'tidemark_ticks_total',
    );
    expect(family?.metrics.map((m) => m.labels?.['partition']).sort()).toEqual(['0', '1']);
  });
});
