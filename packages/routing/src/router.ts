// The router: findings in, alerts and tickets out, as Alertmanager routes alerts. This file only composes the
// concept files under router/, which share an explicit context (router/context.ts) instead of closure state:
//   ingest → router/findings.ts (dedup, expiry) → router/alerts.ts (alert lifecycle) → router/dispatch.ts
//            (groups) and router/tickets.ts (ticket items); muting in router/inhibit.ts
//   tick   → router/tick.ts: expiries, escalations and group flushes (router/dispatch.ts), ticket actions
//            (router/tickets.ts), silence notices (router/notices.ts), the cleanup sweep
import { ROUTING_DEFAULTS } from './config.js';
import type { Route } from './config.js';
import { walkRoutes } from './route.js';
import type { RouterEntry, RouterState } from './state.js';
import type { RouterContext } from './router/context.js';
import { ingest } from './router/findings.js';
import { indexes, scopeOf } from './router/indexes.js';
import { isInhibited } from './router/inhibit.js';
import { nextTick, tick } from './router/tick.js';
import type { Router, RouterOptions } from './router/types.js';

export { ZERO_TIME, fillTemplate } from './router/dispatch.js';
export { SILENCE_EXPIRING_CHECK } from './router/notices.js';
export { UNOWNED_CHECK } from './router/tickets.js';
export type {
  AlertNotification,
  Router,
  RouterOptions,
  RouterOutput,
  WebhookNotification,
} from './router/types.js';

/** Builds a router over a validated config. */
export function createRouter({
  config,
  owners = {},
  silences,
  silenceExpiryLead = ROUTING_DEFAULTS.silenceExpiryLead,
  silenceNoticePartition = 0,
  ticketItemLimit = ROUTING_DEFAULTS.ticketItemLimit,
  alertFindingSample = ROUTING_DEFAULTS.alertFindingSample,
  resolvedRetention = ROUTING_DEFAULTS.resolvedRetention,
  runbookUrl,
  generatorUrl = ROUTING_DEFAULTS.generatorUrl,
}: RouterOptions): Router {
  const routesById = new Map<string, Route>();
  walkRoutes(config.route, (r) => routesById.set(r.id, r));
  const ctx: RouterContext = {
    config,
    owners,
    silences,
    silenceExpiryLead,
    silenceNoticePartition,
    ticketItemLimit,
    alertFindingSample,
    resolvedRetention,
    runbookUrl,
    generatorUrl,
    routesById,
    labelFingerprints: new Map(),
    lastTick: new WeakMap(),
  };
  return {
    config,
    ingest(state, finding, now) {
      if (finding.shadow) return; // shadow findings are dropped on entry
      ingest({ ctx, state, ix: indexes(ctx, state), now }, finding);
    },
    tick: (state, now) => tick(ctx, state, now),
    nextTick: (state) => nextTick(scopeOf(ctx, state)),
    isInhibited: (state, labels) => isInhibited(scopeOf(ctx, state), labels),
  };
}

/** Entries of a router state by kind, for tests and inspection. */
export function entriesOf<K extends RouterEntry['kind']>(
  state: RouterState,
  kind: K,
): Array<[string, Extract<RouterEntry, { kind: K }>]> {
  const out: Array<[string, Extract<RouterEntry, { kind: K }>]> = [];
  for (const [key, e] of state.kv.entries()) {
    if (e.kind === kind)
      out.push([key.slice(key.indexOf(':') + 1), e as Extract<RouterEntry, { kind: K }>]);
  }
  return out;
}
