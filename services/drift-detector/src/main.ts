// drift-detector: wiring only — config and contracts → runtime → the service from @tidemark/drift.
import { createDriftService, driftOptionsFromEnv } from '@tidemark/drift';
import { loadContractsFromEnv } from '@tidemark/contracts/node';
import { loadRuntimeConfig, runMain } from '@tidemark/runtime';

await runMain(async (env) => {
  const options = driftOptionsFromEnv(env);
  return createDriftService({
    ...options,
    contracts: await loadContractsFromEnv(env),
    topics: loadRuntimeConfig(env, options.name).topics,
  });
});
