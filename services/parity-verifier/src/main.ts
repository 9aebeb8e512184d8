// parity-verifier: wiring only — config and contracts → runtime → the handler from @tidemark/parity.
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import { contractParitySettings, createParityService, PARITY_SERVICE_NAME } from '@tidemark/parity';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';

await runMain(async (env) => {
  const { topics } = loadRuntimeConfig(env, PARITY_SERVICE_NAME);
  const contracts = await loadContractsFromEnv(env);
  return createParityService({ settings: contractParitySettings(contracts), topics });
});
