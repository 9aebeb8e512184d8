// freshness-monitor: wiring only — config and contracts → runtime → the service from @tidemark/freshness.
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import {
  FRESHNESS_SERVICE,
  createFreshnessService,
  settingsFromContracts,
} from '@tidemark/freshness';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';

await runMain(async (env) => {
  // SERVICE_NAME lets two deployments (or test runs) share a cluster: it names the changelog and group.
  const name = env['SERVICE_NAME'] || FRESHNESS_SERVICE;
  const { topics } = loadRuntimeConfig(env, name);
  const contracts = await loadContractsFromEnv(env);
  return createFreshnessService({
    name,
    settings: settingsFromContracts(contracts),
    topics,
    labels: contracts,
  });
});
