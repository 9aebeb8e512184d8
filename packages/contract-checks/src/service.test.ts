import { describe, expect, it } from 'vitest';
import {
  DLQ_HEADERS,
  findingFingerprint,
  noopMetrics,
  resolveTopics,
  type Finding,
  type HandlerContext,
  type InputRecord,
  type OutputRecord,
} from '@tidemark/core';
import { loadContractsOrThrow } from '@tidemark/contracts';
import type { ContractCheckerEvent } from './decode.js';
import { createContractCheckerService } from './service.js';
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
          ctx(T0 + window * H + i), // the host clock follows event time, as in replay
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
    // A system-level entry without `classes:` is judged over the whole system: no content class in the subject.
    expect(fired[0]?.subject).toEqual({ system: 'wiki', field: 'owner' });
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

describe('contract checker: deadlines', () => {
  const H = 3_600_000;

  it('reports when its tick next has work, and re-checks a past-due reference only when its target changes', () => {
    const { service, state, run } = setup();
    expect(service.nextTick(state)).toBe(Infinity);
    run(upsert('OLD', 1, { supersededBy: 'wiki/NEW' }));
    // The reference is due after its grace period; the window of the owner null rate closes after its lateness.
    expect(service.nextTick(state)).toBe(T0 + H);
    expect(brief(service.tick(state, ctx(T0 + H)))).toEqual([
      'firing contract.reference supersededBy',
    ]);
    service.tick(state, ctx(T0 + 2 * H + 60_000)); // closes the null-rate window
    expect(service.nextTick(state)).toBe(Infinity);
    service.registry.apply('wiki/NEW', Buffer.from('{"deleted":false}'));
    expect(service.nextTick(state)).toBe(-Infinity);
    expect(brief(service.tick(state, ctx(T0 + 3 * H)))).toEqual([
      'resolved contract.reference supersededBy',
    ]);
    expect(service.nextTick(state)).toBe(Infinity);
  });

  it('a restored partition checks its references again when due, without firing twice', () => {
    const { service, state, run } = setup();
    run(upsert('OLD', 1, { supersededBy: 'wiki/NEW' }));
    expect(brief(service.tick(state, ctx(T0 + H)))).toEqual([
      'firing contract.reference supersededBy',
    ]);
    const restored = new ContractCheckerState();
    for (const c of state.drainChanges()) restored.restore(c.key, c.value);
    expect(brief(service.tick(restored, ctx(T0 + H + 10_000)))).toEqual([]);
    service.registry.apply('wiki/NEW', Buffer.from('{"deleted":false}'));
    expect(brief(service.tick(restored, ctx(T0 + H + 20_000)))).toEqual([
      'resolved contract.reference supersededBy',
    ]);
  });

  it('a record dated far in the future moves no watermark: null-rate windows keep closing', () => {
    const { service, state, run } = setup();
    run(upsert('FUTURE', 1, { owner: null }, Date.parse('2099-01-01T00:00:00Z')));
    expect(state.watermark).toBe(0);
    run(upsert('NOW', 1, {}, T0 + 1000), T0 + 1000);
    expect(state.watermark).toBe(T0 + 1000);
    const partials = service
      .tick(state, ctx(T0 + H + 60_000))
      .filter((r) => r.topic === NULL_RATE_TOPIC)
      .map((r) => JSON.parse(String(r.value)).data);
    // Only the believable event is counted; the 2099 one opened no window.
    expect(partials.map((p) => [p.n, p.nulls])).toEqual([[1, 0]]);
    expect(service.nextTick(state)).toBe(Infinity);
  });

  it('an event within the allowed skew still counts and moves the watermark', () => {
    const service = createContractCheckerService({ contracts, topics, maxFutureSkewMs: 2 * H });
    const state = new ContractCheckerState();
    service.handle(state, upsert('SOON', 1, {}, T0 + H + 1), record(), ctx(T0));
    expect(state.watermark).toBe(T0 + H + 1);
  });

  it.each([
    [
      { maxFutureSkewMs: -1 },
      'contract-checker: maxFutureSkewMs must be a non-negative number of ms, got -1',
    ],
    [
      { deletedRetentionMs: Number.NaN },
      'contract-checker: deletedRetentionMs must be a non-negative number of ms, got NaN',
    ],
  ])('rejects %j', (extra, message) => {
    expect(() => createContractCheckerService({ contracts, topics, ...extra })).toThrow(RangeError);
    expect(() => createContractCheckerService({ contracts, topics, ...extra })).toThrow(message);
  });
});

describe('contract checker: bounded state', () => {
  const H = 3_600_000;
  const registryOut = (out: OutputRecord[]) =>
    out.filter((r) => r.topic === DOCUMENT_REGISTRY_TOPIC).map((r) => [r.key, r.value]);

  it('forgets a deleted document after the retention: state entry and registry entry tombstoned', () => {
    const { service, state, run } = setup();
    const gauges: Array<[string, number]> = [];
    const metered = (now: number): HandlerContext => ({
      ...ctx(now),
      metrics: { record: (name, _labels, value) => gauges.push([name, value]) },
    });
    for (const out of [run(upsert('GONE', 1)), run(upsert('KEPT', 1))]) {
      for (const r of out)
        if (r.topic === DOCUMENT_REGISTRY_TOPIC)
          service.registry.apply(r.key!, Buffer.from(String(r.value)));
    }
    const del = run(deleted('GONE', 2, T0 + 1000), T0 + 1000);
    expect(registryOut(del)).toEqual([['wiki/GONE', '{"deleted":true}']]);
    service.registry.apply('wiki/GONE', Buffer.from('{"deleted":true}'));
    // The retention defaults to the longest reference grace period (1h here).
    expect(registryOut(service.tick(state, metered(T0 + 1000 + H - 1)))).toEqual([]);
    expect(state.documents.has('wiki/GONE')).toBe(true);
    expect(registryOut(service.tick(state, metered(T0 + 1000 + H)))).toEqual([['wiki/GONE', null]]);
    expect(state.documents.has('wiki/GONE')).toBe(false);
    expect(
      state
        .drainChanges()
        .filter((c) => c.key === 'd:wiki/GONE')
        .map((c) => c.value),
    ).toEqual([null]);
    expect(gauges.filter(([n]) => n === 'tidemark_contract_documents').map(([, v]) => v)).toEqual([
      2, 1,
    ]);
    service.registry.apply('wiki/GONE', null);
    expect(gauges.length).toBe(4);
    service.tick(state, metered(T0 + 2 * H));
    expect(gauges.at(-1)).toEqual(['tidemark_contract_registry_documents', 1]);
  });

  it('a document upserted again within the retention is not forgotten', () => {
    const { service, state, run } = setup();
    run(upsert('BACK', 1));
    run(deleted('BACK', 2, T0 + 1000), T0 + 1000);
    run(upsert('BACK', 3, {}, T0 + 2000), T0 + 2000);
    expect(registryOut(service.tick(state, ctx(T0 + 3 * H)))).toEqual([]);
    expect(state.documents.get('wiki/BACK')?.rev).toBe(3);
  });

  it('a restored partition still forgets its deleted documents', () => {
    const { service, state, run } = setup();
    run(deleted('OLD', 2, T0), T0);
    const restored = new ContractCheckerState();
    for (const c of state.drainChanges()) restored.restore(c.key, c.value);
    expect(registryOut(service.tick(restored, ctx(T0 + H)))).toEqual([['wiki/OLD', null]]);
  });
});

describe('contract checker: null rates over the system', () => {
  const H = 3_600_000;
  const SYSTEM_CONTRACT = `
apiVersion: tidemark/v1
kind: SourceContract
system: kb
version: 1
owner: { team: docs }
nullRates:
  - field: language
    window: 1h
    threshold: 0.3
    minCount: 30
  - field: owner
    window: 1h
    threshold: 0.3
    minCount: 5
    classes: [faq]
classes:
  faq: {}
  guide: {}
  policy:
    nullRates:
      - field: classification
        window: 1h
        threshold: 0.5
        minCount: 5
`;
  const kb = loadContractsOrThrow([
    { path: 'contracts/kb.yaml', text: SYSTEM_CONTRACT },
    { path: 'contracts/owners.yaml', text: OWNERS },
  ]);
  const CLASSES = ['faq', 'guide', 'policy'];

  /** 60 events an hour over three classes; 40 % without language, every policy without classification. */
  function hour(
    service: ReturnType<typeof createContractCheckerService>,
    state: ContractCheckerState,
    h: number,
  ) {
    for (let i = 0; i < 60; i++) {
      const at = T0 + h * H + i * 60_000;
      const event = upsert(`H${h}-${i}`, 1, {}, at) as unknown as { data: Record<string, unknown> };
      event.data['system'] = 'kb';
      event.data['contentClass'] = CLASSES[i % 3];
      event.data['language'] = i % 5 < 2 ? null : 'en';
      if (CLASSES[i % 3] === 'policy') delete event.data['classification'];
      service.handle(state, event as unknown as ContractCheckerEvent, record(), ctx(at));
    }
  }

  it('judges a system-level entry over every class: one finding for the system, not one per class', () => {
    const service = createContractCheckerService({ contracts: kb, topics });
    const state = new ContractCheckerState();
    const decided: Finding[] = [];
    for (let h = 0; h < 3; h++) {
      hour(service, state, h);
      const now = T0 + (h + 1) * H + NULL_RATE_SETTLE_MS;
      for (const p of service.tick(state, ctx(now)).filter((r) => r.topic === NULL_RATE_TOPIC))
        service.handle(state, JSON.parse(String(p.value)), record(), ctx(now));
      decided.push(...findings(service.tick(state, ctx(now))));
    }
    const language = decided.filter((f) => f.subject.field === 'language');
    expect(
      language.map((f) => [f.status, f.subject, f.evidence['count'], f.evidence['nulls']]),
    ).toEqual([['firing', { system: 'kb', field: 'language' }, 60, 24]]);
    expect(language[0]?.summary).toBe('kb: 40.0% of documents have no language (limit 30.0%)');
    // Per-class entries still count one class: the class's own (policy classification) and `classes:` (faq owner).
    expect(
      decided
        .filter((f) => f.subject.field !== 'language')
        .map((f) => [f.status, f.subject, f.evidence['count']]),
    ).toEqual([['firing', { system: 'kb', contentClass: 'policy', field: 'classification' }, 20]]);
  });

  it('resolves the system-level finding once the whole system is back under the threshold', () => {
    const service = createContractCheckerService({ contracts: kb, topics });
    const state = new ContractCheckerState();
    const statuses: string[] = [];
    for (let h = 0; h < 2; h++) {
      if (h === 0) hour(service, state, h);
      else
        for (let i = 0; i < 60; i++) {
          const at = T0 + h * H + i * 60_000;
          const event = upsert(`F${i}`, 1, {}, at) as unknown as { data: Record<string, unknown> };
          event.data['system'] = 'kb';
          event.data['contentClass'] = CLASSES[i % 3];
          event.data['language'] = 'en';
          service.handle(state, event as unknown as ContractCheckerEvent, record(), ctx(at));
        }
      const now = T0 + (h + 1) * H + NULL_RATE_SETTLE_MS;
      for (const p of service.tick(state, ctx(now)).filter((r) => r.topic === NULL_RATE_TOPIC))
        service.handle(state, JSON.parse(String(p.value)), record(), ctx(now));
      statuses.push(
        ...findings(service.tick(state, ctx(now)))
          .filter((f) => f.subject.field === 'language')
          .map((f) => f.status),
      );
    }
    expect(statuses).toEqual(['firing', 'resolved']);
  });
});

describe('contract checker: a shadow candidate beside the enforced contract', () => {
  const CANDIDATE = `
apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: 8
mode: shadow
owner: { team: docs }
required: [title, owner, language]
allowed:
  classification: { values: [public, internal, restricted, secret] }
`;
  const both = loadContractsOrThrow([
    { path: 'contracts/wiki.yaml', text: CONTRACT },
    { path: 'contracts/wiki-next.yaml', text: CANDIDATE },
    { path: 'contracts/owners.yaml', text: OWNERS },
  ]);
  const recorded: Array<[string, Record<string, string>, number]> = [];
  const metricsCtx = (now = T0): HandlerContext => ({
    ...ctx(now),
    metrics: { record: (name, labels, value) => recorded.push([name, labels, value]) },
  });
  const HOUR = 3_600_000;
  const describeFinding = (f: Finding) =>
    `${f.status} ${f.check} ${f.subject.field ?? f.subject.feature} v${f.contract?.version}${f.shadow ? ' shadow' : ''}`;

  it('fires and resolves the candidate’s findings as shadow ones, apart from the enforced findings', () => {
    const service = createContractCheckerService({ contracts: both, topics });
    const state = new ContractCheckerState();
    const first = findings(
      service.handle(
        state,
        upsert('P1', 1, { owner: null, classification: 'secret' }),
        record(),
        metricsCtx(),
      ),
    );
    expect(first.map(describeFinding).sort()).toEqual([
      'firing contract.allowed classification v7',
      'firing contract.required language v8 shadow',
      'firing contract.required owner v7',
      'firing contract.required owner v8 shadow',
    ]);
    const [live, candidate] = ['7', '8'].map((v) =>
      first.find((f) => f.subject.field === 'owner' && f.contract?.version === v)!,
    );
    expect(candidate!.fingerprint).not.toBe(live!.fingerprint);
    expect(candidate!.contract?.file).toBe('contracts/wiki-next.yaml');

    // Restored from the changelog, the candidate's open findings still resolve once, on the fixing revision.
    const restored = new ContractCheckerState();
    for (const c of state.drainChanges()) restored.restore(c.key, c.value);
    const fixed = findings(
      service.handle(restored, upsert('P1', 2, { language: 'en' }), record(), metricsCtx()),
    );
    expect(fixed.map(describeFinding).sort()).toEqual([
      'resolved contract.allowed classification v7',
      'resolved contract.required language v8 shadow',
      'resolved contract.required owner v7',
      'resolved contract.required owner v8 shadow',
    ]);
    expect(fixed.find((f) => f.shadow && f.subject.field === 'owner')?.fingerprint).toBe(
      candidate!.fingerprint,
    );
  });

  it('resolves a removed candidate’s open findings on the next revision', () => {
    const state = new ContractCheckerState();
    createContractCheckerService({ contracts: both, topics }).handle(
      state,
      upsert('P3', 1),
      record(),
      metricsCtx(),
    );
    // Restarted with the candidate file deleted from contracts/.
    const after = createContractCheckerService({ contracts, topics });
    const next = findings(after.handle(state, upsert('P3', 2), record(), metricsCtx()));
    expect(next.map(describeFinding)).toEqual(['resolved contract.required language v7 shadow']);
    expect(state.documents.get('wiki/P3')?.shadowOpen).toBeUndefined();
  });

  it('resolves the candidate’s open findings when the document is deleted', () => {
    const service = createContractCheckerService({ contracts: both, topics });
    const state = new ContractCheckerState();
    service.handle(state, upsert('P2', 1), record(), metricsCtx());
    const gone = findings(service.handle(state, deleted('P2', 2), record(), metricsCtx()));
    expect(gone.map(describeFinding)).toEqual(['resolved contract.required language v8 shadow']);
  });

  it('tallies the two verdicts per rule and emits a contract.shadow-diff finding per period', () => {
    recorded.length = 0;
    const service = createContractCheckerService({
      contracts: both,
      topics,
      shadowDiffPeriodMs: HOUR,
    });
    const state = new ContractCheckerState();
    const at = (m: number) => T0 + m * 60_000;
    service.handle(state, upsert('A', 1), record(), metricsCtx(at(1))); // candidate only: language
    service.handle(
      state,
      upsert('B', 1, { language: 'en', owner: null }),
      record(),
      metricsCtx(at(2)),
    ); // both: owner
    service.handle(
      state,
      upsert('C', 1, { language: 'en', classification: 'secret' }),
      record(),
      metricsCtx(at(3)),
    ); // enforced only
    expect(service.nextTick(state)).toBe(T0 + HOUR);
    expect(findings(service.tick(state, metricsCtx(T0 + HOUR - 1)))).toEqual([]);
    const [diff, ...more] = findings(service.tick(state, metricsCtx(T0 + HOUR)));
    expect(more).toEqual([]);
    expect(diff).toMatchObject({
      check: 'contract.shadow-diff',
      status: 'firing',
      severity: 'info',
      shadow: true,
      subject: { system: 'wiki', partition: '0' },
      contract: { file: 'contracts/wiki-next.yaml', version: '8' },
      observedAt: iso(T0 + HOUR),
      evidence: {
        revisions: 3,
        rules: [
          {
            check: 'contract.allowed',
            rule: 'classification',
            candidateOnly: 0,
            enforcedOnly: 1,
            both: 0,
          },
          {
            check: 'contract.required',
            rule: 'language',
            candidateOnly: 1,
            enforcedOnly: 0,
            both: 0,
          },
          { check: 'contract.required', rule: 'owner', candidateOnly: 0, enforcedOnly: 0, both: 1 },
        ],
      },
    });
    expect(diff!.summary).toContain(
      'candidate only 1 (language ×1); enforced only 1 (classification ×1)',
    );
    expect(recorded.filter(([name]) => name.startsWith('tidemark_contract_shadow_'))).toEqual([
      ['tidemark_contract_shadow_revisions_total', { system: 'wiki' }, 1],
      [
        'tidemark_contract_shadow_violations_total',
        { system: 'wiki', check: 'contract.required', rule: 'language', side: 'candidate' },
        1,
      ],
      ['tidemark_contract_shadow_revisions_total', { system: 'wiki' }, 1],
      [
        'tidemark_contract_shadow_violations_total',
        { system: 'wiki', check: 'contract.required', rule: 'owner', side: 'both' },
        1,
      ],
      ['tidemark_contract_shadow_revisions_total', { system: 'wiki' }, 1],
      [
        'tidemark_contract_shadow_violations_total',
        { system: 'wiki', check: 'contract.allowed', rule: 'classification', side: 'enforced' },
        1,
      ],
      ['tidemark_contract_shadow_diffs_total', { system: 'wiki', status: 'firing' }, 1],
    ]);

    // The next period agrees on every revision: the diff resolves, then the tally is gone.
    service.handle(
      state,
      upsert('D', 1, { language: 'en' }),
      record(),
      metricsCtx(T0 + HOUR + 60_000),
    );
    expect(findings(service.tick(state, metricsCtx(T0 + 2 * HOUR))).map(describeFinding)).toEqual([
      'resolved contract.shadow-diff undefined v8 shadow',
    ]);
    expect(state.shadowDiffs.size()).toBe(0);
  });

  it('checks the candidate’s references apart, after its own grace period', () => {
    const withRefs = loadContractsOrThrow([
      { path: 'contracts/wiki.yaml', text: CONTRACT },
      {
        path: 'contracts/wiki-next.yaml',
        text: `${CANDIDATE}references:\n  - { field: supersededBy, gracePeriod: 30m }\n`,
      },
      { path: 'contracts/owners.yaml', text: OWNERS },
    ]);
    const service = createContractCheckerService({ contracts: withRefs, topics });
    const state = new ContractCheckerState();
    const refs = (out: OutputRecord[]) =>
      findings(out)
        .filter((f) => f.check === 'contract.reference')
        .map(describeFinding);
    const opened = service.handle(
      state,
      upsert('R', 1, { language: 'en', supersededBy: 'wiki/GONE' }),
      record(),
      metricsCtx(),
    );
    expect(refs(opened)).toEqual([]);
    const at31 = service.tick(state, metricsCtx(T0 + 31 * 60_000));
    expect(refs(at31)).toEqual(['firing contract.reference supersededBy v8 shadow']);
    const at61 = service.tick(state, metricsCtx(T0 + 61 * 60_000));
    expect(refs(at61)).toEqual(['firing contract.reference supersededBy v7']);
    const [candidate] = findings(at31);
    const [live] = findings(at61);
    expect(candidate!.fingerprint).not.toBe(live!.fingerprint);

    const gone = findings(service.handle(state, deleted('R', 2), record(), metricsCtx()));
    expect(
      gone
        .filter((f) => f.check === 'contract.reference')
        .map((f) => f.fingerprint)
        .sort(),
    ).toEqual([candidate!.fingerprint, live!.fingerprint].sort());
    expect(state.references.size()).toBe(0);
  });

  it('decides the candidate’s null rates apart from the enforced ones on the same field', async () => {
    const H = 3_600_000;
    const withRates = loadContractsOrThrow([
      { path: 'contracts/wiki.yaml', text: CONTRACT },
      {
        path: 'contracts/wiki-next.yaml',
        text: `${CANDIDATE}nullRates:\n  - { field: owner, window: 1h, threshold: 0.1, minCount: 4 }\n`,
      },
      { path: 'contracts/owners.yaml', text: OWNERS },
    ]);
    const service = createContractCheckerService({ contracts: withRates, topics });
    const state = new ContractCheckerState();
    // 1 of 6 without owner (17%): over the candidate's 10%, under the enforced 30%.
    ['a', null, 'b', 'c', 'd', 'e'].forEach((owner, i) =>
      service.handle(
        state,
        upsert(`N${i}`, 1, { owner, language: 'en' }, T0 + i),
        record(),
        ctx(T0 + i),
      ),
    );
    const now = T0 + H + NULL_RATE_SETTLE_MS;
    const partials = service.tick(state, ctx(now)).filter((r) => r.topic === NULL_RATE_TOPIC);
    expect(partials.map((p) => p.key).sort()).toEqual(['wiki//owner', 'wiki//owner/candidate']);
    for (const p of partials) {
      // Through the envelope parser, as the live host reads the internal topic.
      const event = await service.decode({
        ...record(),
        topic: NULL_RATE_TOPIC,
        value: Buffer.from(String(p.value)),
      });
      service.handle(state, event, record(), ctx(now));
    }
    const decided = findings(service.tick(state, ctx(now)));
    expect(decided.map(describeFinding)).toEqual(['firing contract.null-rate owner v8 shadow']);
    expect(decided[0]!.fingerprint).not.toBe(
      findingFingerprint('contract.null-rate', { system: 'wiki', field: 'owner' }),
    );
    expect(decided[0]!.evidence).toMatchObject({ count: 6, nulls: 1, threshold: 0.1 });
  });

  it('evaluates nothing twice for a system without a candidate', () => {
    recorded.length = 0;
    const service = createContractCheckerService({ contracts, topics });
    const state = new ContractCheckerState();
    const out = findings(
      service.handle(state, upsert('E', 1, { owner: null }), record(), metricsCtx()),
    );
    expect(out.map(describeFinding)).toEqual(['firing contract.required owner v7']);
    expect(state.shadowDiffs.size()).toBe(0);
    expect(recorded.filter(([name]) => name.startsWith('tidemark_contract_shadow_'))).toEqual([]);
  });

  it.each([0, -1, Number.NaN])('refuses a shadowDiffPeriodMs of %s', (period) => {
    expect(() =>
      createContractCheckerService({ contracts: both, topics, shadowDiffPeriodMs: period }),
    ).toThrow(
      new RangeError(
        `contract-checker: shadowDiffPeriodMs must be a positive number of ms, got ${String(period)}`,
      ),
    );
  });
});
