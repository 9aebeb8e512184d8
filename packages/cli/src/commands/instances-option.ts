import type { Command } from 'commander';
import {
  resolveInstances,
  SERVICE_TOPOLOGIES,
  type ServiceInstance,
} from '../service-instances.js';

/** The `--service` flag of the topics commands, as commander hands it over. */
export interface InstanceFlags {
  service?: string[];
}

/** Adds `--service <service>[=<name>]` (repeatable) and the help on how instance names are found. */
export function withInstanceOptions(command: Command): Command {
  return command
    .option(
      '-s, --service <service[=name]>',
      'plan only this service, optionally under an instance name (repeatable; default: every service under its default name)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText(
      'after',
      [
        '',
        "Instance names (they name each service's changelog tidemark.<name>.state and internal topics tidemark.<name>.*),",
        'found as the services find them:',
        '  --service <service>=<name>   this name',
        "  DRIFT_SERVICE_NAME           the drift-detector's own variable (it reads it before SERVICE_NAME)",
        '  SERVICE_NAME                 the one service left without a name, e.g. SERVICE_NAME=cc-eu tidemark topics create --service contract-checker',
        '                               (refused when it would name several: they would share one changelog)',
        '  otherwise                    the service name',
        'Topic names of the catalog come from TOPIC_* as in the services (DRIFT_PARTIALS_TOPIC renames the drift partials).',
        `Services: ${SERVICE_TOPOLOGIES.map((t) => t.service).join(', ')}.`,
      ].join('\n'),
    );
}

/** The instances selected by `--service` and the environment (UsageError when they do not add up). */
export function instancesFrom(
  flags: InstanceFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServiceInstance[] {
  return resolveInstances(flags.service ?? [], env);
}
