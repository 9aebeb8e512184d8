// The contracts package's one I/O entry (`@tidemark/contracts/node`): reading a contracts directory from
// disk for services and the CLI. Everything else in this package stays pure.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError } from '@tidemark/core';
import { isContractFile, loadContractsOrThrow, type ContractFile } from './load.js';
import type { ContractSet } from './resolve.js';

/** Reads every contract file below `dir` (recursively, sorted), with paths as the user would type them. */
export async function readContractDir(dir: string, cwd = process.cwd()): Promise<ContractFile[]> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new ConfigError('cannot read contracts', [
      `${dir}: no such directory (set CONTRACTS_DIR)`,
    ]);
  }
  if (!info.isDirectory())
    throw new ConfigError('cannot read contracts', [`${dir}: not a directory`]);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => isContractFile(relative(dir, p)))
    .sort();
  return Promise.all(
    paths.map(async (p) => ({ path: relative(cwd, p) || p, text: await readFile(p, 'utf8') })),
  );
}

/** Reads and loads a contracts directory; throws ContractLintError (a ConfigError) when it does not lint. */
export async function loadContractDir(dir: string): Promise<ContractSet> {
  const files = await readContractDir(dir);
  if (files.length === 0)
    throw new ConfigError('cannot read contracts', [`${dir}: no contract files (*.yaml)`]);
  return loadContractsOrThrow(files);
}

/** Default contracts directory, relative to the working directory; CONTRACTS_DIR overrides it. */
export const DEFAULT_CONTRACTS_DIR = 'contracts';

/** Loads the contracts a service runs with, from CONTRACTS_DIR (fail closed: ConfigError when they do not lint). */
export async function loadContractsFromEnv(env: NodeJS.ProcessEnv): Promise<ContractSet> {
  return loadContractDir(env['CONTRACTS_DIR'] || DEFAULT_CONTRACTS_DIR);
}
