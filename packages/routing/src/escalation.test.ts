import { buildFinding, parseTime } from '@tidemark/core';
import type { Finding, Ticket } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import type { RoutingConfig } from './config.js';
import { lintEscalations } from './escalation.js';
import { parseMatchers } from './matcher.js';
import type { OwnersLookup } from './owners.js';
import { createRouter } from './router.js';
import type { Router, RouterOutput } from './router.js';
import { SilenceTable } from './silence.js';
import { RouterState } from './state.js';

const T0 = parseTime('2025-03-03T10:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

const CONFIG = parseRoutingConfig(
  `
route:
  receiver: ops
  group_by: [system, check]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [check="freshness.review-overdue"]
      receiver: stewards
receivers:
  - { name: ops }
  - { name: ops-pager }
  - { name: docs-hook, kind: webhook, url: 'http://127.0.0.1:9/hook' }
  - { name: stewards, kind: tickets, period: 7d, sla: 14d }
`,
  'routing.yml',
);

// Team `ops` escalates to the pager after 30m; `docs` to a webhook at once; systems fall back to their team.
const OWNERS: OwnersLookup = {
  teamEscalation: (team) =>
    team === 'ops'
      ? { receiver: 'ops-pager', afterMs: 30 * M }
      : team === 'docs'
        ? { receiver: 'docs-hook', afterMs: undefined }
        : undefined,
  systemEscalation: (system) =>
    system === 'wiki' ? { receiver: 'ops-pager', afterMs: 30 * M } : undefined,
};

function finding(
  over: Partial<Finding> & { at: number; doc?: string; team?: string; system?: string },
): Finding {
  const { at, doc = 'd1', team = 'ops', system = 'wiki', ...rest } = over;
  return buildFinding({
    check: 'freshness.sync-lag',
    status: 'firing',
    severity: 'warning',
    subject: { system, docId: doc },
    owner: { team },
    summary: `${doc} is behind`,
    evidence: {},
    observedAt: new Date(at).toISOString(),
    ...rest,
  });
}

/** Runs the router one second at a time from `from` to `to`, feeding `inputs` when due. */
function drive(
  router: Router,
  state: RouterState,
  from: number,
  to: number,
  inputs: Array<[number, Finding]> = [],
): RouterOutput {
  const out: RouterOutput = {
    alerts: [],
    notifications: [],
    webhooks: [],
    tickets: [],
    findings: [],
  };
  const queue = [...inputs];
  for (let now = from; now <= to; now += S) {
    while (queue.length > 0 && (queue[0]?.[0] ?? Infinity) <= now)
      router.ingest(state, (queue.shift() as [number, Finding])[1], now);
    const o = router.tick(state, now);
    out.alerts.push(...o.alerts);
    out.notifications.push(...o.notifications);
    out.webhooks.push(...o.webhooks);
    out.tickets.push(...o.tickets);
  }
  return out;
}

const brief = (o: RouterOutput) =>
  o.notifications.map((n) => [n.alert.receiver, n.alert.status, n.dueAt - T0]);

describe('alert escalation', () => {
  it('an alert still firing `after` its start also goes to the escalation receiver, once; its resolve too', () => {
    const router = createRouter({ config: CONFIG, owners: OWNERS });
    const state = new RouterState(0);
    const f = finding({ at: T0 });
    const out = drive(router, state, T0, T0 + 2 * H, [
      [T0, f],
      [T0 + 90 * M, { ...f, status: 'resolved', observedAt: new Date(T0 + 90 * M).toISOString() }],
    ]);
    expect(brief(out)).toEqual([
      ['ops', 'firing', 30 * S],
      ['ops-pager', 'firing', 30 * M],
      ['ops-pager', 'resolved', 90 * M],
      ['ops', 'resolved', 90 * M + 30 * S],
    ]);
    const escalated = out.notifications[1]!.alert;
    expect(escalated.fingerprint).toBe(out.notifications[0]!.alert.fingerprint);
    expect(escalated.groupKey).toBe(
      `{}/escalation:{alertname="freshness.sync-lag", fingerprint="${escalated.fingerprint}"}`,
    );
    expect(escalated.annotations.description).toBe(
      'Still firing 30m after it started at 2025-03-03T10:00:00.000Z: escalated to ops-pager. d1 is behind',
    );
  });

  it('does not escalate an alert that resolves before `after`', () => {
    const router = createRouter({ config: CONFIG, owners: OWNERS });
    const f = finding({ at: T0 });
    const out = drive(router, new RouterState(0), T0, T0 + 2 * H, [
      [T0, f],
      [T0 + 20 * M, { ...f, status: 'resolved', observedAt: new Date(T0 + 20 * M).toISOString() }],
    ]);
    expect(out.notifications.map((n) => n.alert.receiver)).toEqual(['ops', 'ops']);
  });

  it('waits while the alert is silenced, then escalates', () => {
    const silences = new SilenceTable([
      {
        id: 's1',
        matchers: parseMatchers('system="wiki"'),
        startsAt: T0 + 10 * M,
        endsAt: T0 + H,
        createdBy: 'oncall',
        comment: 'maintenance',
      },
    ]);
    const router = createRouter({ config: CONFIG, owners: OWNERS, silences });
    const state = new RouterState(0);
    const during = drive(router, state, T0, T0 + H - S, [[T0, finding({ at: T0 })]]);
    expect(brief(during)).toEqual([['ops', 'firing', 30 * S]]);
    // Sent once the silence ends; its record time stays the due time, so a re-run gives the same id.
    const after = drive(router, state, T0 + H, T0 + 70 * M);
    expect(brief(after)).toEqual([['ops-pager', 'firing', 30 * M]]);
  });

  it('uses the system owner when the alert has no team; a webhook escalation gets its own v4 message', () => {
    const router = createRouter({ config: CONFIG, owners: OWNERS });
    const out = drive(router, new RouterState(0), T0, T0 + 5 * S, [
      [T0, finding({ at: T0 - H, team: 'docs', system: 'gdrive' })],
    ]);
    // after: undefined = at once; the alert was already an hour old.
    expect(out.webhooks.map((w) => [w.receiver, w.groupLabels, w.alerts.length])).toEqual([
      ['docs-hook', {}, 1],
    ]);
    const noTeam = drive(router, new RouterState(1), T0, T0 + 31 * M, [
      [T0, finding({ at: T0, team: '' })],
    ]);
    expect(brief(noTeam).map((b) => b[0])).toEqual(['ops', 'ops-pager']);
  });

  it('survives a restore: the pending escalation is rebuilt from the state entries', () => {
    const router = createRouter({ config: CONFIG, owners: OWNERS });
    const state = new RouterState(0);
    drive(router, state, T0, T0 + M, [[T0, finding({ at: T0 })]]);
    const restored = new RouterState(0);
    for (const c of state.drainChanges()) restored.restore(c.key, c.value as Buffer | null);
    const out = drive(createRouter({ config: CONFIG, owners: OWNERS }), restored, T0 + M, T0 + H);
    expect(brief(out)).toEqual([['ops-pager', 'firing', 30 * M]]);
  });
});

describe('ticket escalation', () => {
  const overdue = (doc: string, at: number, dueBy: number) =>
    finding({
      at,
      doc,
      check: 'freshness.review-overdue',
      dueBy: new Date(dueBy).toISOString(),
    });

  it('a ticket past dueBy is updated with escalated: true and the team escalation receiver, once', () => {
    const router = createRouter({ config: CONFIG, owners: OWNERS });
    const state = new RouterState(0);
    const out = drive(router, state, T0, T0 + 3 * H, [
      [T0, overdue('d1', T0, T0 + H)],
      [T0 + 2 * H, overdue('d2', T0 + 2 * H, T0 + 5 * H)],
    ]);
    const shape = (t: Ticket) => [t.action, t.version, t.escalated ?? false, t.escalationReceiver];
    expect(out.tickets.map(shape)).toEqual([
      ['open', 1, false, undefined],
      ['update', 2, true, 'ops-pager'],
      ['update', 3, true, 'ops-pager'],
    ]);
    expect(out.tickets[1]?.dueBy).toBe('2025-03-03T11:00:00.000Z');
  });

  it('a resolved ticket starts its next generation unescalated', () => {
    const router = createRouter({ config: CONFIG, owners: OWNERS });
    const state = new RouterState(0);
    const f = overdue('d1', T0, T0 + H);
    const out = drive(router, state, T0, T0 + 4 * H, [
      [T0, f],
      [T0 + 2 * H, { ...f, status: 'resolved', observedAt: new Date(T0 + 2 * H).toISOString() }],
      [T0 + 3 * H, overdue('d3', T0 + 3 * H, T0 + 10 * H)],
    ]);
    expect(out.tickets.map((t) => [t.action, t.escalated ?? false])).toEqual([
      ['open', false],
      ['update', true],
      ['resolve', true],
      ['open', false],
    ]);
    expect(out.tickets[3]?.ticketKey).not.toBe(out.tickets[0]?.ticketKey);
  });
});

describe('lintEscalations', () => {
  const config: RoutingConfig = CONFIG;
  it.each([
    ['a defined alerts receiver', 'teams:\n  a:\n    escalation: { receiver: ops-pager }\n', []],
    ['a webhook receiver', 'owner:\n  escalation:\n    receiver: docs-hook\n', []],
    [
      'an undefined receiver, in a content class owner',
      'contentClasses:\n  - name: x\n    owner:\n      escalation: { receiver: nobody }\n',
      [
        'f.yaml:4:31: contentClasses[0].owner.escalation.receiver: "nobody" is not a receiver in routing.yml',
      ],
    ],
    [
      'a tickets receiver',
      'teams:\n  a:\n    escalation:\n      receiver: stewards\n',
      [
        'f.yaml:4:17: teams.a.escalation.receiver: "stewards" is a tickets receiver in routing.yml; an escalation needs an alerts or webhook receiver',
      ],
    ],
  ])('%s', (_, text, expected) => {
    const problems = lintEscalations(config, [{ path: 'f.yaml', text }]);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`)).toEqual(expected);
  });
});
