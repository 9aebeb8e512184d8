// Restricted documents that break contracts and get dead-lettered, through the real contract-checker, and that fall
// behind on sync, through the real freshness-monitor: their titles and field values appear in no output record
// (value, key or header) and in no log line — ids and reasons only.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { contractCheckerTopics } from '@tidemark/contract-checks';
import { DLQ_VALUE_WITHHELD_HEADER } from '@tidemark/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Collector,
  ROOT,
  ServiceProcess,
  closeProducer,
  createTopics,
  produce,
  unique,
} from '../runtime/helpers.js';
import { CONNECTOR, FreshnessProcess, SYSTEM, freshnessSetup } from '../freshness/helpers.js';

const CHECKER_MAIN = path.join(ROOT, 'services/contract-checker/dist/main.js');
const tag = randomBytes(4).toString('hex');
/** Values no output may contain: each is unique to this run. */
const SECRETS = {
  title: `Nightjar acquisition ${tag}`,
  owner: `ceo-${tag}@example.com`,
  space: `MNA${tag}`,
  language: `Xx_${tag}`,
  revision: `rev-${tag}`,
  specversion: `sv-${tag}`,
};

function restrictedDoc(docId: string, data: Record<string, unknown>, envelope = {}): string {
  return JSON.stringify({
    specversion: '1.0',
    id: `evt-${docId}`,
    source: 'connector/confluence-prod',
    type: 'content.upserted',
    time: new Date().toISOString(),
    subject: `confluence/${docId}`,
    ...envelope,
    data: {
      system: 'confluence',
      docId,
      revision: 1,
      contentClass: 'policy',
      title: SECRETS.title,
      classification: 'restricted',
      owner: SECRETS.owner,
      ...data,
    },
  });
}

const running: Array<ServiceProcess | Collector> = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const r of running) await (r instanceof Collector ? r.close() : r.dispose());
  await closeProducer();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Counts of each secret in `written` outside the steward field (an id that findings route on). */
/** What secretHits must find in everything a service wrote: no secret anywhere. */
const NO_HITS = {
  title: 0,
  owner: 0,
  space: 0,
  language: 0,
  revision: 0,
  specversion: 0,
};

function secretHits(written: string): Record<string, number> {
  const stewardField = `\\"steward\\":\\"${SECRETS.owner}\\"`;
  const elsewhere = written.split(stewardField).join('');
  return Object.fromEntries(
    Object.entries(SECRETS).map(([field, value]) => [field, elsewhere.split(value).length - 1]),
  );
}

/** Everything a run wrote: every output record (key, value, headers) and every log line of the service. */
function everythingWritten(out: Collector, service: ServiceProcess): string {
  return [
    ...out.records.map((r) =>
      JSON.stringify({ key: r.key, value: r.value?.toString() ?? null, headers: r.headers }),
    ),
    ...service.logs.map((l) => JSON.stringify(l)),
    service.stderr,
  ].join('\n');
}

describe('restricted documents', () => {
  it('leave ids and reasons only: 0 hits for their titles and values in outputs and logs', async () => {
    const name = unique('contract-checker');
    const t = {
      content: unique('content'),
      findings: unique('findings'),
      dlq: unique('dlq'),
    };
    await createTopics([t.content, t.findings, t.dlq]);
    for (const internal of contractCheckerTopics(name))
      await createTopics([internal.name], 3, internal.compacted);
    const service = new ServiceProcess(
      {
        SERVICE_NAME: name,
        KAFKA_GROUP_ID: `tidemark-${name}`,
        CONTRACTS_DIR: path.join(ROOT, 'contracts'),
        TOPIC_CONTENT_CHANGES: t.content,
        TOPIC_FINDINGS: t.findings,
        TOPIC_DLQ: t.dlq,
      },
      [],
      CHECKER_MAIN,
    );
    running.push(service);
    await service.waitReady();
    const out = await Collector.start([t.findings, t.dlq]);
    running.push(out);

    await produce(t.content, [
      // Contract breaks: a finding each, about the document.
      { key: 'confluence/R1', value: restrictedDoc('R1', { owner: null }) },
      {
        key: 'confluence/R2',
        value: restrictedDoc('R2', { attributes: { space: SECRETS.space } }),
      },
      { key: 'confluence/R3', value: restrictedDoc('R3', { language: SECRETS.language }) },
      // Schema breaks: dead letters, value withheld.
      { key: 'confluence/R4', value: restrictedDoc('R4', { revision: SECRETS.revision }) },
      {
        key: 'confluence/R5',
        value: restrictedDoc('R5', {}, { specversion: SECRETS.specversion }),
      },
    ]);

    const docsWithFindings = () =>
      new Set(
        out
          .json<{ data: { check: string; subject: { docId?: string } } }>(t.findings)
          .filter((f) => f.data.check.startsWith('contract.'))
          .map((f) => f.data.subject.docId),
      );
    await out.waitFor(
      'contract findings for R1-R3 and two dead letters',
      () =>
        ['R1', 'R2', 'R3'].every((d) => docsWithFindings().has(d)) && out.on(t.dlq).length === 2,
    );

    const dead = out.on(t.dlq);
    expect(dead.map((d) => [d.key, d.value, d.headers[DLQ_VALUE_WITHHELD_HEADER]]).sort()).toEqual([
      ['confluence/R4', null, 'classification restricted'],
      ['confluence/R5', null, 'classification restricted'],
    ]);
    expect(dead.map((d) => d.headers['tidemark.dlq.error.message']).sort()).toEqual([
      'content.upserted event breaks its schema: data.revision must be integer',
      'record is not a CloudEvents 1.0 event: specversion must be "1.0"',
    ]);

    const written = everythingWritten(out, service);
    expect(service.logs.some((l) => l.msg === 'record sent to the dead-letter topic')).toBe(true);
    // The steward's id is an id, not content: findings route on it (owner.steward, spec outputs.md). It may appear
    // there and nowhere else.
    expect(written.split(`\\"steward\\":\\"${SECRETS.owner}\\"`).length - 1).toBeGreaterThan(0);
    expect(secretHits(written)).toEqual(NO_HITS);
  });

  it('that fall behind on sync leave ids only: 0 hits in sync-lag findings, dead letters and logs', async () => {
    const { t, dir, env } = await freshnessSetup('rs', {}); // system-wide sync-lag SLA: 3s
    dirs.push(dir);
    const service = new FreshnessProcess({
      ...env,
      TICK_SCHEDULE: '* * * * * *',
      LOG_LEVEL: 'debug',
    });
    running.push(service);
    await service.waitReady();
    const out = await Collector.start([t.findings, t.dlq]);
    running.push(out);

    const at = Date.now();
    const change = (docId: string, data: Record<string, unknown> = {}) => ({
      key: `${SYSTEM}/${docId}`,
      value: restrictedDoc(
        docId,
        {
          system: SYSTEM,
          contentClass: 'faq',
          attributes: { space: SECRETS.space },
          language: SECRETS.language,
          ...data,
        },
        { subject: `${SYSTEM}/${docId}`, time: new Date(at).toISOString() },
      ),
    });
    await produce(t.content, [
      change('S1'), // never indexed: fires
      change('S2'), // indexed after its SLA: fires, then resolves
      change('S3', { revision: SECRETS.revision }), // breaks the schema: dead letter, value withheld
    ]);
    const syncLag = (docId: string, status: string) =>
      out
        .json<{ data: { check: string; status: string; subject: { docId?: string } } }>(t.findings)
        .some(
          (f) =>
            f.data.check === 'freshness.sync-lag' &&
            f.data.subject.docId === docId &&
            f.data.status === status,
        );
    await out.waitFor('S1 and S2 behind on sync', () =>
      ['S1', 'S2'].every((d) => syncLag(d, 'firing')),
    );
    await produce(t.sync, [
      {
        key: `${SYSTEM}/S2`,
        value: JSON.stringify({
          specversion: '1.0',
          id: `idx-S2-${tag}`,
          source: `connector/${CONNECTOR}`,
          type: 'index.upserted',
          time: new Date().toISOString(),
          subject: `${SYSTEM}/S2`,
          data: {
            system: SYSTEM,
            docId: 'S2',
            revision: 1,
            connector: CONNECTOR,
            sourceTime: new Date(at).toISOString(),
          },
        }),
      },
    ]);
    await out.waitFor(
      'S2 resolved and S3 dead-lettered',
      () => syncLag('S2', 'resolved') && out.on(t.dlq).length === 1,
    );

    expect(
      out.on(t.dlq).map((d) => [d.key, d.value, d.headers[DLQ_VALUE_WITHHELD_HEADER]]),
    ).toEqual([[`${SYSTEM}/S3`, null, 'classification restricted']]);
    const lagFindings = out
      .json<{ data: { check: string; restricted?: boolean } }>(t.findings)
      .filter((f) => f.data.check === 'freshness.sync-lag');
    expect(lagFindings.length).toBeGreaterThanOrEqual(3);
    expect(lagFindings.every((f) => f.data.restricted === true)).toBe(true);
    const written = everythingWritten(out, service);
    expect(written).toContain('S1'); // ids are kept
    expect(secretHits(written)).toEqual(NO_HITS);
  });
});
