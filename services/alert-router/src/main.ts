// alert-router: wiring only — routing.yaml, silences.yaml and contracts from CONTRACTS_DIR → runtime → the
// service definition from @tidemark/routing. The router itself does no network I/O besides Kafka; each kind of
// delivery is a separate consumer that commits after the receiver accepted (same image, ALERT_ROUTER_MODE):
// `webhook` POSTs the router's webhook messages, `jira` mirrors jira receivers' tickets onto Jira issues, and
// `alertmanager` POSTs every alert on the alerts topic to a real Alertmanager.
import type { PartitionState } from '@tidemark/core';
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import {
  ALERT_ROUTER,
  createAlertRouterService,
  createAlertmanagerBridgeService,
  createJiraSenderService,
  createWebhookSenderService,
} from '@tidemark/routing';
import { createLogger, loadRuntimeConfig, runMain } from '@tidemark/runtime';
import { ConfigError } from '@tidemark/core';
import { createAlertmanagerDeliver, alertmanagerSettingsFromEnv } from './alertmanager.js';
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
  if (settings.mode === 'alertmanager') {
    const bridge = `${name}-alertmanager`;
    const { topics, logLevel } = loadRuntimeConfig(env, bridge);
    const am = alertmanagerSettingsFromEnv(env);
    const logger = createLogger({ service: bridge, level: logLevel }).child({
      component: 'alertmanager',
    });
    return createAlertmanagerBridgeService({
      alertsTopic: topics.alerts,
      name: bridge,
      deliver: createAlertmanagerDeliver(am, { logger }),
      ...(am.generatorUrl ? { generatorUrl: am.generatorUrl } : {}),
    });
  }
  // The router used to post to Alertmanager from its tick; a deployment that still sets the URL on the router
  // would lose its Alertmanager alerts without a word.
  if (env['ALERTMANAGER_URL'])
    throw new ConfigError('invalid alert-router configuration', [
      'ALERTMANAGER_URL: read by the Alertmanager bridge, not the router: run a second process of this image with ALERT_ROUTER_MODE=alertmanager and ALERTMANAGER_URL, and unset it here',
    ]);
  const { topics } = loadRuntimeConfig(env, name);
  const { config, silences } = await loadRoutingFromEnv(env);
  const contracts = await loadContractsFromEnv(env);
  return createAlertRouterService({
    name,
    config,
    contracts,
    topics,
    silences,
    ...(settings.externalUrl ? { externalUrl: settings.externalUrl } : {}),
    ...(settings.generatorUrl ? { router: { generatorUrl: settings.generatorUrl } } : {}),
  });
});
