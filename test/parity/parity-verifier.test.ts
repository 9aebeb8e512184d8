// The parity-verifier on the real broker, hosted in-process by the runtime on the wall clock with short
// SLAs: a deletion the index never applies (delete-missed) and an ACL the index gets wrong (acl-mismatch)
// fire from the tick; after a restart with both open, the index catching up resolves each exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTopics, stateTopic, type Finding } from '@tidemark/core';
import { createParityService, massRemovalTopic, staticParitySettings } from '@tidemark/parity';
import { runService, type ServiceHandle } from '@tidemark/runtime';
import { closeProducer, Collector, createTopics, produce, unique } from '../runtime/helpers.js';

let seq = 0;
function event(type: string, docId: string, data: Record<string, unknown>) {
  const now = new Date().toISOString();
  const sync = type.startsWith('index.');
  return {
    specversion: '1.0',
    id: `${docId}-${type}-${++seq}`,
    source: sync ? 'connector/wiki-prod' : 'source/wiki',
    type,
    time: now,
    subject: `wiki/${docId}`,
    data: {
      system: 'wiki',
      docId,
      ...(sync ? { connector: 'wiki-prod', sourceTime: now } : {}),
      ...(type === 'content.upserted' ? { contentClass: 'policy', title: docId } : {}),
      ...data,
    },
  };
}

/** Topics, changelog and partials topic of one parity-verifier, and a way to (re)start it in-process. */
async function parityFixture(
  prefix: string,
  settings: ReturnType<typeof staticParitySettings>,
  handles: ServiceHandle[],
) {
  const name = unique(prefix);
  const t = {
    content: unique(`${prefix}-content`),
    sync: unique(`${prefix}-sync`),
    inventory: unique(`${prefix}-inventory`),
    findings: unique(`${prefix}-findings`),
    dlq: unique(`${prefix}-dlq`),
  };
  await createTopics([t.content, t.sync, t.inventory, t.findings, t.dlq], 3);
  // The recent-changes table reads the service's own changelog: it must exist before the first start; the
  // mass-removal partials topic is an input (co-partitioned).
  await createTopics([stateTopic(name)], 3, true);
  await createTopics([massRemovalTopic(name)], 3);
  const topics = resolveTopics({
    contentChanges: t.content,
    syncEvents: t.sync,
    inventorySnapshots: t.inventory,
    findings: t.findings,
    dlq: t.dlq,
  });
  const env = {
    KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    KAFKA_GROUP_ID: unique(`${prefix}-group`),
    TOPIC_CONTENT_CHANGES: t.content,
    TOPIC_SYNC_EVENTS: t.sync,
    TOPIC_INVENTORY_SNAPSHOTS: t.inventory,
    TOPIC_FINDINGS: t.findings,
    TOPIC_DLQ: t.dlq,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    TICK_SCHEDULE: '* * * * * *',
  };
  const start = async () => {
    const handle = await runService(createParityService({ settings, topics, name }), {
      env,
      handleSignals: false,
      exit: () => undefined,
    });
    handles.push(handle);
    return handle;
  };
  return { t, start };
}

describe('parity-verifier through the real broker', () => {
  const handles: ServiceHandle[] = [];
  afterAll(async () => {
    for (const h of handles) await h.stop('test over');
    await closeProducer();
  });

  it('fires delete-missed and acl-mismatch from the tick, and resolves each once after a restart', async () => {
    const { t, start } = await parityFixture(
      'pv',
      staticParitySettings({ deleteSlaMs: 2000, aclSlaMs: 2000 }),
      handles,
    );
    const out = await Collector.start([t.findings, t.dlq]);
    const first = await start();
    const send = (topic: string, e: ReturnType<typeof event>) =>
      produce(topic, [{ key: `wiki/${e.data.docId}`, value: JSON.stringify(e) }]);
    await send(t.content, event('content.upserted', 'gone', { revision: 1 }));
    await send(t.sync, event('index.upserted', 'gone', { revision: 1 }));
    await send(t.content, event('content.deleted', 'gone', { revision: 2 }));
    await send(t.content, event('content.upserted', 'locked', { revision: 1, aclHash: 'tight' }));
    await send(t.sync, event('index.upserted', 'locked', { revision: 1, aclHash: 'open' }));

    const findings = () => out.json<{ data: Finding }>(t.findings).map((e) => e.data);
    const seen = (check: string, docId: string, status: string) =>
      findings().filter(
        (f) => f.check === check && f.subject.docId === docId && f.status === status,
      );
    await out.waitFor(
      'delete-missed and acl-mismatch firing',
      () =>
        seen('parity.delete-missed', 'gone', 'firing').length > 0 &&
        seen('parity.acl-mismatch', 'locked', 'firing').length > 0,
    );
    expect(seen('parity.acl-mismatch', 'locked', 'firing')[0]).toMatchObject({
      severity: 'critical',
      evidence: { sourceAclHash: 'tight', indexAclHash: 'open' },
    });

    // Restart with both open: nothing fires again; the index catching up resolves each exactly once.
    expect(await first.stop('restart')).toBe(0);
    await start();
    await send(t.sync, event('index.removed', 'gone', { revision: 2 }));
    await send(t.sync, event('index.upserted', 'locked', { revision: 1, aclHash: 'tight' }));
    await out.waitFor(
      'both resolved',
      () =>
        seen('parity.delete-missed', 'gone', 'resolved').length > 0 &&
        seen('parity.acl-mismatch', 'locked', 'resolved').length > 0,
    );
    await new Promise((r) => setTimeout(r, 2500));
    const history = findings()
      .filter((f) => f.check.startsWith('parity.'))
      .map((f) => `${f.check} ${f.subject.docId} ${f.status}`)
      .sort();
    expect(history).toEqual([
      'parity.acl-mismatch locked firing',
      'parity.acl-mismatch locked resolved',
      'parity.delete-missed gone firing',
      'parity.delete-missed gone resolved',
    ]);
    expect(out.on(t.dlq)).toEqual([]);
    await out.close();
  });

  it('merges a mass removal over all partitions into one finding through the partials topic', async () => {
    const { t, start } = await parityFixture(
      'pm',
      staticParitySettings({ massRemoval: { share: 0.5, windowMs: 15 * 60_000, minDocuments: 6 } }),
      handles,
    );
    await start();
    const out = await Collector.start([t.findings, t.dlq]);
    const docs = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const sync = (type: string, docId: string) => {
      const e = event(type, docId, { revision: 1 });
      return { key: `wiki/${docId}`, value: JSON.stringify(e) };
    };
    // Keys spread over the three partitions; each partition's first tick reports what it holds.
    await produce(
      t.sync,
      docs.map((d) => sync('index.upserted', d)),
    );
    await new Promise((r) => setTimeout(r, 3000));
    await produce(
      t.sync,
      docs.slice(0, 9).map((d) => sync('index.removed', d)),
    );
    const mass = () =>
      out
        .json<{ data: Finding }>(t.findings)
        .map((e) => e.data)
        .filter((f) => f.check === 'parity.mass-removal');
    await out.waitFor('one mass-removal finding', () => mass().length > 0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(mass().map((f) => `${f.status} ${JSON.stringify(f.subject)}`)).toEqual([
      'firing {"system":"wiki"}',
    ]);
    // Fired once the system as a whole crossed the share (> 6 of 12), whatever order the partials came in.
    expect(mass()[0]?.evidence).toMatchObject({ known: 12, connector: 'wiki-prod' });
    expect(mass()[0]?.evidence['count']).toBeGreaterThanOrEqual(7);
    expect(out.on(t.dlq)).toEqual([]);
    await out.close();
  });
});
