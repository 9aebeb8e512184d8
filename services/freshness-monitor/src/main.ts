// freshness-monitor: wiring only — config and contracts → runtime → the service from @tidemark/freshness.
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import {
  FRESHNESS_SERVICE,
  createFreshnessService,
  settingsFromContracts,
} from '@tidemark/freshness';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';

await runMain(async (env) => {
  const { topics } = loadRuntimeConfig(env, FRESHNESS_SERVICE);
  const contracts = await loadContractsFromEnv(env);
  return createFreshnessService({ settings: settingsFromContracts(contracts), topics });
});
