import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isContractFile, renderContractJsonSchema } from './index.js';

const contractsDir = fileURLToPath(new URL('../../../contracts/', import.meta.url));
const schemaFile = `${contractsDir}schema/contract.schema.json`;

describe('contracts/schema/contract.schema.json', () => {
  it('is up to date with src/schema.ts (run `npm run contracts:schema` when this fails)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(renderContractJsonSchema());
  });

  // What an editor does with the file: a plain draft-07 validator, no Tidemark code.
  const editor = new Ajv({ allErrors: true, strict: false });
  const validate = editor.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);

  it.each(readdirSync(contractsDir).filter(isContractFile))('accepts contracts/%s', (file) => {
    const valid = validate(parse(readFileSync(contractsDir + file, 'utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each([
    ['an unknown kind', { apiVersion: 'tidemark/v1', kind: 'Routing' }, '/kind'],
    ['a wrong apiVersion', { apiVersion: 'v2', kind: 'Owners', teams: {} }, '/apiVersion'],
    [
      'an unknown field in a source contract',
      { apiVersion: 'tidemark/v1', kind: 'SourceContract', system: 'x', version: 1, sla: {} },
      '',
    ],
    [
      'a duration in words',
      {
        apiVersion: 'tidemark/v1',
        kind: 'SourceContract',
        system: 'x',
        version: 1,
        slas: { syncLag: '5 min' },
      },
      '/slas/syncLag',
    ],
    [
      'a team without a valid name',
      { apiVersion: 'tidemark/v1', kind: 'Owners', teams: { 'Search Team': {} } },
      '/teams',
    ],
  ])('rejects %s', (_name, document, instancePath) => {
    expect(validate(document)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain(instancePath);
  });
});
