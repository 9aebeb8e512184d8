import type { Route } from './config.js';
import { matchesAll } from './matcher.js';
import type { Labels } from './matcher.js';

/**
 * Routes an alert's labels through the tree depth-first, left to right, exactly like Alertmanager's
 * `Route.Match`: a child that matches stops its later siblings unless it has `continue: true`; a node none of
 * whose children match is itself the match. Returns [] when the node's own matchers fail.
 */
export function match(route: Route, labels: Labels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const matches = match(child, labels);
    all.push(...matches);
    if (matches.length > 0 && !child.continue) break;
  }
  if (all.length === 0) all.push(route);
  return all;
}

/** Visits every node of the tree depth-first (parent before children). */
export function walkRoutes(route: Route, visit: (route: Route) => void): void {
  visit(route);
  for (const child of route.routes) walkRoutes(child, visit);
}

/**
 * The labels a route groups an alert by: the `group_by` labels the alert has (all labels for `...`), as
 * Alertmanager's `getGroupLabels` picks them.
 */
export function groupLabels(route: Route, labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  if (route.groupByAll) {
    for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
    return out;
  }
  for (const k of [...route.groupBy].sort()) {
    const v = labels[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** Alertmanager's group key text: `<route key>:<group labels>`, e.g. `{}/{team="x"}:{system="wiki"}`. */
export function groupKeyOf(route: Route, group: Readonly<Record<string, string>>): string {
  const body = Object.keys(group)
    .map((k) => `${k}=${JSON.stringify(group[k])}`)
    .join(', ');
  return `${route.key}:{${body}}`;
}
