// alert-router: wiring only — routing.yaml, silences.yaml and contracts from CONTRACTS_DIR, the optional
// Alertmanager sink → runtime → the service definition from @tidemark/routing.
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import { ALERT_ROUTER, createAlertRouterService } from '@tidemark/routing';
import { createLogger, loadRuntimeConfig, runMain } from '@tidemark/runtime';
import { alertmanagerSinkFromEnv } from './alertmanager.js';
import { loadRoutingFromEnv } from './files.js';

await runMain(async (env) => {
  // SERVICE_NAME lets two routers (or two test runs) share a cluster: it names the changelog and the
  // repartition topic.
  const name = env['SERVICE_NAME'] || ALERT_ROUTER;
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
  });
});
