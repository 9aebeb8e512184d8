import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { loadRoutingFromEnv } from './files.js';

const ROUTING = `
route: { receiver: ops, group_by: [system] }
receivers: [{ name: ops }]
`;
const SILENCES = `
silences:
  - id: s1
    matchers: [system="wiki"]
    startsAt: 2025-06-01T00:00:00Z
    endsAt: 2025-06-02T00:00:00Z
    createdBy: ops
    comment: migration
`;

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-routing-files-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

async function problems(files: Record<string, string>): Promise<readonly string[]> {
  const d = dir(files);
  const error = await loadRoutingFromEnv({ CONTRACTS_DIR: d }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems.map((p) => p.replace(`${d}/`, ''));
}

describe('loadRoutingFromEnv', () => {
  it('reads routing.yaml and seeds the silence table from silences.yaml', async () => {
    const { config, silences } = await loadRoutingFromEnv({
      CONTRACTS_DIR: dir({ 'routing.yaml': ROUTING, 'silences.yaml': SILENCES }),
    });
    expect(config.route.receiver).toBe('ops');
    expect(silences.all().map((s) => s.id)).toEqual(['s1']);
  });

  it('runs without silences.yaml', async () => {
    const { silences } = await loadRoutingFromEnv({
      CONTRACTS_DIR: dir({ 'routing.yaml': ROUTING }),
    });
    expect(silences.all()).toEqual([]);
  });

  it.each([
    ['no routing.yaml', {}, ['routing.yaml: no such file (set CONTRACTS_DIR)']],
    [
      'problems of both files at once',
      {
        'routing.yaml':
          'route: { receiver: nobody, group_by: [system] }\nreceivers: [{ name: ops }]\n',
        'silences.yaml': SILENCES.replace('comment: migration', 'comment: ""'),
      },
      [
        'routing.yaml:1:8: route: undefined receiver "nobody" used in route',
        'silences.yaml:8:14: silences[0].comment: required',
      ],
    ],
  ])('refuses to start with %s, listing every problem', async (_case, files, expected) => {
    expect(await problems(files as Record<string, string>)).toEqual(expected);
  });
});
