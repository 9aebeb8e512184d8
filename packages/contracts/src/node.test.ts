import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tidemark/core';
import { loadContractDir, readContractDir } from './node.js';
import { ContractLintError } from './index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('@tidemark/contracts/node', () => {
  it('reads the contract files of a directory, relative to cwd, skipping routing/silences/schema', async () => {
    const files = await readContractDir(`${root}contracts`, root);
    expect(files.map((f) => f.path)).toEqual([
      'contracts/confluence.yaml',
      'contracts/gdrive.yaml',
      'contracts/owners.yaml',
      'contracts/zendesk.yaml',
    ]);
  });

  it('loads the shipped contracts', async () => {
    expect((await loadContractDir(`${root}contracts`)).systems).toEqual([
      'confluence',
      'gdrive',
      'zendesk',
    ]);
  });

  it('fails closed on a directory that does not lint, or does not exist', async () => {
    await expect(
      loadContractDir(fileURLToPath(new URL('./testdata/drift', import.meta.url))),
    ).rejects.toBeInstanceOf(ContractLintError);
    await expect(loadContractDir(`${root}no-such-dir`)).rejects.toBeInstanceOf(ConfigError);
  });
});
