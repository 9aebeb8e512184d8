// contract-checker: wiring only — config and contracts → runtime → the handler from @tidemark/contract-checks.
import { CONTRACT_CHECKER, createContractCheckerService } from '@tidemark/contract-checks';
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';
import { framedDecoder, registryClientFromEnv } from './framed.js';

await runMain(async (env) => {
  const { topics } = loadRuntimeConfig(env, CONTRACT_CHECKER);
  const contracts = await loadContractsFromEnv(env);
  const client = registryClientFromEnv(env);
  return createContractCheckerService({
    contracts,
    topics,
    ...(client ? { framed: framedDecoder(client) } : {}),
  });
});
