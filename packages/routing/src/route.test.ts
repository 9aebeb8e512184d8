import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from './config.js';
import { groupKeyOf, groupLabels, match } from './route.js';

// Alertmanager's dispatch/route_test.go style: one tree, a table of label sets and the receivers they reach.
const TREE = `
route:
  receiver: default
  group_by: [system]
  routes:
    - matchers: [owner="team-A"]
      receiver: team-A
      routes:
        - matchers: ['env=~"prod|production"']
          receiver: team-A-prod
          group_wait: 1m
    - matchers: [owner="team-B"]
      receiver: team-B
      continue: true
    - matchers: ['owner=~"team-.*"']
      receiver: team-any
      group_by: ['...']
    - matchers: [owner="team-B"]
      receiver: never-reached
    - matchers: ['owner=~"team-C"', 'env!="dev"']
      receiver: team-C
      continue: true
      routes:
        - matchers: [severity="critical"]
          receiver: team-C-pager
          continue: true
        - matchers: ['severity=~"critical|high"']
          receiver: team-C-high
receivers:
  [
    { name: default }, { name: team-A }, { name: team-A-prod }, { name: team-B }, { name: team-any },
    { name: never-reached }, { name: team-C }, { name: team-C-pager }, { name: team-C-high },
  ]
`;
const config = parseRoutingConfig(TREE, 'tree.yml');

describe('match: depth-first, left to right, `continue`', () => {
  it.each([
    [{ system: 'wiki' }, ['default']],
    [{ owner: 'team-A', system: 'wiki' }, ['team-A']],
    [{ owner: 'team-A', env: 'production' }, ['team-A-prod']],
    [{ owner: 'team-A', env: 'prod-eu' }, ['team-A']], // anchored: prod|production only
    [{ owner: 'team-B' }, ['team-B', 'team-any']], // continue, then the first match stops
    [{ owner: 'team-X' }, ['team-any']],
    [{ owner: 'team-C', env: 'prod' }, ['team-any']], // team-any matches first and does not continue
    [{ owner: 'someone' }, ['default']],
  ])('%j → %j', (labels, receivers) => {
    expect(match(config.route, labels).map((r) => r.receiver)).toEqual(receivers);
  });

  it('keeps going after a continuing parent to its siblings, and within its children', () => {
    const c = parseRoutingConfig(TREE.replace('owner=~"team-.*"', 'owner="team-B"'), 't.yml');
    const receivers = (labels: Record<string, string>): string[] =>
      match(c.route, labels).map((r) => r.receiver);
    expect(receivers({ owner: 'team-C', severity: 'critical' })).toEqual([
      'team-C-pager',
      'team-C-high',
    ]);
    expect(receivers({ owner: 'team-C', severity: 'high' })).toEqual(['team-C-high']);
    expect(receivers({ owner: 'team-C', severity: 'low' })).toEqual(['team-C']);
    expect(receivers({ owner: 'team-C', env: 'dev' })).toEqual(['default']);
  });

  it('returns the matched nodes with inherited options', () => {
    const [prod] = match(config.route, { owner: 'team-A', env: 'prod' });
    expect([prod?.groupWait, prod?.groupBy, prod?.groupInterval]).toEqual([
      60_000,
      ['system'],
      300_000,
    ]);
  });
});

describe('groupLabels and group keys', () => {
  const [anyRoute] = match(config.route, { owner: 'team-X' });
  it.each([
    [config.route, { system: 'wiki', check: 'x' }, { system: 'wiki' }, '{}:{system="wiki"}'],
    [config.route, { check: 'x' }, {}, '{}:{}'],
    [
      anyRoute,
      { owner: 'team-X', b: '2', a: '1' },
      { a: '1', b: '2', owner: 'team-X' },
      '{}/{owner=~"team-.*"}:{a="1", b="2", owner="team-X"}',
    ],
  ])('%#', (route, labels, expected, key) => {
    const gl = groupLabels(route!, labels);
    expect(gl).toEqual(expected);
    expect(groupKeyOf(route!, gl)).toBe(key);
  });
});
