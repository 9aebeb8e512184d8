import { describe, expect, it } from 'vitest';
import {
  DLQ_HEADERS,
  noopMetrics,
  resolveTopics,
  type Finding,
  type HandlerContext,
  type InputRecord,
  type OutputRecord,
} from '@tidemark/core';
import { loadContractsOrThrow } from '@tidemark/contracts';
import { createContractCheckerService, type ContractCheckerEvent } from './service.js';
import { ContractCheckerState } from './state.js';
import { documentRegistryTopic } from './registry.js';
import { NULL_RATE_SETTLE_MS, nullRateTopic } from './null-rate.js';

const DOCUMENT_REGISTRY_TOPIC = documentRegistryTopic('contract-checker');
const NULL_RATE_TOPIC = nullRateTopic('contract-checker');

const CONTRACT = `
apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: 7
owner: { team: docs, platformOwner: platform }
labels: { tier: gold }
required: [title, owner]
allowed:
  classification: { values: [public, internal, restricted] }
rules:
  - name: deprecated-needs-successor
    expression: '!has(data.deprecated) || !data.deprecated || (has(data.supersededBy) && data.supersededBy != null)'
    severity: warning
    message: A deprecated page must name its successor.
  - name: size-is-sane
    expression: 'data.sizeBytes < 1000000'
    message: Page too large.
    mode: shadow
references:
  - field: supersededBy
    gracePeriod: 1h
nullRates:
  - field: owner
    window: 1h
    threshold: 0.3
    minCount: 4
classes:
  policy:
    owner: { steward: policy-office@example.com }
`;
const OWNERS = `
apiVersion: tidemark/v1
kind: Owners
teams:
  docs: { contact: docs@example.com }
  platform: { contact: platform@example.com }
`;

const contracts = loadContractsOrThrow([
  { path: 'contracts/wiki.yaml', text: CONTRACT },
  { path: 'contracts/owners.yaml', text: OWNERS },
]);
const topics = resolveTopics();
const T0 = Date.parse('2026-11-02T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function upsert(docId: string, revision: number, data: Record<string, unknown> = {}, at = T0) {
  return {
    specversion: '1.0',
    id: `${docId}-${revision}`,
    source: 'connector/wiki',
    type: 'content.upserted',
    time: iso(at),
    subject: `wiki/${docId}`,
    data: {
      system: 'wiki',
      docId,
      revision,
      contentClass: 'policy',
      title: 'Travel policy',
      owner: 'ana@example.com',
      classification: 'internal',
      sizeBytes: 100,
      ...data,
    },
  } as unknown as ContractCheckerEvent;
}
function deleted(docId: string, revision: number, at = T0) {
  return {
    specversion: '1.0',
    id: `${docId}-del-${revision}`,
    source: 'connector/wiki',
    type: 'content.deleted',
    time: iso(at),
    data: { system: 'wiki', docId, revision },
  } as unknown as ContractCheckerEvent;
}

const record = (partition = 0): InputRecord => ({
  topic: topics.contentChanges,
  partition,
  offset: '0',
  timestamp: '0',
  key: 'wiki/P1',
  value: Buffer.from('{}'),
  headers: {},
});
const ctx = (now = T0, partition = 0): HandlerContext => ({
  now,
  partition,
  service: 'contract-checker',
  topics,
  metrics: noopMetrics,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
});
const findings = (out: OutputRecord[]): Finding[] =>
  out
    .filter((r) => r.topic === topics.findings)
    .map((r) => JSON.parse(String(r.value)).data as Finding);
const brief = (out: OutputRecord[]) =>
  findings(out)
    .map((f) => `${f.status} ${f.check} ${f.subject.field ?? f.subject.feature}`)
    .sort();

function setup() {
  const service = createContractCheckerService({ contracts, topics });
  const state = new ContractCheckerState();
  const run = (event: ContractCheckerEvent, now = T0) =>
    service.handle(state, event, record(), ctx(now));
  return { service, state, run };
}

describe('contract checker: per-document rules', () => {
  it('evaluates every rule and fires one finding per broken rule', () => {
    const { run } = setup();
    const out = run(
      upsert('P1', 1, {
        owner: null,
        classification: 'secret',
        deprecated: true,
        sizeBytes: 5_000_000,
      }),
    );
    expect(brief(out)).toEqual([
      'firing contract.allowed classification',
      'firing contract.required owner',
      'firing contract.rule deprecated-needs-successor',
      'firing contract.rule size-is-sane',
    ]);
    const [allowed] = findings(out).filter((f) => f.check === 'contract.allowed');
    expect(allowed).toMatchObject({
      severity: 'warning',
      subject: { system: 'wiki', docId: 'P1', field: 'classification' },
      owner: { steward: 'policy-office@example.com', team: 'docs', platformOwner: 'platform' },
      evidence: {
        field: 'classification',
        observed: 'secret',
        expected: 'one of "public", "internal", "restricted"',
      },
      contract: { file: 'contracts/wiki.yaml', version: '7' },
      labels: { tier: 'gold' },
      traceparent: ctx().traceparent,
      observedAt: iso(T0),
    });
    expect(findings(out).find((f) => f.subject.feature === 'size-is-sane')?.shadow).toBe(true);
    expect(
      findings(out).find((f) => f.subject.feature === 'deprecated-needs-successor')?.shadow,
    ).toBeUndefined();
  });

  it('tells missing, null and empty apart in the evidence', () => {
    const { run } = setup();
    const observed = (data: Record<string, unknown>, docId: string) =>
      findings(run(upsert(docId, 1, data))).find((f) => f.check === 'contract.required')?.evidence[
        'observed'
      ];
    expect(observed({ owner: undefined }, 'A')).toBe('missing');
    expect(observed({ owner: null }, 'B')).toBe('null');
    expect(observed({ owner: '' }, 'C')).toBe('empty');
    expect(observed({}, 'D')).toBeUndefined();
  });

  it('resolves what a later revision fixes, keeps the rest, and ignores older and repeated revisions', () => {
    const { run } = setup();
    run(upsert('P1', 2, { owner: null, classification: 'secret' }));
    expect(brief(run(upsert('P1', 1, {})))).toEqual([]); // older revision arrives late: no effect
    expect(brief(run(upsert('P1', 2, {})))).toEqual([]); // duplicate delivery of rev 2
    expect(brief(run(upsert('P1', 3, { classification: 'secret' })))).toEqual([
      'resolved contract.required owner',
    ]);
    expect(brief(run(upsert('P1', 4, { classification: 'secret' })))).toEqual([]); // still broken: not re-fired
    expect(brief(run(upsert('P1', 5)))).toEqual(['resolved contract.allowed classification']);
  });

  it('a deleted document resolves its open findings; an older upsert after the delete is ignored', () => {
    const { run } = setup();
    run(upsert('P1', 1, { owner: null }));
    const out = run(deleted('P1', 2));
    expect(brief(out)).toEqual(['resolved contract.required owner']);
    expect(out.find((r) => r.topic === DOCUMENT_REGISTRY_TOPIC)).toEqual({
      topic: DOCUMENT_REGISTRY_TOPIC,
      key: 'wiki/P1',
      value: '{"deleted":true}',
    });
    expect(brief(run(upsert('P1', 1, { owner: null })))).toEqual([]);
  });

  it('a rule that errors at run time is a finding with the error, not a crash', () => {
    const { run } = setup();
    const out = run(upsert('P1', 1, { sizeBytes: undefined }));
    const f = findings(out).find((x) => x.subject.feature === 'size-is-sane');
    expect(f?.status).toBe('firing');
    expect(String(f?.evidence['error'])).toMatch(/sizeBytes/);
  });

  it('restricted documents carry ids only', () => {
    const { run } = setup();
    const out = run(
      upsert('P9', 1, { classification: 'restricted', title: 'Layoff plan 2027', owner: null }),
    );
    const [f] = findings(out);
    expect(f?.restricted).toBe(true);
    expect(JSON.stringify(out)).not.toContain('Layoff plan');
    expect(f?.summary).toBe('contract.required on wiki/P9 (restricted document: details withheld)');
  });
});

describe('contract checker: references', () => {
  it('fires after the grace period when the target is unknown, and resolves once it appears', () => {
    const { service, state, run } = setup();
    run(upsert('OLD', 1, { deprecated: true, supersededBy: 'wiki/NEW' }));
    const tick = (now: number) => service.tick(state, ctx(now));
    expect(brief(tick(T0 + 3_599_999))).toEqual([]);
    expect(brief(tick(T0 + 3_600_000))).toEqual(['firing contract.reference supersededBy']);
    expect(brief(tick(T0 + 3_700_000))).toEqual([]);
    service.registry.apply('wiki/NEW', Buffer.from('{"deleted":false}'));
    expect(brief(tick(T0 + 3_800_000))).toEqual(['resolved contract.reference supersededBy']);
    service.registry.apply('wiki/NEW', Buffer.from('{"deleted":true}'));
    const again = findings(tick(T0 + 3_900_000));
    expect(again.map((f) => [f.status, f.evidence['targetStatus']])).toEqual([
      ['firing', 'deleted'],
    ]);
  });

  it('a target known within the grace period never fires', () => {
    const { service, state, run } = setup();
    run(upsert('OLD', 1, { supersededBy: 'wiki/NEW' }));
    service.registry.apply('wiki/NEW', Buffer.from('{"deleted":false}'));
    expect(brief(service.tick(state, ctx(T0 + 7_200_000)))).toEqual([]);
  });
});

describe('contract checker: null rate over all partitions', () => {
  it('merges partial windows from two partitions, fires over the threshold, resolves below it', () => {
    const service = createContractCheckerService({ contracts, topics });
    const p0 = new ContractCheckerState();
    const p1 = new ContractCheckerState();
    const H = 3_600_000;
    const feed = (state: ContractCheckerState, window: number, owners: Array<string | null>) =>
      owners.forEach((owner, i) =>
        service.handle(
          state,
          upsert(`W${window}-${i}-${state === p0 ? 0 : 1}`, 1, { owner }, T0 + window * H + i),
          record(),
          ctx(),
        ),
      );
    // window 0: 2 of 6 without owner (33% > 30%) spread over two partitions
    feed(p0, 0, ['a', null, 'b']);
    feed(p1, 0, ['c', null, 'd']);
    // window 1: 1 of 6 (17%)
    feed(p0, 1, ['a', 'b', 'c']);
    feed(p1, 1, [null, 'd', 'e']);
    const decider = new ContractCheckerState();
    const decide = (now: number) => {
      const partials = [...service.tick(p0, ctx(now)), ...service.tick(p1, ctx(now))].filter(
        (r) => r.topic === NULL_RATE_TOPIC,
      );
      for (const p of partials)
        service.handle(decider, JSON.parse(String(p.value)), record(), ctx(now));
      return service.tick(decider, ctx(now));
    };
    expect(brief(decide(T0 + H + NULL_RATE_SETTLE_MS - 1))).toEqual([]);
    const fired = findings(decide(T0 + H + NULL_RATE_SETTLE_MS));
    expect(
      fired.map((f) => [
        f.status,
        f.check,
        f.subject.field,
        f.evidence['count'],
        f.evidence['nulls'],
      ]),
    ).toEqual([['firing', 'contract.null-rate', 'owner', 6, 2]]);
    expect(fired[0]?.subject).toEqual({ system: 'wiki', contentClass: 'policy', field: 'owner' });
    const resolved = findings(decide(T0 + 2 * H + NULL_RATE_SETTLE_MS));
    expect(resolved.map((f) => [f.status, f.evidence['count'], f.evidence['nulls']])).toEqual([
      ['resolved', 6, 1],
    ]);
  });

  it('gives no verdict on a window under the minimum count', () => {
    const service = createContractCheckerService({ contracts, topics });
    const p0 = new ContractCheckerState();
    for (const [i, owner] of [null, null, 'x'].entries()) {
      service.handle(p0, upsert(`S${i}`, 1, { owner }, T0 + i), record(), ctx());
    }
    const partials = service
      .tick(p0, ctx(T0 + 7_200_000))
      .filter((r) => r.topic === NULL_RATE_TOPIC);
    expect(partials).toHaveLength(1);
    const decider = new ContractCheckerState();
    service.handle(decider, JSON.parse(String(partials[0]!.value)), record(), ctx());
    expect(brief(service.tick(decider, ctx(T0 + 7_200_000)))).toEqual([]);
  });
});

describe('contract checker: state', () => {
  it('restores from its own changelog: open findings resolve after a restart, nothing fires twice', () => {
    const { service, state, run } = setup();
    run(upsert('P1', 1, { owner: null }));
    const restored = new ContractCheckerState();
    for (const c of state.drainChanges()) restored.restore(c.key, c.value);
    const again = service.handle(restored, upsert('P1', 1, { owner: null }), record(), ctx());
    expect(brief(again)).toEqual([]);
    const fixed = service.handle(restored, upsert('P1', 2), record(), ctx());
    expect(brief(fixed)).toEqual(['resolved contract.required owner']);
  });
});

describe('contract checker: Schema Registry framed records', () => {
  it('a framed record that fails its schema is a contract.schema finding and a dead letter', async () => {
    const framed = {
      deserialize: async () => {
        throw new Error('payload fails schema 42: /data/title must be string');
      },
    };
    const service = createContractCheckerService({ contracts, topics, framed });
    const input = {
      ...record(),
      value: Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), Buffer.from('{}')]),
    };
    const event = await service.decode(input);
    const out = await service.handle(new ContractCheckerState(), event, input, ctx());
    const dlq = out.find((r) => r.topic === topics.dlq);
    expect(dlq?.value).toBe(input.value);
    // The registry's text may quote the record: only its class reaches the header.
    expect(dlq?.headers?.[DLQ_HEADERS.errorMessage]).toBe(
      'Error (its message is withheld: it may quote the record)',
    );
    expect(findings(out).map((f) => [f.check, f.subject.docId])).toEqual([
      ['contract.schema', 'P1'],
    ]);
  });

  it('a framed record without a configured registry is rejected with a clear error', async () => {
    const service = createContractCheckerService({ contracts, topics });
    const input = { ...record(), value: Buffer.from([0, 0, 0, 0, 1, 123, 125]) };
    await expect(service.decode(input)).rejects.toThrow(
      'record is Schema Registry framed but no SCHEMA_REGISTRY_URL is configured',
    );
  });
});
