import { stateTopic, type InternalTopic } from './topics.js';

/** The state format of changelog records written before records carried their format. */
export const INITIAL_STATE_FORMAT = 1;

/**
 * What a service needs of Kafka besides the topic catalog, for any instance name: its internal topics and the
 * version of its changelog records. Each service package exports one next to its definition factory, so
 * `tidemark topics create`, `doctor` and the demo derive the topics of an instance from it, and the host stamps
 * the version on every changelog record and refuses to restore one it does not know.
 */
export interface ServiceTopology {
  /** The service, and the default instance name when no variable names it, e.g. `contract-checker`. */
  service: string;
  /**
   * A variable that names this service's instance only, read before `SERVICE_NAME` (e.g. `DRIFT_SERVICE_NAME`).
   * @default undefined (only `SERVICE_NAME`)
   */
  nameVariable?: string;
  /**
   * Internal topics of an instance named `name` (besides the catalog's and its state changelog). `env` is the
   * instance's environment, for a service with a variable of its own that renames one (`DRIFT_PARTIALS_TOPIC`).
   */
  internalTopics(name: string, env?: Readonly<Record<string, string | undefined>>): InternalTopic[];
  /**
   * Version of the encoding of the service's changelog records (keys and values of its partition state).
   * Raise it when a new version writes state an older one would misread: the older one then refuses to restore
   * it (exit 2) instead of starting on garbage. A version reads every format up to its own.
   */
  stateFormat: number;
}

/**
 * Every topic an instance named `name` creates or reads besides the catalog: its internal topics and its
 * compacted, co-partitioned state changelog (listed once, also when the service names it as internal, as the
 * parity-verifier does to read it as a table).
 */
export function instanceTopics(
  topology: ServiceTopology,
  name: string,
  env: Readonly<Record<string, string | undefined>> = {},
): InternalTopic[] {
  const topics = topology.internalTopics(name, env);
  const changelog = stateTopic(name);
  if (topics.some((t) => t.name === changelog)) return topics;
  return [
    ...topics,
    {
      name: changelog,
      compacted: true,
      coPartitioned: true,
      purpose: `${topology.service}: partition state changelog`,
    },
  ];
}
