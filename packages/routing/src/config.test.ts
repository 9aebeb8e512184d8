import { readFileSync } from 'node:fs';
import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { ROUTING_DEFAULTS, parseRoutingConfig } from './config.js';
import type { Route } from './config.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

describe('parseRoutingConfig: invalid configs (one fixture each, every problem listed)', () => {
  const cases: Array<[string, string[]]> = [
    [
      'conf.unknown-key.yml',
      [
        ':4:3: route.recevier: unknown field (allowed: receiver, group_by, group_wait, group_interval, repeat_interval, matchers, match, match_re, continue, routes, mute_time_intervals, active_time_intervals)',
        ':8:5: receivers[0].webhook_configs: unknown field (allowed: name, kind, queue, period, sla, url, send_resolved, max_alerts, project, issue_type, resolve_transition)',
      ],
    ],
    [
      'conf.undefined-receiver.yml',
      [':5:7: route.routes[0]: undefined receiver "nobody" used in route'],
    ],
    ['conf.root-matchers.yml', [':2:3: route: root route must not have any matchers']],
    ['conf.root-no-receiver.yml', [':2:3: route: root route must specify a default receiver']],
    ['conf.root-continue.yml', [':2:3: route: cannot have continue in root route']],
    [
      'conf.bad-matcher.yml',
      [
        ':5:18: route.routes[0].matchers[0]: invalid regular expression "(unclosed": error parsing regexp: missing closing ): `^(?:(unclosed)$`',
        ':7:18: route.routes[1].matchers[0]: bad matcher format: 9bad="x"',
        ':9:18: route.routes[2].matchers[0]: matcher value contains unescaped double quote: "a"b"',
      ],
    ],
    [
      'conf.group-by-wildcard-mixed.yml',
      [
        ':3:13: route.group_by: cannot have wildcard group_by (`...`) and other labels at the same time',
      ],
    ],
    [
      'conf.group-by-duplicate.yml',
      [':3:13: route.group_by: duplicated label "system" in group_by'],
    ],
    [
      'conf.zero-interval.yml',
      [
        ':4:19: route.group_interval: group_interval cannot be zero',
        ':5:20: route.repeat_interval: repeat_interval cannot be zero',
      ],
    ],
    [
      'conf.bad-duration.yml',
      [
        ':4:15: route.group_wait: not a duration: "30 seconds" (use e.g. "30s", "15m", "4h", "7d", "1h30m")',
      ],
    ],
    [
      'conf.partition-label.yml',
      [
        `:2:3: route: group_by must include "system" (or be ['...']) so each group lives in one partition; effective group_by is [check]`,
        ':10:12: inhibit_rules[0].equal: must include "system" so a source alert and its targets live in one partition',
      ],
    ],
    [
      'conf.undefined-time-interval.yml',
      [':5:7: route.routes[0]: undefined time interval "weekend" used in route'],
    ],
    [
      'conf.bad-time-interval.yml',
      [
        ':9:17: time_intervals[0].time_intervals[0].times[0]: start time cannot be equal or greater than end time',
        ':10:20: time_intervals[0].time_intervals[0].weekdays[0]: funday is not a valid weekday',
        ':11:25: time_intervals[0].time_intervals[0].days_of_month[0]: 0 is not a valid day of the month: out of range',
        ':12:18: time_intervals[0].time_intervals[0].months[0]: smarch is not a valid month',
        ':13:17: time_intervals[0].time_intervals[0].years[0]: end year 2024 is before start year 2026',
        ':14:19: time_intervals[0].time_intervals[0].location: unknown time zone "Mars/Olympus"',
      ],
    ],
    [
      'conf.duplicate-receiver.yml',
      [
        ':6:5: receivers[1]: notification config name "a" is not unique',
        ':7:11: receivers[1].kind: must be "alerts", "tickets", "webhook" or "jira", got "pager"',
      ],
    ],
    [
      'conf.alerts-receiver-ticket-fields.yml',
      [':7:12: receivers[0].queue: only tickets and jira receivers take queue'],
    ],
    ['conf.no-route.yml', [':1:1: no routes provided']],
    [
      'conf.not-yaml.yml',
      [
        ':2:13: YAML: Implicit keys need to be on a single line',
        ':2:13: YAML: Nested mappings are not allowed in compact mappings',
        ':5:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ],
    ['conf.duplicate-key.yml', [':3:3: YAML: Map keys must be unique']],
    [
      'conf.jira-fields.yml',
      [
        ':7:14: receivers[0].project: only jira receivers take project',
        ':8:5: receivers[1]: jira receiver needs a project',
        ':8:5: receivers[1]: jira receiver needs a url',
      ],
    ],
    [
      'conf.webhook-fields.yml',
      [
        ':7:10: receivers[0].url: only webhook receivers take url',
        ':8:5: receivers[1]: webhook receiver needs a url',
        ':12:10: receivers[2].url: must be an http:// or https:// URL, got "ftp://example.com/hook"',
        ':13:17: receivers[2].max_alerts: must be a whole number >= 0, got "-1"',
      ],
    ],
    [
      'conf.inhibit-no-matchers.yml',
      [
        ':7:5: inhibit_rules[0]: inhibit rule needs source matchers',
        ':7:5: inhibit_rules[0]: inhibit rule needs target matchers',
      ],
    ],
  ];

  it.each(cases)('%s', (file, problems) => {
    let error: unknown;
    try {
      parseRoutingConfig(fixture(file), file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems).toEqual(problems.map((p) => `${file}${p}`));
    expect(e.message).toBe(`invalid routing config ${file}:\n  - ${e.problems.join('\n  - ')}`);
    expect(e.retriable).toBe(false);
  });

  it('has a fixture under testdata/ for every case and a case for every fixture', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(new URL('./testdata/', import.meta.url)).filter((f) =>
      f.startsWith('conf.'),
    );
    expect(files.sort()).toEqual(cases.map(([f]) => f).sort());
  });
});

describe('parseRoutingConfig: options merged over the parent into new objects', () => {
  const config = parseRoutingConfig(
    `
route:
  receiver: root
  group_by: [system]
  group_wait: 1m
  routes:
    - matchers: [check="a"]
      group_interval: 10m
      routes:
        - matchers: [severity="critical"]
          receiver: pager
          repeat_interval: 1h
          group_by: ['...']
    - matchers: [check="b"]
      receiver: other
      group_by: [system, connector]
      mute_time_intervals: [nights]
time_intervals:
  - name: nights
    time_intervals: [{ times: [{ start_time: '22:00', end_time: '24:00' }] }]
receivers: [{ name: root }, { name: pager }, { name: other, kind: tickets, queue: stewards }]
`,
    'inline.yml',
  );
  const [a, b] = config.route.routes as [Route, Route];
  const critical = a.routes[0] as Route;

  it.each([
    [
      'root',
      config.route,
      {
        receiver: 'root',
        groupBy: ['system'],
        groupByAll: false,
        groupWait: 60_000,
        groupInterval: ROUTING_DEFAULTS.groupInterval,
        repeatInterval: ROUTING_DEFAULTS.repeatInterval,
      },
    ],
    [
      'check=a',
      a,
      {
        receiver: 'root',
        groupBy: ['system'],
        groupByAll: false,
        groupWait: 60_000,
        groupInterval: 600_000,
        repeatInterval: ROUTING_DEFAULTS.repeatInterval,
      },
    ],
    [
      'check=a/critical',
      critical,
      {
        receiver: 'pager',
        groupBy: ['system'],
        groupByAll: true,
        groupWait: 60_000,
        groupInterval: 600_000,
        repeatInterval: 3_600_000,
      },
    ],
    [
      'check=b',
      b,
      {
        receiver: 'other',
        groupBy: ['system', 'connector'],
        groupByAll: false,
        groupWait: 60_000,
        groupInterval: ROUTING_DEFAULTS.groupInterval,
        repeatInterval: ROUTING_DEFAULTS.repeatInterval,
      },
    ],
  ])('%s', (_name, route, expected) => {
    expect({
      receiver: route.receiver,
      groupBy: route.groupBy,
      groupByAll: route.groupByAll,
      groupWait: route.groupWait,
      groupInterval: route.groupInterval,
      repeatInterval: route.repeatInterval,
    }).toEqual(expected);
  });

  it('does not inherit time intervals (as Alertmanager) and keeps route ids and keys', () => {
    expect(b.muteTimeIntervals).toEqual(['nights']);
    expect(config.route.muteTimeIntervals).toEqual([]);
    expect(critical.id).toBe('{}/{check="a"}/0/{severity="critical"}/0');
    expect(critical.key).toBe('{}/{check="a"}/{severity="critical"}');
    expect(b.id).toBe('{}/{check="b"}/1');
    expect(config.receivers.get('other')).toEqual({
      name: 'other',
      kind: 'tickets',
      queue: 'stewards',
      period: ROUTING_DEFAULTS.ticketPeriod,
      sla: ROUTING_DEFAULTS.ticketSla,
      sendResolved: true,
      maxAlerts: 0,
    });
    expect(Object.isFrozen(critical)).toBe(true);
  });

  it('accepts the partition check being turned off', () => {
    const c = parseRoutingConfig('route: { receiver: a }\nreceivers: [{ name: a }]\n', 'x.yml', {
      partitionLabel: null,
    });
    expect(c.route.groupBy).toEqual([]);
  });

  it('defaults match Alertmanager', () => {
    expect([
      ROUTING_DEFAULTS.groupWait,
      ROUTING_DEFAULTS.groupInterval,
      ROUTING_DEFAULTS.repeatInterval,
    ]).toEqual([30_000, 300_000, 14_400_000]);
  });
});

describe('contracts/routing.yaml', () => {
  it('parses and ships the default inhibitions', () => {
    const file = new URL('../../../contracts/routing.yaml', import.meta.url);
    const config = parseRoutingConfig(readFileSync(file, 'utf8'), 'contracts/routing.yaml');
    expect(config.inhibitRules.map((r) => [r.name, r.equal])).toEqual([
      ['connector-outage', ['system', 'connector']],
      ['system-outage', ['system']],
    ]);
    expect([...config.receivers.values()].map((r) => [r.name, r.kind])).toEqual([
      ['platform-alerts', 'alerts'],
      ['platform-pager', 'alerts'],
      ['platform-notices', 'alerts'],
      ['steward-tickets', 'tickets'],
      ['search-platform-pager', 'alerts'],
      ['knowledge-ops-email', 'alerts'],
      ['compliance-email', 'alerts'],
      ['support-content-email', 'alerts'],
    ]);
  });
});
