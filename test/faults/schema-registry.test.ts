// Row: the Schema Registry is unreachable. The real contract-checker (services/contract-checker/dist) reads
// Confluent-framed records with SCHEMA_REGISTRY_URL pointing at a local HTTP server that answers 503 for a
// while, then serves the schema. An outage is not bad data: nothing is dead-lettered, no contract.schema
// finding fires, and every record is checked once the registry is back (each document missing its owner
// fires contract.required).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { contractCheckerTopics } from '@tidemark/contract-checks';
import { eventSchemas, type Finding } from '@tidemark/core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { ROOT, unique, waitUntil } from '../runtime/helpers.js';
import { poll } from './cluster.js';
import { reportCounts } from './report.js';
import { PORTS, withBroker } from './rows.js';
import { FaultService } from './service.js';
import { Supervised } from './supervisor.js';

const SCHEMA_ID = 7;
const T = '2026-11-02T10:00:00Z';

/** A Schema Registry stand-in: 503 while `down`, else the content.upserted schema under SCHEMA_ID. */
class Registry {
  down = true;
  requests = { unavailable: 0, served: 0 };
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      if (this.down) {
        this.requests.unavailable++;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 50301, message: 'registry unavailable' }));
        return;
      }
      if (req.url?.startsWith(`/schemas/ids/${SCHEMA_ID}`)) {
        this.requests.served++;
        res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(
          JSON.stringify({
            schemaType: 'JSON',
            schema: JSON.stringify(eventSchemas['content.upserted']),
          }),
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function runbook(docId: string, owner: string | null) {
  return {
    specversion: '1.0',
    id: `${docId}-r1`,
    source: 'connector/confluence-prod',
    type: 'content.upserted',
    time: T,
    subject: `confluence/${docId}`,
    data: {
      system: 'confluence',
      docId,
      revision: 1,
      contentClass: 'runbook',
      title: `Runbook ${docId}`,
      owner,
      classification: 'internal',
      reviewedAt: T,
      deprecated: false,
      attributes: { space: 'OPS', service: 'search' },
    },
  };
}

/** A Confluent wire-format record: magic byte 0, schema id, then the JSON. */
function framed(value: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(SCHEMA_ID, 1);
  return Buffer.concat([header, Buffer.from(JSON.stringify(value))]);
}

describe('fault suite', () => {
  it('Schema Registry unreachable (503), then back', async (ctx) => {
    await withBroker(PORTS.shared, async ({ cluster }) => {
      const registry = new Registry();
      const url = await registry.listen();
      const name = unique('cc');
      const group = `${name}-group`;
      const t = { content: unique('content'), findings: unique('findings'), dlq: unique('dlq') };
      const [nullRates, documents] = contractCheckerTopics(name);
      await cluster.createTopics([t.content, t.findings, t.dlq, nullRates!.name]);
      await cluster.createTopics([{ topic: documents!.name, partitions: 1, compacted: true }]);
      const env = {
        KAFKA_BROKERS: cluster.brokers.join(','),
        SERVICE_NAME: name,
        KAFKA_GROUP_ID: group,
        CONTRACTS_DIR: path.join(ROOT, 'contracts'),
        SCHEMA_REGISTRY_URL: url,
        TOPIC_CONTENT_CHANGES: t.content,
        TOPIC_FINDINGS: t.findings,
        TOPIC_DLQ: t.dlq,
        TICK_SCHEDULE: '*/2 * * * * *',
        KAFKA_SESSION_TIMEOUT: '6s',
      };
      const service = new Supervised(
        'contract-checker',
        () => new FaultService('contract-checker', env),
      );
      onTestFailed(() => service.dump());
      try {
        await service.waitReady();
        // A start on a fresh broker may need a retry; from here on the service must not exit.
        const crashesAtStart = service.crashes;
        const docs = Array.from({ length: 300 }, (_, i) => ({
          doc: `R${i}`,
          ownerless: i % 3 === 0,
        }));
        await cluster.produce(
          t.content,
          docs.map((d) => ({
            key: `confluence/${d.doc}`,
            value: framed(runbook(d.doc, d.ownerless ? null : 'sre@example.com')),
          })),
        );
        // The registry stays down long enough for the client's own retries to give up many times over.
        await waitUntil('the checker to ask the registry', () => registry.requests.unavailable > 0);
        await new Promise((r) => setTimeout(r, 10_000));
        const during = await cluster.readAll(t.dlq);
        const findingsDuring = await cluster.readAll(t.findings);
        reportCounts(ctx, {
          inputs: docs.length,
          dlqDuringOutage: during.length,
          findingsDuringOutage: findingsDuring.length,
          http503: registry.requests.unavailable,
        });
        expect(during).toEqual([]);
        expect(service.crashes).toBe(crashesAtStart);

        registry.down = false;
        await poll(
          'the checker to commit every record',
          () => cluster.consumedAll(group, t.content),
          90_000,
        );
        const ownerless = new Set(docs.filter((d) => d.ownerless).map((d) => d.doc));
        const required = async () => {
          const findings = (await cluster.readAll(t.findings)).map(
            (r) => (JSON.parse(r.value!.toString()) as { data: Finding }).data,
          );
          return findings;
        };
        await poll(
          'contract.required for every ownerless document',
          async () =>
            (await required()).filter((f) => f.check === 'contract.required').length >=
            ownerless.size,
          60_000,
        );
        const findings = await required();
        const dlq = await cluster.readAll(t.dlq);
        const fired = new Set(
          findings.filter((f) => f.check === 'contract.required').map((f) => f.subject.docId),
        );
        reportCounts(ctx, {
          expected: ownerless.size,
          findings: findings.length,
          dlq: dlq.length,
          schemaFindings: findings.filter((f) => f.check === 'contract.schema').length,
          lost: [...ownerless].filter((d) => !fired.has(d)).length,
          restarts: service.crashes - crashesAtStart,
        });
        expect(dlq).toEqual([]);
        expect(findings.filter((f) => f.check === 'contract.schema')).toEqual([]);
        expect(fired).toEqual(ownerless);
        // The outage never stopped the service.
        expect(service.crashes).toBe(crashesAtStart);
      } finally {
        await service.stop();
        await registry.close();
      }
    });
  });
});
