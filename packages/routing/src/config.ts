import { ConfigError } from '@tidemark/core';
import { YamlReader } from '@tidemark/contracts';
import type { Located } from '@tidemark/contracts';
import { formatMatchers, newMatcher, parseMatchers, sortMatchers } from './matcher.js';
import type { Matcher } from './matcher.js';
import { readTimeIntervals } from './config-intervals.js';
import { ROUTING_DEFAULTS, duration } from './config-defaults.js';
import { readReceivers, type Receiver } from './config-receivers.js';
import type { TimeInterval } from './timeinterval.js';

// Defaults and receivers live in modules of their own (no import cycle); the config's public names stay here.
export { ROUTING_DEFAULTS, duration } from './config-defaults.js';
export { isTicketReceiver } from './config-receivers.js';
export type { Receiver, ReceiverKind } from './config-receivers.js';

/**
 * A node of the routing tree with its options already merged over its parent's (a new object per node, as
 * Alertmanager's `NewRoute` builds it).
 */
export interface Route {
  /** Unique id: Alertmanager's `Route.ID()` (parent id / matchers / index among siblings). */
  readonly id: string;
  /** Alertmanager's `Route.Key()`, used in group keys. */
  readonly key: string;
  /** Line of the route in its file, for messages. */
  readonly line: number;
  readonly receiver: string;
  /** Labels to group by (empty = one group per route); ignored when groupByAll. */
  readonly groupBy: readonly string[];
  /** `group_by: ['...']`: every label set is its own group. */
  readonly groupByAll: boolean;
  readonly groupWait: number;
  readonly groupInterval: number;
  readonly repeatInterval: number;
  readonly matchers: readonly Matcher[];
  readonly continue: boolean;
  /** Not inherited, as in Alertmanager. */
  readonly muteTimeIntervals: readonly string[];
  /** Not inherited, as in Alertmanager. */
  readonly activeTimeIntervals: readonly string[];
  readonly routes: readonly Route[];
}

/** `source` alerts that fire mute `target` alerts agreeing on every `equal` label. */
export interface InhibitRule {
  readonly name?: string;
  readonly sourceMatchers: readonly Matcher[];
  readonly targetMatchers: readonly Matcher[];
  readonly equal: readonly string[];
}

/** A validated `routing.yaml`. */
export interface RoutingConfig {
  readonly file: string;
  readonly route: Route;
  readonly receivers: ReadonlyMap<string, Receiver>;
  readonly inhibitRules: readonly InhibitRule[];
  readonly timeIntervals: ReadonlyMap<string, readonly TimeInterval[]>;
}

/** Options of parseRoutingConfig. */
export interface RoutingConfigOptions {
  /**
   * Label every route's group_by and every inhibit rule's `equal` must contain, so groups and inhibitions
   * never span partitions (see README); null turns the check off (e.g. for a one-partition replay).
   * @default ROUTING_DEFAULTS.partitionLabel
   */
  partitionLabel?: string | null;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const ROUTE_KEYS = [
  'receiver',
  'group_by',
  'group_wait',
  'group_interval',
  'repeat_interval',
  'matchers',
  'match',
  'match_re',
  'continue',
  'routes',
  'mute_time_intervals',
  'active_time_intervals',
] as const;

interface RawRoute {
  at: Located;
  line: number;
  receiver?: string;
  groupBy?: string[];
  groupByAll: boolean;
  groupWait?: number;
  groupInterval?: number;
  repeatInterval?: number;
  matchers: Matcher[];
  continue: boolean;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  routes: RawRoute[];
}

function matcherList(
  r: YamlReader,
  fields: Map<string, Located>,
  prefix: '' | 'source_' | 'target_',
): Matcher[] {
  const out: Matcher[] = [];
  for (const item of r.seq(fields.get(`${prefix}matchers`) ?? { node: null, path: '' })) {
    const s = r.str(item);
    if (s === undefined) continue;
    out.push(...(r.attempt(item, () => parseMatchers(s)) ?? []));
  }
  // Alertmanager's deprecated forms, still accepted so existing configs load unchanged.
  for (const [name, value, at] of r.stringMap(fields.get(`${prefix}match`))) {
    if (!LABEL_NAME.test(name)) r.problem(at, `invalid label name ${JSON.stringify(name)}`);
    else out.push(newMatcher('=', name, value));
  }
  for (const [name, value, at] of r.stringMap(fields.get(`${prefix}match_re`))) {
    if (!LABEL_NAME.test(name)) r.problem(at, `invalid label name ${JSON.stringify(name)}`);
    else {
      const m = r.attempt(at, () => newMatcher('=~', name, value));
      if (m) out.push(m);
    }
  }
  return sortMatchers(out);
}

function readRoute(r: YamlReader, at: Located): RawRoute {
  const f = r.map(at, ROUTE_KEYS) ?? new Map<string, Located>();
  const raw: RawRoute = {
    at,
    line: r.line(at),
    groupByAll: false,
    matchers: matcherList(r, f, ''),
    continue: r.bool(f.get('continue')) ?? false,
    muteTimeIntervals: r.strings(f.get('mute_time_intervals')) ?? [],
    activeTimeIntervals: r.strings(f.get('active_time_intervals')) ?? [],
    routes: [],
  };
  const receiver = r.str(f.get('receiver'));
  if (receiver !== undefined && receiver !== '') raw.receiver = receiver;
  const gbAt = f.get('group_by');
  const groupBy = r.strings(gbAt);
  if (groupBy && gbAt) {
    const names: string[] = [];
    for (const l of groupBy) {
      if (l === '...') raw.groupByAll = true;
      else if (!LABEL_NAME.test(l))
        r.problem(gbAt, `invalid label name ${JSON.stringify(l)} in group_by list`);
      else if (names.includes(l))
        r.problem(gbAt, `duplicated label ${JSON.stringify(l)} in group_by`);
      else names.push(l);
    }
    if (raw.groupByAll && names.length > 0) {
      r.problem(gbAt, 'cannot have wildcard group_by (`...`) and other labels at the same time');
    }
    if (!raw.groupByAll) raw.groupBy = names;
  }
  const groupWait = duration(r, f.get('group_wait'));
  if (groupWait !== undefined) raw.groupWait = groupWait;
  for (const [key, field] of [
    ['group_interval', 'groupInterval'],
    ['repeat_interval', 'repeatInterval'],
  ] as const) {
    const v = duration(r, f.get(key));
    if (v === 0) r.problem(f.get(key) as Located, `${key} cannot be zero`);
    else if (v !== undefined) raw[field] = v;
  }
  raw.routes = r
    .seq(f.get('routes') ?? { node: null, path: '' })
    .map((child) => readRoute(r, child));
  return raw;
}

interface Parent {
  id: string;
  key: string;
  receiver: string;
  groupBy: readonly string[];
  groupByAll: boolean;
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
}

// Mirrors dispatch.newRoute: start from the parent's options (or the defaults), overwrite what is set.
function buildRoute(raw: RawRoute, parent: Parent | undefined, index: number): Route {
  const base: Parent = parent ?? {
    id: '',
    key: '',
    receiver: '',
    groupBy: [],
    groupByAll: false,
    groupWait: ROUTING_DEFAULTS.groupWait,
    groupInterval: ROUTING_DEFAULTS.groupInterval,
    repeatInterval: ROUTING_DEFAULTS.repeatInterval,
  };
  const ms = formatMatchers(raw.matchers);
  const key = parent ? `${parent.key}/${ms}` : ms;
  const id = parent ? `${parent.id}/${ms}/${index}` : ms;
  const opts: Parent = {
    id,
    key,
    receiver: raw.receiver ?? base.receiver,
    groupBy: raw.groupBy ? [...raw.groupBy] : base.groupBy,
    groupByAll: raw.groupBy ? false : raw.groupByAll || base.groupByAll,
    groupWait: raw.groupWait ?? base.groupWait,
    groupInterval: raw.groupInterval ?? base.groupInterval,
    repeatInterval: raw.repeatInterval ?? base.repeatInterval,
  };
  return Object.freeze({
    ...opts,
    line: raw.line,
    matchers: Object.freeze([...raw.matchers]),
    continue: raw.continue,
    muteTimeIntervals: Object.freeze([...raw.muteTimeIntervals]),
    activeTimeIntervals: Object.freeze([...raw.activeTimeIntervals]),
    routes: Object.freeze(raw.routes.map((child, i) => buildRoute(child, opts, i))),
  });
}

function readInhibitRules(
  r: YamlReader,
  at: Located | undefined,
  partitionLabel: string | null,
): InhibitRule[] {
  const out: InhibitRule[] = [];
  for (const item of r.seq(at ?? { node: null, path: '' })) {
    const f = r.map(item, [
      'name',
      'source_matchers',
      'target_matchers',
      'source_match',
      'source_match_re',
      'target_match',
      'target_match_re',
      'equal',
    ]);
    if (!f) continue;
    const name = r.str(f.get('name'));
    const equalAt = f.get('equal');
    const equal = r.strings(equalAt) ?? [];
    for (const l of equal) {
      if (!LABEL_NAME.test(l) && equalAt)
        r.problem(equalAt, `invalid label name ${JSON.stringify(l)}`);
    }
    if (partitionLabel !== null && !equal.includes(partitionLabel)) {
      r.problem(
        equalAt ?? { node: item.node, path: `${item.path}.equal` },
        `must include "${partitionLabel}" so a source alert and its targets live in one partition`,
      );
    }
    const rule: InhibitRule = {
      ...(name ? { name } : {}),
      sourceMatchers: matcherList(r, f, 'source_'),
      targetMatchers: matcherList(r, f, 'target_'),
      equal,
    };
    if (rule.sourceMatchers.length === 0) r.problem(item, 'inhibit rule needs source matchers');
    if (rule.targetMatchers.length === 0) r.problem(item, 'inhibit rule needs target matchers');
    out.push(Object.freeze(rule));
  }
  return out;
}

function checkTree(
  r: YamlReader,
  raw: RawRoute,
  route: Route,
  receivers: ReadonlyMap<string, Receiver>,
  intervals: ReadonlyMap<string, unknown>,
  partitionLabel: string | null,
): void {
  if (raw.receiver !== undefined && !receivers.has(raw.receiver)) {
    r.problem(raw.at, `undefined receiver ${JSON.stringify(raw.receiver)} used in route`);
  }
  for (const name of [...raw.muteTimeIntervals, ...raw.activeTimeIntervals]) {
    if (!intervals.has(name))
      r.problem(raw.at, `undefined time interval ${JSON.stringify(name)} used in route`);
  }
  if (partitionLabel !== null && !route.groupByAll && !route.groupBy.includes(partitionLabel)) {
    r.problem(
      raw.at,
      `group_by must include "${partitionLabel}" (or be ['...']) so each group lives in one partition; ` +
        `effective group_by is [${route.groupBy.join(', ')}]`,
    );
  }
  raw.routes.forEach((child, i) =>
    checkTree(r, child, route.routes[i] as Route, receivers, intervals, partitionLabel),
  );
}

/**
 * Parses and validates `routing.yaml` (Alertmanager's `route`, `receivers`, `inhibit_rules`, `time_intervals`),
 * throwing ConfigError that lists every problem as `file:line:column: field: reason`.
 */
export function parseRoutingConfig(
  text: string,
  file: string,
  { partitionLabel = ROUTING_DEFAULTS.partitionLabel }: RoutingConfigOptions = {},
): RoutingConfig {
  const r = new YamlReader(text, file);
  // After a syntax error the tree is a guess; reporting its fields would only add noise.
  if (r.problems.length > 0)
    throw new ConfigError(`invalid routing config ${file}`, r.sortedProblems());
  const top = r.map(r.root, [
    'route',
    'receivers',
    'inhibit_rules',
    'time_intervals',
    'mute_time_intervals',
  ]);
  if (!top) {
    throw new ConfigError(`invalid routing config ${file}`, r.sortedProblems());
  }
  const receivers = readReceivers(r, top.get('receivers'));
  const timeIntervals = new Map<string, readonly TimeInterval[]>();
  readTimeIntervals(r, [top.get('mute_time_intervals'), top.get('time_intervals')], timeIntervals);
  const inhibitRules = readInhibitRules(r, top.get('inhibit_rules'), partitionLabel);
  const routeAt = top.get('route');
  if (!routeAt || r.isNull(routeAt)) {
    r.problem(r.root, 'no routes provided');
    throw new ConfigError(`invalid routing config ${file}`, r.sortedProblems());
  }
  const raw = readRoute(r, routeAt);
  if (raw.receiver === undefined) r.problem(routeAt, 'root route must specify a default receiver');
  if (raw.matchers.length > 0) r.problem(routeAt, 'root route must not have any matchers');
  if (raw.continue) r.problem(routeAt, 'cannot have continue in root route');
  if (raw.muteTimeIntervals.length > 0)
    r.problem(routeAt, 'root route must not have any mute time intervals');
  if (raw.activeTimeIntervals.length > 0)
    r.problem(routeAt, 'root route must not have any active time intervals');
  const route = buildRoute(raw, undefined, 0);
  checkTree(r, raw, route, receivers, timeIntervals, partitionLabel);
  if (r.problems.length > 0)
    throw new ConfigError(`invalid routing config ${file}`, r.sortedProblems());
  return Object.freeze({
    file,
    route,
    receivers,
    inhibitRules: Object.freeze(inhibitRules),
    timeIntervals,
  });
}
