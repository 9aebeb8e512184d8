import type { TopicCatalog } from '@tidemark/core';
import { TOPIC_ENV_VARS } from '@tidemark/runtime';

/**
 * The topic names set in TOPIC_* (set ones only), as the services take them: `topics create`, `doctor` and
 * `replay --from-kafka` use the same names as the services they serve.
 */
export function topicOverridesFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<TopicCatalog> {
  const overrides: Partial<TopicCatalog> = {};
  for (const [role, name] of Object.entries(TOPIC_ENV_VARS)) {
    const value = env[name];
    if (value) overrides[role as keyof TopicCatalog] = value;
  }
  return overrides;
}
