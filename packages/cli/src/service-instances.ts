import { instanceTopics, type InternalTopic, type ServiceTopology } from '@tidemark/core';
import { CONTRACT_CHECKER_TOPOLOGY } from '@tidemark/contract-checks';
import { FRESHNESS_TOPOLOGY } from '@tidemark/freshness';
import { PARITY_TOPOLOGY } from '@tidemark/parity';
import { DRIFT_TOPOLOGY } from '@tidemark/drift';
import { ALERT_ROUTER_TOPOLOGY } from '@tidemark/routing';
import { UsageError } from './usage-error.js';

/** Every Tidemark service's topology, in the order topics are planned and listed. */
export const SERVICE_TOPOLOGIES: readonly ServiceTopology[] = [
  CONTRACT_CHECKER_TOPOLOGY,
  FRESHNESS_TOPOLOGY,
  PARITY_TOPOLOGY,
  DRIFT_TOPOLOGY,
  ALERT_ROUTER_TOPOLOGY,
];

/** The variable every service reads its instance name from. */
export const SERVICE_NAME_VARIABLE = 'SERVICE_NAME';

/** One deployed instance of a service: the topology it has and the name its topics carry. */
export interface ServiceInstance {
  topology: ServiceTopology;
  /** Names its consumer group, changelog `tidemark.<name>.state` and internal topics. */
  name: string;
  /** Its environment, for a variable of its own that renames an internal topic (DRIFT_PARTIALS_TOPIC). @default {} */
  env?: Readonly<Record<string, string | undefined>>;
}

// What the services accept as a name (the drift-detector checks the same): it goes into topic names.
const INSTANCE_NAME = /^[a-zA-Z0-9._-]{1,200}$/;

/** The topology of a service by name, or a UsageError listing the known ones. */
export function topologyOf(service: string): ServiceTopology {
  const topology = SERVICE_TOPOLOGIES.find((t) => t.service === service);
  if (!topology)
    throw new UsageError(
      `unknown service "${service}"; one of ${SERVICE_TOPOLOGIES.map((t) => t.service).join(', ')}`,
    );
  return topology;
}

/**
 * The service instances a topics command is about, named as the services name themselves, so the topics
 * planned are the ones they use. `selectors` are `--service` values, `<service>` or `<service>=<name>`; none
 * selects every service. A name comes from, in order: the selector; the service's own variable
 * (`DRIFT_SERVICE_NAME`); `SERVICE_NAME`, for the one instance left without a name by those — it names one
 * instance, and two services under one name would share a changelog; the service's default. A SERVICE_NAME
 * that would name two or more instances is refused rather than guessed at, as is one name given to two.
 */
export function resolveInstances(
  selectors: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ServiceInstance[] {
  const chosen = (selectors.length > 0 ? selectors : SERVICE_TOPOLOGIES.map((t) => t.service)).map(
    (selector) => {
      const at = selector.indexOf('=');
      const topology = topologyOf(at < 0 ? selector : selector.slice(0, at));
      const own = topology.nameVariable === undefined ? undefined : env[topology.nameVariable];
      return { topology, name: at < 0 ? own || undefined : selector.slice(at + 1) };
    },
  );
  const serviceName = env[SERVICE_NAME_VARIABLE] || undefined;
  const unnamed = chosen.filter((c) => c.name === undefined).map((c) => c.topology.service);
  if (serviceName !== undefined && unnamed.length > 1)
    throw new UsageError(
      `${SERVICE_NAME_VARIABLE}=${serviceName} names one instance, but ${unnamed.length} services are planned without a name (${unnamed.join(', ')}); ` +
        'select the one it names with --service <service>, or name each with --service <service>=<name>',
    );
  const instances = chosen.map(({ topology, name }) => {
    const resolved = name ?? serviceName ?? topology.service;
    if (!INSTANCE_NAME.test(resolved))
      throw new UsageError(
        `instance name of ${topology.service} must be 1–200 of a-z A-Z 0-9 . _ -, got "${resolved}"`,
      );
    return { topology, name: resolved, env };
  });
  const seen = new Map<string, string>();
  for (const { topology, name } of instances) {
    const other = seen.get(name);
    if (other !== undefined)
      throw new UsageError(
        `instance name "${name}" is given to ${other} and ${topology.service}: each instance needs its own (its changelog is tidemark.${name}.state)`,
      );
    seen.set(name, topology.service);
  }
  return instances;
}

/** Internal topics and changelogs of the instances, in order, for planTopics. */
export function instancesTopics(instances: readonly ServiceInstance[]): InternalTopic[] {
  return instances.flatMap((i) => instanceTopics(i.topology, i.name, i.env));
}
