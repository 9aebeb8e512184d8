import { readFileSync } from 'node:fs';
import { ManualClock, buildFinding, fingerprint, parseTime } from '@tidemark/core';
import type { Finding, FindingInput } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import { findingLabels } from './labels.js';
import { parseMatchers } from './matcher.js';
import type { OwnersLookup } from './owners.js';
import {
  SILENCE_EXPIRING_CHECK,
  UNOWNED_CHECK,
  ZERO_TIME,
  createRouter,
  entriesOf,
} from './router.js';
import type { Router, RouterOutput } from './router.js';
import { SilenceTable } from './silence.js';
import type { Silence } from './silence.js';
import { RouterState } from './state.js';

const T0 = parseTime('2025-03-03T10:00:00Z'); // a Monday
const S = 1000;
const M = 60 * S;
const H = 60 * M;

const SHIPPED = parseRoutingConfig(
  readFileSync(new URL('../../../contracts/routing.yaml', import.meta.url), 'utf8'),
  'contracts/routing.yaml',
);

const SIMPLE = parseRoutingConfig(
  `
route:
  receiver: ops
  group_by: [system]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [check="contract.maintenance"]
      mute_time_intervals: [sunday-night]
    - matchers: [check="contract.office-hours"]
      active_time_intervals: [office]
time_intervals:
  - name: sunday-night
    time_intervals: [{ weekdays: [sunday], times: [{ start_time: '00:00', end_time: '06:00' }] }]
  - name: office
    time_intervals: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }], location: Europe/Berlin }]
receivers: [{ name: ops }]
`,
  'simple.yml',
);

function finding(over: Partial<FindingInput> & { at: number; doc?: string }): Finding {
  const { at, doc, ...rest } = over;
  return buildFinding({
    check: 'freshness.sync-lag',
    status: 'firing',
    severity: 'warning',
    subject: { system: 'wiki', connector: 'c1', ...(doc ? { docId: doc } : {}) },
    owner: {},
    summary: `document ${doc ?? '-'} is behind`,
    evidence: {},
    observedAt: new Date(at).toISOString(),
    ...rest,
  });
}

/** Drives a router with a manual clock; `step` ticks every `every` ms up to `until`, collecting output. */
class Harness {
  readonly state = new RouterState(0);
  readonly clock = new ManualClock(T0);
  constructor(readonly router: Router) {}

  ingest(...fs: Finding[]): this {
    for (const f of fs) this.router.ingest(this.state, f, this.clock.now());
    return this;
  }

  tick(): RouterOutput {
    return this.router.tick(this.state, this.clock.now());
  }

  /** Advances to `to` one second at a time, ticking each step, and concatenates the outputs. */
  runTo(to: number): RouterOutput {
    const out: RouterOutput = {
      alerts: [],
      notifications: [],
      webhooks: [],
      tickets: [],
      findings: [],
    };
    while (this.clock.now() < to) {
      this.clock.advance(Math.min(S, to - this.clock.now()));
      const o = this.tick();
      out.alerts.push(...o.alerts);
      out.notifications.push(...o.notifications);
      out.webhooks.push(...o.webhooks);
      out.tickets.push(...o.tickets);
      out.findings.push(...o.findings);
    }
    return out;
  }
}

const brief = (o: RouterOutput): string[] =>
  o.alerts.map(
    (a) =>
      `${a.receiver} ${a.status} ${a.labels.check} ${a.labels.system}/${a.labels.connector ?? ''}`,
  );

describe('alert lifecycle and grouping timers', () => {
  it('waits group_wait, then sends; later alerts of the group wait for group_interval', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    h.ingest(finding({ at: T0, doc: 'd1' }));
    expect(h.runTo(T0 + 29 * S).alerts).toEqual([]);
    const first = h.runTo(T0 + 30 * S);
    expect(brief(first)).toEqual(['ops firing freshness.sync-lag wiki/c1']);
    const [a] = first.alerts;
    expect(a).toMatchObject({
      status: 'firing',
      startsAt: '2025-03-03T10:00:00.000Z',
      endsAt: ZERO_TIME,
      groupKey: '{}:{system="wiki"}',
      fingerprint: fingerprint(a?.labels),
      findings: { count: 1 },
    });
    expect(a?.labels).toEqual({
      alertname: 'freshness.sync-lag',
      check: 'freshness.sync-lag',
      severity: 'warning',
      system: 'wiki',
      connector: 'c1',
    });

    h.clock.set(T0 + 60 * S);
    h.ingest(finding({ at: T0 + 60 * S, check: 'parity.orphan', doc: 'd2' }));
    expect(h.runTo(T0 + 30 * S + 5 * M - S).alerts).toEqual([]);
    expect(brief(h.runTo(T0 + 30 * S + 5 * M))).toEqual(['ops firing parity.orphan wiki/c1']);
  });

  it('deduplicates: the same finding twice is one alert; two findings with the same labels are one alert of 2', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    const f1 = finding({ at: T0, doc: 'd1' });
    h.ingest(f1, f1, finding({ at: T0 + S, doc: 'd2' }), {
      ...f1,
      observedAt: new Date(T0 + 2 * S).toISOString(),
    });
    const out = h.runTo(T0 + 10 * M);
    expect(out.alerts).toHaveLength(1);
    expect(out.alerts[0]?.findings).toEqual({
      count: 2,
      sample: [f1.fingerprint, finding({ at: T0, doc: 'd2' }).fingerprint],
    });
    expect(out.alerts[0]?.annotations.summary).toBe('2 × freshness.sync-lag on wiki');
    expect(entriesOf(h.state, 'alert')).toHaveLength(1);
  });

  it('repeats a still-firing alert after repeat_interval, on the group_interval beat', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    h.ingest(finding({ at: T0 }));
    const out = h.runTo(T0 + 30 * S + 4 * H);
    expect(out.alerts.map((a) => a.status)).toEqual(['firing', 'firing']);
    expect(h.runTo(T0 + 30 * S + 8 * H - S).alerts).toEqual([]);
  });

  it('resolves with endsAt = the resolving observation, then forgets the alert and the group', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    h.ingest(finding({ at: T0, doc: 'd1' }), finding({ at: T0, doc: 'd2' }));
    h.runTo(T0 + M);
    h.ingest(finding({ at: T0 + 2 * M, doc: 'd1', status: 'resolved' }));
    expect(h.runTo(T0 + 10 * M).alerts).toEqual([]); // d2 still fires
    h.ingest(finding({ at: T0 + 11 * M, doc: 'd2', status: 'resolved' }));
    const out = h.runTo(T0 + 20 * M);
    expect(out.alerts.map((a) => [a.status, a.endsAt, a.findings.count])).toEqual([
      ['resolved', '2025-03-03T10:11:00.000Z', 2],
    ]);
    expect(entriesOf(h.state, 'alert')).toEqual([]);
    expect(entriesOf(h.state, 'group')).toEqual([]);
  });

  it('never alerts on shadow findings and ignores an older observation replayed after a newer one', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    h.ingest(finding({ at: T0, shadow: true }));
    expect(h.runTo(T0 + H).alerts).toEqual([]);
    expect(h.state.size()).toBe(0);
    h.ingest(finding({ at: T0 + 2 * H, status: 'resolved' }), finding({ at: T0 + H }));
    expect(h.runTo(T0 + 3 * H).alerts).toEqual([]);
  });

  it('moves a finding whose severity changed to the alert of its new labels', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    h.ingest(finding({ at: T0 }));
    h.runTo(T0 + M);
    h.ingest(finding({ at: T0 + 2 * M, severity: 'critical' }));
    const out = h.runTo(T0 + 10 * M);
    expect(out.alerts.map((a) => [a.status, a.labels.severity])).toEqual([
      ['resolved', 'warning'],
      ['firing', 'critical'],
    ]);
  });

  it('an alert firing again after one receiver sent its resolve reaches that receiver again', () => {
    const config = parseRoutingConfig(
      `
route:
  receiver: fast
  group_by: [system]
  group_wait: 10s
  routes:
    - { matchers: [system="wiki"], receiver: fast, group_interval: 1m, continue: true }
    - { matchers: [system="wiki"], receiver: slow, group_interval: 10m }
receivers: [{ name: fast }, { name: slow }]
`,
      'two.yml',
    );
    const h = new Harness(createRouter({ config }));
    h.ingest(finding({ at: T0 }));
    expect(brief(h.runTo(T0 + 10 * S)).sort()).toEqual([
      'fast firing freshness.sync-lag wiki/c1',
      'slow firing freshness.sync-lag wiki/c1',
    ]);
    h.ingest(finding({ at: T0 + 20 * S, status: 'resolved' }));
    expect(brief(h.runTo(T0 + 70 * S))).toEqual(['fast resolved freshness.sync-lag wiki/c1']);
    h.ingest(finding({ at: T0 + 80 * S }));
    expect(brief(h.runTo(T0 + 11 * M))).toEqual(['fast firing freshness.sync-lag wiki/c1']);
  });

  it('flushes at once an alert older than group_wait (e.g. arriving late)', () => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    h.clock.set(T0 + H);
    h.ingest(finding({ at: T0 }));
    expect(brief(h.tick())).toEqual(['ops firing freshness.sync-lag wiki/c1']);
  });

  it.each([
    // [check, instant, sent at the first flush?]
    ['contract.maintenance', '2025-03-02T03:00:00Z', false], // Sunday night: muted
    ['contract.maintenance', '2025-03-02T07:00:00Z', true],
    ['contract.office-hours', '2025-03-03T09:30:00Z', true], // 10:30 in Berlin, a Monday
    ['contract.office-hours', '2025-03-03T07:30:00Z', false], // 08:30 in Berlin
    ['contract.office-hours', '2025-03-01T12:00:00Z', false], // Saturday
  ])('time intervals: %s at %s sent=%s', (check, instant, sent) => {
    const h = new Harness(createRouter({ config: SIMPLE }));
    const at = parseTime(instant);
    h.clock.set(at);
    h.ingest(finding({ at, check }));
    expect(h.runTo(at + 30 * S).alerts.length).toBe(sent ? 1 : 0);
  });
});

describe('inhibition (shipped default rules)', () => {
  const outage = (over: Partial<FindingInput> = {}): Finding =>
    finding({
      at: T0,
      check: 'freshness.connector-silent',
      severity: 'high',
      summary: 'connector c1 silent',
      ...over,
    });

  it.each([
    // [target system, target connector, target check, inhibited?]
    ['wiki', 'c1', 'freshness.sync-lag', true],
    ['wiki', 'c1', 'parity.delete-missed', true],
    ['wiki', 'c2', 'freshness.sync-lag', false], // other connector
    ['crm', 'c1', 'freshness.sync-lag', false], // other system
    ['wiki', 'c1', 'freshness.review-overdue', false], // not a target check
  ])('connector-silent wiki/c1 → %s/%s %s inhibited=%s', (system, connector, check, inhibited) => {
    const router = createRouter({ config: SHIPPED });
    const h = new Harness(router);
    h.ingest(outage(), finding({ at: T0, check, subject: { system, connector, docId: 'd1' } }));
    const labels = findingLabels(
      finding({ at: T0, check, subject: { system, connector, docId: 'd1' } }),
    );
    expect(router.isInhibited(h.state, labels)).toBe(inhibited);
  });

  it('a mass removal without a connector mutes every connector of the system', () => {
    const router = createRouter({ config: SHIPPED });
    const h = new Harness(router);
    h.ingest(
      finding({
        at: T0,
        check: 'parity.mass-removal',
        severity: 'critical',
        subject: { system: 'wiki' },
      }),
    );
    const target = findingLabels(
      finding({ at: T0, check: 'parity.orphan', subject: { system: 'wiki', connector: 'c9' } }),
    );
    expect(router.isInhibited(h.state, target)).toBe(true);
    const massRemoval = findingLabels(
      finding({ at: T0, check: 'parity.mass-removal', subject: { system: 'wiki' } }),
    );
    expect(router.isInhibited(h.state, massRemoval)).toBe(false);
  });

  it('one outage is one alert: 5000 per-document alerts stay quiet, and are sent once the source resolves', () => {
    const h = new Harness(createRouter({ config: SHIPPED }));
    h.ingest(outage());
    for (let i = 0; i < 5000; i++)
      h.ingest(finding({ at: T0, doc: `d${i}`, severity: i % 2 ? 'warning' : 'high' }));
    const during = h.runTo(T0 + 10 * M);
    expect(brief(during)).toEqual(['platform-alerts firing freshness.connector-silent wiki/c1']);
    h.ingest(outage({ status: 'resolved', observedAt: new Date(T0 + 11 * M).toISOString() }));
    const after = h.runTo(T0 + 20 * M);
    expect(brief(after).sort()).toEqual([
      'platform-alerts firing freshness.sync-lag wiki/c1',
      'platform-alerts firing freshness.sync-lag wiki/c1',
      'platform-alerts resolved freshness.connector-silent wiki/c1',
    ]);
    expect(after.alerts.filter((a) => a.status === 'firing').map((a) => a.findings.count)).toEqual([
      2500, 2500,
    ]);
  });
});

describe('silences', () => {
  const silence = (id: string, matchers: string, from: number, to: number): Silence => ({
    id,
    matchers: parseMatchers(matchers),
    startsAt: from,
    endsAt: to,
    createdBy: 'oncall',
    comment: 'maintenance',
  });

  it('mutes from startsAt to endsAt; a muted alert is sent after the silence expires', () => {
    const silences = new SilenceTable([silence('s1', 'system="wiki"', T0 + M, T0 + H)]);
    const h = new Harness(createRouter({ config: SIMPLE, silences }));
    h.ingest(finding({ at: T0, doc: 'd1' }));
    expect(h.runTo(T0 + 30 * S).alerts).toHaveLength(1); // before the silence starts
    h.clock.set(T0 + 2 * M);
    h.ingest(finding({ at: T0 + 2 * M, check: 'parity.orphan' }));
    expect(h.runTo(T0 + H - S).alerts).toEqual([]);
    expect(brief(h.runTo(T0 + H + 5 * M))).toEqual(['ops firing parity.orphan wiki/c1']);
  });

  it('resolve through a silence: an alert sent as firing always gets its resolve', () => {
    const silences = new SilenceTable();
    const h = new Harness(createRouter({ config: SIMPLE, silences }));
    h.ingest(finding({ at: T0 }));
    expect(h.runTo(T0 + M).alerts.map((a) => a.status)).toEqual(['firing']);
    silences.set(silence('s1', 'check=~"freshness.*"', T0 + M, T0 + 10 * H));
    h.ingest(finding({ at: T0 + 2 * M, status: 'resolved' }));
    expect(h.runTo(T0 + 10 * M).alerts.map((a) => a.status)).toEqual(['resolved']);
  });

  it('a silenced alert never sent as firing sends no resolve either', () => {
    const silences = new SilenceTable([silence('s1', 'system="wiki"', T0, T0 + 10 * H)]);
    const h = new Harness(createRouter({ config: SIMPLE, silences }));
    h.ingest(finding({ at: T0 }));
    h.runTo(T0 + M);
    h.ingest(finding({ at: T0 + 2 * M, status: 'resolved' }));
    expect(h.runTo(T0 + 10 * M).alerts).toEqual([]);
    expect(entriesOf(h.state, 'alert')).toEqual([]);
  });

  it('resolve through an inhibition: the resolve of an inhibited alert that had been sent is sent', () => {
    const h = new Harness(createRouter({ config: SHIPPED }));
    h.ingest(finding({ at: T0 }));
    expect(h.runTo(T0 + M).alerts.map((a) => a.status)).toEqual(['firing']);
    h.ingest(finding({ at: T0 + M, check: 'freshness.connector-silent', severity: 'high' }));
    h.ingest(finding({ at: T0 + 2 * M, status: 'resolved' }));
    const out = h.runTo(T0 + 10 * M);
    expect(brief(out).sort()).toEqual([
      'platform-alerts firing freshness.connector-silent wiki/c1',
      'platform-alerts resolved freshness.sync-lag wiki/c1',
    ]);
  });

  it('an expiring silence raises one info finding, routed as an info alert the silence does not mute', () => {
    const silences = new SilenceTable([silence('s1', 'system="wiki"', T0, T0 + 2 * H)]);
    const router = createRouter({ config: SHIPPED, silences });
    const h = new Harness(router);
    expect(h.runTo(T0 + H - S).findings).toEqual([]);
    const raised = h.runTo(T0 + H + 10 * M).findings;
    expect(raised.map((f) => [f.check, f.status, f.severity, f.subject])).toEqual([
      [SILENCE_EXPIRING_CHECK, 'firing', 'info', { system: 'wiki', silence: 's1' }],
    ]);
    h.ingest(...raised);
    const alerts = h.runTo(T0 + H + 11 * M).alerts;
    expect(alerts.map((a) => [a.receiver, a.status, a.labels.severity])).toEqual([
      ['platform-notices', 'firing', 'info'],
    ]);
    const ended = h.runTo(T0 + 2 * H + M).findings;
    expect(ended.map((f) => [f.check, f.status, f.fingerprint])).toEqual([
      [SILENCE_EXPIRING_CHECK, 'resolved', raised[0]?.fingerprint],
    ]);
  });

  it('a deleted silence resolves its notice under the same fingerprint', () => {
    const silences = new SilenceTable([silence('s1', 'system="wiki"', T0, T0 + 30 * M)]);
    const h = new Harness(createRouter({ config: SHIPPED, silences }));
    const [raised] = h.runTo(T0 + S).findings;
    silences.delete('s1');
    const ended = h.runTo(T0 + 2 * S).findings;
    expect(ended.map((f) => [f.status, f.fingerprint, f.subject.system])).toEqual([
      ['resolved', raised?.fingerprint, 'wiki'],
    ]);
  });

  it('only the notice partition raises silence notices', () => {
    const silences = new SilenceTable([silence('s1', 'system="wiki"', T0, T0 + 30 * M)]);
    const router = createRouter({ config: SHIPPED, silences, silenceNoticePartition: 0 });
    expect(router.tick(new RouterState(1), T0).findings).toEqual([]);
    expect(router.tick(new RouterState(0), T0).findings).toHaveLength(1);
  });
});

describe('tickets for stewards', () => {
  const review = (doc: string, over: Partial<FindingInput> = {}, at = T0): Finding =>
    finding({
      at,
      doc,
      check: 'freshness.review-overdue',
      subject: { system: 'policies', contentClass: 'policy', docId: doc },
      owner: { steward: 'alice', team: 'legal' },
      summary: `Policy ${doc} past its review date`,
      ...over,
    });

  it('opens once, updates when items are added or resolved, resolves when all are resolved', () => {
    const h = new Harness(createRouter({ config: SHIPPED }));
    h.ingest(review('p1'), review('p2'));
    const opened = h.tick().tickets;
    expect(
      opened.map((t) => [t.action, t.version, t.itemCount, t.assignee, t.queue, t.team]),
    ).toEqual([
      ['open', 1, 2, 'alice', 'legal', 'legal'], // queue: the receiver's, else the assignee's team
    ]);
    const key = opened[0]?.ticketKey;
    const period = Math.floor(T0 / (7 * 24 * H)) * 7 * 24 * H;
    expect(key).toBe(
      fingerprint({ assignee: 'alice', family: 'freshness', system: 'policies', period }),
    );
    expect(opened[0]?.title).toBe('2 documents in policies past their review clock');
    expect(opened[0]?.items.map((i) => [i.docId, i.reason])).toEqual(
      [
        ['p1', 'Policy p1 past its review date'],
        ['p2', 'Policy p2 past its review date'],
      ].sort((a, b) =>
        review(a[0] as string).fingerprint < review(b[0] as string).fingerprint ? -1 : 1,
      ),
    );
    expect(opened[0]?.dueBy).toBe(new Date(T0 + 14 * 24 * H).toISOString());
    expect(opened[0]?.priority).toBe('P3');

    h.ingest(review('p1')); // duplicate: no change
    expect(h.tick().tickets).toEqual([]);
    h.ingest(review('p3', { severity: 'critical' }));
    expect(
      h.tick().tickets.map((t) => [t.action, t.version, t.itemCount, t.priority, t.ticketKey]),
    ).toEqual([['update', 2, 3, 'P1', key]]);
    h.ingest(review('p1', { status: 'resolved' }, T0 + M));
    expect(h.tick().tickets.map((t) => [t.action, t.itemCount])).toEqual([['update', 2]]);
    h.ingest(
      review('p2', { status: 'resolved' }, T0 + M),
      review('p3', { status: 'resolved' }, T0 + M),
    );
    expect(h.tick().tickets.map((t) => [t.action, t.version, t.itemCount, t.ticketKey])).toEqual([
      ['resolve', 4, 0, key],
    ]);
    expect(h.tick().tickets).toEqual([]);
    // A new item in the same period after the resolve opens a new ticket under a new key.
    h.ingest(review('p4', {}, T0 + 2 * M));
    const reopened = h.tick().tickets;
    expect(reopened.map((t) => t.action)).toEqual(['open']);
    expect(reopened[0]?.ticketKey).not.toBe(key);
  });

  it('uses the finding dueBy and bounds the items, keeping the count', () => {
    const h = new Harness(createRouter({ config: SHIPPED, ticketItemLimit: 50 }));
    for (let i = 0; i < 60; i++)
      h.ingest(review(`p${i}`, { dueBy: new Date(T0 + (100 - i) * H).toISOString() }));
    const [t] = h.tick().tickets;
    expect([t?.items.length, t?.itemCount, t?.dueBy]).toEqual([
      50,
      60,
      new Date(T0 + 41 * H).toISOString(),
    ]);
    expect(t?.body.split('\n').at(-1)).toBe('… and 10 more');
  });

  it('restricted documents: ids only in ticket items and alerts', () => {
    const h = new Harness(createRouter({ config: SHIPPED }));
    const secret = review('p9', { summary: 'Merger plan for ACME past its review date' });
    const restricted = buildFinding({ ...secret, classification: 'restricted' });
    h.ingest(restricted);
    const [t] = h.tick().tickets;
    expect(t?.items).toEqual([
      {
        system: 'policies',
        docId: 'p9',
        check: 'freshness.review-overdue',
        reason: 'freshness.review-overdue (restricted document)',
        fingerprint: restricted.fingerprint,
      },
    ]);
    expect(JSON.stringify(t)).not.toContain('ACME');
    const h2 = new Harness(createRouter({ config: SIMPLE }));
    h2.ingest({ ...finding({ at: T0, summary: 'ACME merger doc is behind' }), restricted: true });
    const alerts = h2.runTo(T0 + M).alerts;
    expect(alerts).toHaveLength(1);
    expect(JSON.stringify(alerts)).not.toContain('ACME');
  });

  const lookup: OwnersLookup = {
    contentClassSteward: (system, cls) =>
      system === 'policies' && cls === 'policy' ? 'carol' : undefined,
    systemTeam: (system) => (system === 'runbooks' ? 'sre' : undefined),
    platformOwner: (system) => (system === 'crm' ? 'platform-crm' : undefined),
  };
  it.each([
    // [subject system, contentClass, finding owner, assignee, queue]
    ['policies', 'policy', { steward: 'alice' }, 'alice', 'alice'],
    ['policies', 'policy', {}, 'carol', 'carol'],
    ['runbooks', 'runbook', {}, 'sre', 'sre'],
    ['crm', 'note', {}, 'platform-crm', 'platform-crm'],
    ['wiki', 'page', { platformOwner: 'pat' }, 'pat', 'pat'],
    ['wiki', 'page', {}, 'unowned', 'unowned'],
  ])('owner fallback: %s/%s %j → %s', (system, contentClass, owner, assignee, queue) => {
    const h = new Harness(createRouter({ config: SHIPPED, owners: lookup }));
    h.ingest(review('x1', { subject: { system, contentClass, docId: 'x1' }, owner }));
    const out = h.tick();
    expect(out.tickets.map((t) => [t.assignee, t.queue])).toEqual([[assignee, queue]]);
    expect(out.findings.map((f) => [f.check, f.status])).toEqual(
      assignee === 'unowned' ? [[UNOWNED_CHECK, 'firing']] : [],
    );
  });

  it('the unowned signal resolves with the unowned ticket', () => {
    const h = new Harness(createRouter({ config: SHIPPED }));
    h.ingest(review('x1', { owner: {} }));
    const raised = h.tick().findings;
    h.ingest(review('x1', { owner: {}, status: 'resolved' }, T0 + M));
    const out = h.tick();
    expect(out.tickets.map((t) => t.action)).toEqual(['resolve']);
    expect(out.findings.map((f) => [f.check, f.status, f.fingerprint])).toEqual([
      [UNOWNED_CHECK, 'resolved', raised[0]?.fingerprint],
    ]);
  });

  it('a silenced finding adds no ticket item', () => {
    const silences = new SilenceTable([
      {
        id: 's',
        matchers: parseMatchers('system="policies"'),
        startsAt: T0,
        endsAt: T0 + H,
        createdBy: 'a',
        comment: 'b',
      },
    ]);
    const h = new Harness(createRouter({ config: SHIPPED, silences }));
    h.ingest(review('p1'));
    expect(h.tick().tickets).toEqual([]);
  });
});

describe('state persistence', () => {
  it('restored from its changelog, a router goes on without a second alert or ticket', () => {
    const router = createRouter({ config: SHIPPED });
    const h = new Harness(router);
    const review = finding({
      at: T0,
      check: 'freshness.review-overdue',
      subject: { system: 'policies', docId: 'p1' },
      owner: { steward: 'alice' },
    });
    h.ingest(finding({ at: T0, doc: 'd1' }), review);
    const before = h.runTo(T0 + M);
    expect([before.alerts.length, before.tickets.length]).toEqual([1, 1]);

    // Persist every change, restore into a fresh state (as after a crash), and replay the same findings.
    const changes = h.state.drainChanges();
    const keys = changes.map((c) => c.key.split(':')[0]);
    expect(new Set(keys)).toEqual(new Set(['finding', 'alert', 'group', 'ticket']));
    const restored = new RouterState(0);
    for (const c of changes) restored.restore(c.key, c.value);
    const h2 = new Harness(router);
    Object.assign(h2, { state: restored });
    h2.clock.set(T0 + M);
    h2.ingest(finding({ at: T0, doc: 'd1' }), review);
    const after = h2.runTo(T0 + 30 * M);
    expect([after.alerts, after.tickets]).toEqual([[], []]);

    h2.ingest(finding({ at: T0 + 31 * M, doc: 'd1', status: 'resolved' }));
    h2.ingest({ ...review, status: 'resolved', observedAt: new Date(T0 + 31 * M).toISOString() });
    const end = h2.runTo(T0 + 40 * M);
    expect(end.alerts.map((a) => a.status)).toEqual(['resolved']);
    expect(end.tickets.map((t) => [t.action, t.ticketKey])).toEqual([
      ['resolve', before.tickets[0]?.ticketKey],
    ]);
  });

  it('every value survives a JSON round trip', () => {
    const h = new Harness(createRouter({ config: SHIPPED }));
    h.ingest(finding({ at: T0 }));
    h.runTo(T0 + M);
    for (const [, v] of h.state.kv.entries()) expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  it('forgets resolved findings after the retention', () => {
    const h = new Harness(createRouter({ config: SIMPLE, resolvedRetention: H }));
    h.ingest(finding({ at: T0 }), finding({ at: T0 + S, status: 'resolved' }));
    h.runTo(T0 + 30 * M);
    expect(entriesOf(h.state, 'finding')).toHaveLength(1);
    h.runTo(T0 + 2 * H);
    expect(h.state.size()).toBe(0);
  });
});
