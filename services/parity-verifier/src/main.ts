// parity-verifier: wiring only — config and contracts → runtime → the handler from @tidemark/parity.
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import {
  contractParitySettings,
  createParityService,
  parityOptionsFromEnv,
  PARITY_SERVICE_NAME,
} from '@tidemark/parity';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';

await runMain(async (env) => {
  // SERVICE_NAME lets two deployments (or test runs) share a cluster: it names the changelog and group.
  const name = env['SERVICE_NAME'] || PARITY_SERVICE_NAME;
  const { topics } = loadRuntimeConfig(env, name);
  const contracts = await loadContractsFromEnv(env);
  return createParityService({
    name,
    settings: contractParitySettings(contracts),
    topics,
    ...parityOptionsFromEnv(env),
  });
});
