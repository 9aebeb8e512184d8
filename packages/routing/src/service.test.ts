import { readFileSync, readdirSync } from 'node:fs';
import {
  ALERT_REFRESH_BY_HEADER,
  EnvelopeError,
  ManualClock,
  buildFinding,
  fingerprint,
  findingRecord,
  formatTime,
  parseTime,
  resolveTopics,
} from '@tidemark/core';
import type {
  Alert,
  Finding,
  FindingInput,
  HandlerContext,
  InputRecord,
  OutputRecord,
  Ticket,
} from '@tidemark/core';
import { isContractFile, loadContractsOrThrow } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import { ownerQueue, resolveOwner } from './owners.js';
import { UNOWNED_CHECK } from './router.js';
import {
  ALERT_ROUTER_TOPICS,
  alertRouterTopics,
  createAlertRouterService,
  ownersFromContracts,
  repartitionTopic,
  isKnownFindingSource,
} from './service.js';
import type { AlertRouterOptions, AlertRouterService } from './service.js';
import { SilenceTable } from './silence.js';
import { RouterState } from './state.js';

const T0 = parseTime('2025-03-03T10:00:00Z'); // a Monday, outside the shipped maintenance window
const S = 1000;
const H = 3600 * S;
const P = 3;
const topics = resolveTopics();
const REPARTITION = 'tidemark.alert-router.by-system';

const CONTRACTS_DIR = new URL('../../../contracts/', import.meta.url);
const contracts = loadContractsOrThrow(
  readdirSync(CONTRACTS_DIR)
    .filter((f) => isContractFile(f))
    .map((f) => ({
      path: `contracts/${f}`,
      text: readFileSync(new URL(f, CONTRACTS_DIR), 'utf8'),
    })),
);
const config = parseRoutingConfig(
  readFileSync(new URL('routing.yaml', CONTRACTS_DIR), 'utf8'),
  'contracts/routing.yaml',
);

function finding(over: Partial<FindingInput> & { at?: number; doc?: string } = {}): Finding {
  const { at = T0, doc = 'p1', ...rest } = over;
  return buildFinding({
    check: 'freshness.sync-lag',
    status: 'firing',
    severity: 'warning',
    subject: { system: 'confluence', connector: 'confluence-prod', docId: doc },
    owner: {},
    summary: `confluence/${doc} is not in the index yet`,
    evidence: {},
    observedAt: formatTime(at),
    ...rest,
  });
}

/** A checker's record of a finding on the findings topic (keyed by fingerprint). */
function checkerRecord(f: Finding): OutputRecord {
  return findingRecord(f, { service: 'freshness-monitor', topics });
}

function toInput(o: OutputRecord, partition: number, offset: number): InputRecord {
  return {
    topic: o.topic,
    partition,
    offset: String(offset),
    timestamp: '0',
    key: o.key,
    value: o.value === null ? null : Buffer.from(o.value),
    headers: { ...o.headers },
  };
}

const partitionOf = (key: string | null): number =>
  Number.parseInt(fingerprint(key ?? '').slice(0, 8), 16) % P;

/**
 * An in-memory host for the definition: P co-partitioned partitions, outputs on the repartition and findings
 * topics fed back as input (as Kafka would), a changelog per partition, and a manual clock.
 */
class Pipeline {
  readonly svc: AlertRouterService;
  readonly states: RouterState[];
  readonly clock = new ManualClock(T0);
  /** Everything published on the catalog's topics (not the repartition topic), in order. */
  readonly published: OutputRecord[] = [];
  readonly changelog: Array<Map<string, Buffer | null>>;
  readonly metrics: Array<[string, Record<string, string>, number]> = [];
  #offset = 0;

  constructor(
    readonly options: AlertRouterOptions,
    changelog?: Array<Map<string, Buffer | null>>,
  ) {
    this.svc = createAlertRouterService(options);
    this.states = Array.from({ length: P }, (_, p) => this.svc.createState(p));
    this.changelog = changelog
      ? changelog.map((m) => new Map(m))
      : Array.from({ length: P }, () => new Map());
    this.states.forEach((s, p) => {
      for (const [k, v] of this.changelog[p]!) s.restore(k, v);
    });
  }

  ctx(partition: number): HandlerContext {
    return {
      now: this.clock.now(),
      partition,
      service: this.svc.name,
      topics,
      metrics: { record: (name, labels, value) => this.metrics.push([name, labels, value]) },
    };
  }

  /** Delivers a record to its partition and everything it leads to. */
  send(...records: OutputRecord[]): void {
    const queue = [...records];
    while (queue.length > 0) {
      const o = queue.shift()!;
      const p = partitionOf(o.key);
      const record = toInput(o, p, this.#offset++);
      const event = this.svc.decode(record);
      queue.push(...this.svc.handle(this.states[p]!, event, record, this.ctx(p)));
      this.#drain(p);
    }
  }

  /** One tick of every partition; returns what it published (its findings are fed back as input). */
  tick(): OutputRecord[] {
    const out: OutputRecord[] = [];
    for (let p = 0; p < P; p++) {
      const records = this.svc.tick(this.states[p]!, this.ctx(p));
      this.#drain(p);
      this.published.push(...records);
      out.push(...records);
      this.send(...records.filter((r) => r.topic === topics.findings));
    }
    return out;
  }

  /** Advances the clock one second at a time to `to`, ticking each step. */
  runTo(to: number): OutputRecord[] {
    const out: OutputRecord[] = [];
    while (this.clock.now() < to) {
      this.clock.advance(Math.min(S, to - this.clock.now()));
      out.push(...this.tick());
    }
    return out;
  }

  #drain(p: number): void {
    for (const { key, value } of this.states[p]!.drainChanges()) this.changelog[p]!.set(key, value);
  }
}

const on = (records: readonly OutputRecord[], topic: string) =>
  records.filter((r) => r.topic === topic);
const events = <T>(records: readonly OutputRecord[], topic: string) =>
  on(records, topic).map(
    (r) => JSON.parse(String(r.value)) as { id: string; source: string; time: string; data: T },
  );

describe('createAlertRouterService', () => {
  const base: AlertRouterOptions = { config, contracts, topics };

  it('reads the findings topic and its repartition topic, and follows the silences topic', () => {
    const svc = createAlertRouterService(base);
    expect(svc.name).toBe('alert-router');
    expect(svc.inputs).toEqual(['dq.findings.v1', REPARTITION]);
    expect(svc.tables?.map((t) => t.topic)).toEqual(['dq.silences.v1']);
    expect(svc.tables?.[0]?.table).toBe(svc.silences);
    expect(ALERT_ROUTER_TOPICS).toEqual([
      {
        name: REPARTITION,
        compacted: false,
        coPartitioned: true,
        purpose:
          'alert-router: findings re-keyed by system, so every group, inhibition and ticket of a system is in one partition',
      },
      {
        name: 'tidemark.alert-router.webhook',
        compacted: false,
        coPartitioned: false,
        purpose:
          'alert-router: Alertmanager webhook v4 messages of webhook receivers, POSTed by the alert-router-webhook consumer',
      },
    ]);
    const named = createAlertRouterService({ ...base, name: 'router-test-1' });
    expect(named.inputs).toEqual(['dq.findings.v1', 'tidemark.router-test-1.by-system']);
    expect(alertRouterTopics('router-test-1').map((t) => t.name)).toEqual([
      repartitionTopic('router-test-1'),
      'tidemark.router-test-1.webhook',
    ]);
  });

  it.each([
    ['confluence', 'confluence-prod'],
    ['zendesk', 'zendesk-help'],
    ['gdrive', undefined],
  ])(
    're-keys a %s finding by system onto the repartition topic, bytes and headers unchanged',
    (system, connector) => {
      const svc = createAlertRouterService(base);
      const f = finding({
        subject: { system, docId: 'd1', ...(connector ? { connector } : {}) },
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      const record = toInput(checkerRecord(f), 2, 7);
      expect(record.key).toBe(f.fingerprint);
      const out = svc.handle(new RouterState(2), svc.decode(record), record, pipelineCtx());
      expect(out).toEqual([
        { topic: REPARTITION, key: system, value: record.value, headers: record.headers },
      ]);
      expect(out[0]?.headers?.['traceparent']).toBe(f.traceparent);
    },
  );

  it('drops shadow findings before the second hop, and never alerts on them', () => {
    const pipe = new Pipeline(base);
    pipe.send(checkerRecord(finding({ shadow: true })));
    // Counted among the findings by check and severity, yet never routed.
    expect(pipe.metrics).toEqual([
      [
        'tidemark_findings_total',
        { check: 'freshness.sync-lag', severity: 'warning', status: 'firing' },
        1,
      ],
      ['tidemark_router_findings_total', { stage: 'shadow', status: 'firing' }, 1],
    ]);
    expect(pipe.runTo(T0 + H)).toEqual([]);
  });

  it('refuses findings from an unknown source, so the host dead-letters them', () => {
    const svc = createAlertRouterService(base);
    const record = toInput(findingRecord(finding(), { service: 'evil', topics }), 0, 0);
    expect(() => svc.decode(record)).toThrow(EnvelopeError);
    expect(() => svc.decode(record)).toThrow(
      "finding from an unknown source tidemark/evil: the alert-router accepts findings of Tidemark's services only",
    );
    const accepted = createAlertRouterService({ ...base, acceptSource: () => true });
    expect(accepted.decode(record).source).toBe('tidemark/evil');
  });

  it('refuses records that are not findings, so the host dead-letters them', () => {
    const svc = createAlertRouterService(base);
    const record = toInput(
      {
        topic: topics.findings,
        key: 'k',
        value: JSON.stringify({
          specversion: '1.0',
          id: 'x',
          source: 'connector/test',
          type: 'content.deleted',
          time: '2025-03-03T10:00:00Z',
          data: { system: 'wiki', docId: 'd', revision: 2 },
        }),
      },
      0,
      0,
    );
    expect(() => svc.decode(record)).toThrow(EnvelopeError);
    expect(() => svc.decode(record)).toThrow(
      'record on dq.findings.v1 is a "content.deleted" event; the alert-router takes only tidemark.finding',
    );
  });

  it('turns findings into alert records after group_wait and steward tickets with owners from the contracts', () => {
    const pipe = new Pipeline(base);
    const lag = [finding({ doc: 'p1' }), finding({ doc: 'p2' })];
    const overdue = finding({
      check: 'freshness.review-overdue',
      subject: { system: 'confluence', docId: 'pol-7', contentClass: 'policy' },
      summary: 'confluence/pol-7 was due for review on 2025-01-01',
    });
    pipe.send(...[...lag, overdue].map(checkerRecord));
    const out = pipe.runTo(T0 + 40 * S);

    const alerts = events<Alert>(out, topics.alerts);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert?.source).toBe('tidemark/alert-router');
    // The time is when the group fell due (group_wait 30s after the group formed), not when the tick ran.
    expect(alert?.time).toBe(formatTime(T0 + 30 * S));
    expect(alert?.data).toMatchObject({
      status: 'firing',
      receiver: 'platform-alerts',
      findings: { count: 2 },
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: `urn:tidemark:alert:${alert?.data.fingerprint}`,
    });
    expect(alert?.data.labels).toEqual({
      alertname: 'freshness.sync-lag',
      check: 'freshness.sync-lag',
      severity: 'warning',
      system: 'confluence',
      connector: 'confluence-prod',
    });
    expect(on(out, topics.alerts)[0]?.key).toBe(alert?.data.fingerprint);

    const tickets = events<Ticket>(out, topics.tickets);
    expect(tickets.map((t) => t.data)).toEqual([
      expect.objectContaining({
        action: 'open',
        version: 1,
        assignee: 'policy-office@example.com',
        team: 'knowledge-ops',
        queue: 'KOPS',
        priority: 'P3',
        itemCount: 1,
        items: [
          {
            system: 'confluence',
            docId: 'pol-7',
            check: 'freshness.review-overdue',
            reason: 'confluence/pol-7 was due for review on 2025-01-01',
            fingerprint: overdue.fingerprint,
          },
        ],
      }),
    ]);
    expect(on(out, topics.tickets)[0]?.key).toBe(tickets[0]?.data.ticketKey);
    expect(pipe.metrics).toContainEqual([
      'tidemark_router_alerts_total',
      { receiver: 'platform-alerts', status: 'firing' },
      1,
    ]);
    expect(pipe.metrics).toContainEqual(['tidemark_router_tickets_total', { action: 'open' }, 1]);

    // Resolving every finding resolves the alert (with endsAt) and the ticket.
    pipe.send(
      ...[...lag, overdue].map((f) =>
        checkerRecord({ ...f, status: 'resolved', observedAt: formatTime(T0 + 60 * S) }),
      ),
    );
    const after = pipe.runTo(T0 + 10 * 60 * S);
    expect(events<Alert>(after, topics.alerts).map((a) => [a.data.status, a.data.endsAt])).toEqual([
      ['resolved', formatTime(T0 + 60 * S)],
    ]);
    expect(
      events<Ticket>(after, topics.tickets).map((t) => [t.data.action, t.data.version]),
    ).toEqual([['resolve', 2]]);
  });

  it('publishes its own findings to the findings topic and routes them when they come back', () => {
    const pipe = new Pipeline(base);
    // A system no contract names, a finding without owners: nobody to give the ticket to.
    const orphan = finding({
      check: 'contract.required',
      subject: { system: 'legacy-share', docId: 'x1' },
      summary: 'legacy-share/x1 has no owner',
    });
    pipe.send(checkerRecord(orphan));
    const out = pipe.runTo(T0 + 5 * S);
    const [ticket] = events<Ticket>(out, topics.tickets);
    expect(ticket?.data).toMatchObject({ action: 'open', assignee: 'unowned', queue: 'unowned' });
    const own = events<Finding>(out, topics.findings);
    expect(own.map((f) => [f.source, f.data.check, f.data.status])).toEqual([
      ['tidemark/alert-router', UNOWNED_CHECK, 'firing'],
    ]);
    expect(on(out, topics.findings)[0]?.key).toBe(own[0]?.data.fingerprint);
    // It came back through the repartition step: the notice route has group_wait 0s.
    expect(events<Alert>(out, topics.alerts).map((a) => [a.data.receiver, a.data.labels])).toEqual([
      [
        'platform-notices',
        {
          alertname: UNOWNED_CHECK,
          check: UNOWNED_CHECK,
          severity: 'warning',
          system: 'legacy-share',
        },
      ],
    ]);
  });

  it('restores from its changelog: findings delivered again and later ticks add no alert or ticket', () => {
    const pipe = new Pipeline(base);
    const input = [
      finding({ doc: 'p1' }),
      finding({
        doc: 'r1',
        subject: { system: 'zendesk', connector: 'zendesk-help', docId: 'r1' },
      }),
      finding({
        check: 'contract.required',
        subject: { system: 'zendesk', docId: 'a1', contentClass: 'article' },
        summary: 'zendesk/a1 has no reviewedAt',
      }),
    ].map(checkerRecord);
    pipe.send(...input);
    const first = pipe.runTo(T0 + 40 * S);
    expect(on(first, topics.alerts)).toHaveLength(2);
    expect(on(first, topics.tickets)).toHaveLength(1);

    const restarted = new Pipeline(base, pipe.changelog);
    restarted.clock.set(pipe.clock.now());
    restarted.send(...input); // uncommitted inputs are delivered again after a crash
    expect(restarted.runTo(T0 + 2 * H)).toEqual([]);
  });

  it('a tick re-run after a crash, before its state was written, publishes records with the same ids', () => {
    const pipe = new Pipeline(base);
    pipe.send(
      ...[
        finding({ doc: 'p1' }),
        finding({
          check: 'freshness.review-overdue',
          subject: { system: 'confluence', docId: 'rb-1', contentClass: 'runbook' },
        }),
      ].map(checkerRecord),
    );
    const beforeCrash = pipe.changelog.map((m) => new Map(m));
    const sent = pipe.runTo(T0 + 31 * S);
    expect(on(sent, topics.alerts)).toHaveLength(1);
    expect(on(sent, topics.tickets)).toHaveLength(1);
    // The crashed instance never wrote its state; the next owner restores the older one and ticks later.
    const next = new Pipeline(base, beforeCrash);
    next.clock.set(T0 + 45 * S);
    const again = next.tick();
    const ids = (rs: readonly OutputRecord[], topic: string) => events(rs, topic).map((e) => e.id);
    expect(ids(again, topics.alerts)).toEqual(ids(sent, topics.alerts));
    expect(ids(again, topics.tickets)).toEqual(ids(sent, topics.tickets));
  });

  it('mutes alerts with silences from its table and sends the resolve of one it had sent', () => {
    const silences = new SilenceTable();
    const pipe = new Pipeline({ ...base, silences });
    pipe.send(checkerRecord(finding({ doc: 'p1' })));
    expect(events<Alert>(pipe.runTo(T0 + 31 * S), topics.alerts)).toHaveLength(1);
    pipe.svc.tables?.[0]?.table.apply(
      's1',
      Buffer.from(
        JSON.stringify({
          id: 's1',
          matchers: [{ name: 'system', value: 'confluence', isRegex: false, isEqual: true }],
          startsAt: formatTime(T0),
          endsAt: formatTime(T0 + 5 * H),
          createdBy: 'ops',
          comment: 'migration',
        }),
      ),
    );
    pipe.send(checkerRecord(finding({ doc: 'p2', check: 'parity.delete-missed' })));
    expect(events<Alert>(pipe.runTo(T0 + 10 * 60 * S), topics.alerts)).toEqual([]);
    pipe.send(
      checkerRecord({
        ...finding({ doc: 'p1' }),
        status: 'resolved',
        observedAt: formatTime(T0 + 11 * 60 * S),
      }),
    );
    expect(
      events<Alert>(pipe.runTo(T0 + 20 * 60 * S), topics.alerts).map((a) => [
        a.data.labels['check'],
        a.data.status,
      ]),
    ).toEqual([['freshness.sync-lag', 'resolved']]);
  });

  it('stamps each firing alert record with its refresh time, for the Alertmanager bridge', () => {
    const pipe = new Pipeline(base);
    pipe.send(checkerRecord(finding({ doc: 'p1', severity: 'critical' })));
    const out = pipe.runTo(T0 + 31 * S).filter((r) => r.topic === topics.alerts);
    const refresh = out.map((r) => [
      (JSON.parse(String(r.value)) as { data: Alert }).data.receiver,
      r.headers?.[ALERT_REFRESH_BY_HEADER],
    ]);
    // The pager route (critical) sends after its 10s group_wait and repeats every hour (plus group_interval);
    // the default route after 30s, every 4 hours.
    expect(refresh.sort()).toEqual([
      ['platform-alerts', formatTime(T0 + 30 * S + 4 * H + 5 * 60 * S)],
      ['platform-pager', formatTime(T0 + 10 * S + H + 5 * 60 * S)],
    ]);
    expect(pipe.metrics.filter(([name]) => name === 'tidemark_findings_total')).toEqual([
      [
        'tidemark_findings_total',
        { check: 'freshness.sync-lag', severity: 'critical', status: 'firing' },
        1,
      ],
    ]);
  });
});

describe('ownersFromContracts', () => {
  const owners = ownersFromContracts(contracts);
  it.each([
    // [case, finding subject/owner, assignee, via, queue]
    [
      'the document owner first',
      { system: 'confluence', contentClass: 'policy' },
      { steward: 'jane@example.com' },
      'jane@example.com',
      'document',
      'KOPS',
    ],
    [
      'then the content class steward',
      { system: 'confluence', contentClass: 'runbook' },
      {},
      'sre-leads@example.com',
      'content-class',
      'KOPS',
    ],
    [
      "then the system's team, with its ticket queue",
      { system: 'confluence', contentClass: 'postmortem' },
      {},
      'knowledge-ops',
      'system-team',
      'KOPS',
    ],
    [
      "a class's own steward over the system's",
      { system: 'zendesk', contentClass: 'macro' },
      {},
      'support-ops@example.com',
      'content-class',
      'SUPP',
    ],
    [
      "a class the contract does not define falls back to the system's steward",
      { system: 'zendesk', contentClass: 'video' },
      {},
      'support-content@example.com',
      'content-class',
      'SUPP',
    ],
    [
      "the finding's team wins over the contract's",
      { system: 'gdrive' },
      { team: 'compliance' },
      'compliance',
      'system-team',
      'COMP',
    ],
    [
      'nobody for a system without a contract',
      { system: 'legacy' },
      {},
      'unowned',
      'unowned',
      'unowned',
    ],
  ])('%s', (_case, subject, owner, assignee, via, queue) => {
    const f = finding({ subject: { ...subject, docId: 'd' }, owner });
    const resolved = resolveOwner(f, owners);
    expect([resolved.assignee, resolved.via]).toEqual([assignee, via]);
    expect(ownerQueue(resolved, owners)).toBe(queue);
  });

  it('gives a platform owner their team queue', () => {
    expect(ownerQueue({ assignee: 'search-platform', via: 'platform' }, owners)).toBe('SRCH');
    expect(ownerQueue({ assignee: 'someone-else', via: 'platform' }, owners)).toBe('someone-else');
  });
});

function pipelineCtx(): HandlerContext {
  return {
    now: T0,
    partition: 0,
    service: 'alert-router',
    topics,
    metrics: { record: () => undefined },
  };
}

describe('finding sources', () => {
  it.each([
    ['tidemark/contract-checker', true],
    ['tidemark/freshness-monitor-20261203-0900', true],
    ['tidemark/alert-router', true],
    ['tidemark/evil-service', false],
    ['tidemark/contract-checker evil', false],
    ['connector/confluence-prod', false],
    ['', false],
  ])('%j accepted: %s', (source, accepted) => {
    expect(isKnownFindingSource(source)).toBe(accepted);
  });
});
