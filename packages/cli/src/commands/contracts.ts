import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { eventSchemas } from '@tidemark/core';
import {
  applyPublish,
  formatProblems,
  formatPublishPlan,
  lintContracts,
  loadContractsOrThrow,
  planPublish,
} from '@tidemark/contracts';
import { DEFAULT_CONTRACTS_DIR, readContractDir } from '@tidemark/contracts/node';
import type { ContractFile, LintProblem } from '@tidemark/contracts';
import { ConfigError } from '@tidemark/core';
import { lintEscalations, parseRoutingConfig } from '@tidemark/routing';
import type { Output } from '../io.js';
import { UsageError } from './topics.js';

/**
 * The routing side of the lint: routing.yaml itself (when the directory has one) and the escalation receivers
 * the contracts name, which must be routing.yaml receivers.
 */
async function lintRouting(dir: string, files: readonly ContractFile[]): Promise<LintProblem[]> {
  const file = join(dir, 'routing.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  try {
    return lintEscalations(parseRoutingConfig(text, file), files);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // parseRoutingConfig's problems are `file:line: …`; keep them whole as the message at their line.
    return error.problems.map((p) => {
      const line = Number(/^[^\n]*?:(\d+):/.exec(p)?.[1] ?? 1);
      return { file, line, column: 1, message: p.replace(/^[^\n]*?:\d+: /, '') };
    });
  }
}

/** `tidemark contracts lint|publish`: what stewards run on a contract change before it merges. */
export function registerContracts(program: Command, out: Output): Command {
  const contracts = program.command('contracts').description('lint and publish the data contracts');
  contracts
    .command('lint')
    .description(
      'report every problem in the contracts as file:line:column: reason (exit 1 on any)',
    )
    .argument('[dir]', 'contracts directory', DEFAULT_CONTRACTS_DIR)
    .action(async (dir: string) => {
      const files = await readContractDir(dir);
      const problems = [...lintContracts(files), ...(await lintRouting(dir, files))];
      if (problems.length > 0) {
        out.error(formatProblems(problems));
        out.error(`${problems.length} problem(s) in ${files.length} file(s)`);
        out.exitCode(1);
      } else {
        out.info(`${files.length} contract file(s) in ${dir}: no problems`);
      }
    });
  contracts
    .command('publish')
    .description(
      "register the event schemas with the contracts' CEL rules in a Schema Registry (dry run unless --apply)",
    )
    .argument('[dir]', 'contracts directory', DEFAULT_CONTRACTS_DIR)
    .option('--apply', 'register for real (default: print what would change)')
    .option('--registry <url>', 'Schema Registry URL', process.env['SCHEMA_REGISTRY_URL'])
    .action(async (dir: string, opts: { apply?: boolean; registry?: string }) => {
      if (!opts.registry)
        throw new UsageError(
          'no Schema Registry: pass --registry <url> or set SCHEMA_REGISTRY_URL',
        );
      const set = loadContractsOrThrow(await readContractDir(dir));
      const client = SchemaRegistryClient.newClient({ baseURLs: [opts.registry] });
      const plan = await planPublish(client, set, eventSchemas);
      out.info(formatPublishPlan(plan));
      if (!opts.apply) {
        out.info('dry run: nothing registered (use --apply)');
        return;
      }
      const result = await applyPublish(plan);
      for (const r of result.registered)
        out.info(`registered ${r.subject} id=${r.id} version=${r.version ?? '?'}`);
      for (const s of result.skipped) out.error(`skipped ${s.subject}: ${s.reason}`);
      if (result.skipped.length > 0) out.exitCode(1);
    });
  return contracts;
}
