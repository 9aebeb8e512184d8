import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@tidemark/core';
import { DEFAULT_CONTRACTS_DIR } from '@tidemark/contracts/node';
import { SilenceTable, parseRoutingConfig, parseSilences } from '@tidemark/routing';
import type { RoutingConfig } from '@tidemark/routing';

/** What the alert-router reads from the contracts directory besides the contracts. */
export interface RoutingFiles {
  config: RoutingConfig;
  /** Seeded with silences.yaml; the service keeps it fed from the silences topic. */
  silences: SilenceTable;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads `routing.yaml` (required) and `silences.yaml` (optional) from CONTRACTS_DIR; throws one ConfigError
 * listing every problem of both files.
 */
export async function loadRoutingFromEnv(env: NodeJS.ProcessEnv): Promise<RoutingFiles> {
  const dir = env['CONTRACTS_DIR'] || DEFAULT_CONTRACTS_DIR;
  const routingFile = join(dir, 'routing.yaml');
  const silencesFile = join(dir, 'silences.yaml');
  const [routingText, silencesText] = await Promise.all([
    readOptional(routingFile),
    readOptional(silencesFile),
  ]);
  const problems: string[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  if (routingText === undefined) problems.push(`${routingFile}: no such file (set CONTRACTS_DIR)`);
  const config =
    routingText === undefined
      ? undefined
      : attempt(() => parseRoutingConfig(routingText, routingFile));
  const silences =
    silencesText === undefined ? [] : attempt(() => parseSilences(silencesText, silencesFile));
  if (!config || !silences || problems.length > 0)
    throw new ConfigError('cannot start alert-router', problems);
  return { config, silences: new SilenceTable(silences) };
}
