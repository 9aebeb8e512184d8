// alert-router: wiring only — routing.yaml, silences.yaml and contracts from CONTRACTS_DIR, the optional
// Alertmanager sink → runtime → the service definition from @tidemark/routing. With ALERT_ROUTER_MODE=webhook
// the same image runs the webhook sender instead: a consumer of the router's webhook topic that POSTs each
// Alertmanager webhook v4 message and commits after the receiver accepted it; with ALERT_ROUTER_MODE=jira,
// the Jira sender: a consumer of dq.tickets.v1 that mirrors jira receivers' tickets onto Jira issues.
import type { PartitionState } from '@tidemark/core';
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import {
  ALERT_ROUTER,
  createAlertRouterService,
  createJiraSenderService,
  createWebhookSenderService,
} from '@tidemark/routing';
import { createLogger, loadRuntimeConfig, runMain } from '@tidemark/runtime';
import { alertmanagerSinkFromEnv } from './alertmanager.js';
import { loadRoutingFromEnv } from './files.js';
import { createJiraClient, jiraAuthorizationFromEnv } from './jira.js';
import { createWebhookDeliver, routerModeFromEnv } from './webhook.js';

await runMain<PartitionState, unknown>(async (env) => {
  // SERVICE_NAME lets two routers (or two test runs) share a cluster: it names the changelog and the
  // repartition topic.
  const name = env['SERVICE_NAME'] || ALERT_ROUTER;
  const settings = routerModeFromEnv(env);
  if (settings.mode === 'webhook') {
    const sender = `${name}-webhook`;
    const { logLevel } = loadRuntimeConfig(env, sender);
    const { config } = await loadRoutingFromEnv(env);
    const logger = createLogger({ service: sender, level: logLevel }).child({
      component: 'webhook',
    });
    return createWebhookSenderService({
      config,
      routerName: name,
      name: sender,
      deliver: createWebhookDeliver({ logger }),
    });
  }
  if (settings.mode === 'jira') {
    const sender = `${name}-jira`;
    const { topics, logLevel } = loadRuntimeConfig(env, sender);
    const { config } = await loadRoutingFromEnv(env);
    const logger = createLogger({ service: sender, level: logLevel }).child({ component: 'jira' });
    const authorization = jiraAuthorizationFromEnv(env);
    return createJiraSenderService({
      config,
      ticketsTopic: topics.tickets,
      name: sender,
      api: createJiraClient({ logger, ...(authorization ? { authorization } : {}) }),
    });
  }
  const { topics, logLevel } = loadRuntimeConfig(env, name);
  const { config, silences } = await loadRoutingFromEnv(env);
  const contracts = await loadContractsFromEnv(env);
  const logger = createLogger({ service: name, level: logLevel }).child({
    component: 'alertmanager',
  });
  const alertmanager = alertmanagerSinkFromEnv(env, logger);
  return createAlertRouterService({
    name,
    config,
    contracts,
    topics,
    silences,
    ...(alertmanager ? { alertmanager } : {}),
    ...(settings.externalUrl ? { externalUrl: settings.externalUrl } : {}),
    ...(settings.generatorUrl ? { router: { generatorUrl: settings.generatorUrl } } : {}),
  });
});
