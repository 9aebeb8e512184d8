// contract-checker: wiring only — config and contracts → runtime → the handler from @tidemark/contract-checks.
import { CONTRACT_CHECKER, createContractCheckerService } from '@tidemark/contract-checks';
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';
import { framedDecoder, registryClientFromEnv } from './framed.js';

await runMain(async (env) => {
  // SERVICE_NAME lets two deployments (or test runs) share a cluster: it names the changelog and internal topics.
  const name = env['SERVICE_NAME'] || CONTRACT_CHECKER;
  const { topics } = loadRuntimeConfig(env, name);
  const contracts = await loadContractsFromEnv(env);
  const client = registryClientFromEnv(env);
  return createContractCheckerService({
    name,
    contracts,
    topics,
    ...(client ? { framed: framedDecoder(client) } : {}),
  });
});
