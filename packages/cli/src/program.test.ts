import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';
import type { Output } from './io.js';

const repoContracts = fileURLToPath(new URL('../../../contracts', import.meta.url));

async function run(...args: string[]) {
  const lines: string[] = [];
  let code = 0;
  const out: Output = {
    info: (l) => lines.push(l),
    error: (l) => lines.push(`E ${l}`),
    exitCode: (c) => {
      code = Math.max(code, c);
    },
  };
  await createProgram(out).parseAsync(['node', 'tidemark', ...args]);
  return { lines, code };
}

describe('tidemark contracts lint', () => {
  it('passes the shipped example contracts', async () => {
    const { lines, code } = await run('contracts', 'lint', repoContracts);
    expect(code).toBe(0);
    expect(lines).toEqual([`4 contract file(s) in ${repoContracts}: no problems`]);
  });

  it('lists every problem with file:line:column and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-lint-'));
    writeFileSync(
      path.join(dir, 'x.yaml'),
      'apiVersion: tidemark/v1\nkind: SourceContract\nsystem: x\nversion: 1\nslas:\n  syncLag: soon\nbogus: 1\n',
    );
    const { lines, code } = await run('contracts', 'lint', dir);
    const file = path.relative(process.cwd(), path.join(dir, 'x.yaml'));
    expect(code).toBe(1);
    expect(lines).toEqual([
      `E ${file}:6:12: slas.syncLag: not a duration: "soon" (use e.g. "30s", "15m", "4h", "7d", "1h30m")\n${file}:7:1: bogus: unknown field`,
      'E 2 problem(s) in 1 file(s)',
    ]);
  });

  it('fails when an escalation names a receiver routing.yaml does not define (or a tickets receiver)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-lint-esc-'));
    writeFileSync(
      path.join(dir, 'owners.yaml'),
      [
        'apiVersion: tidemark/v1',
        'kind: Owners',
        'teams:',
        '  ops:',
        '    escalation: { receiver: ops-pager, after: 30m }',
        '  docs:',
        '    escalation:',
        '      receiver: stewards',
        '  fine:',
        '    escalation: { receiver: platform }',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'routing.yaml'),
      'route: { receiver: platform, group_by: [system] }\nreceivers:\n  - { name: platform }\n  - { name: stewards, kind: tickets }\n',
    );
    const { lines, code } = await run('contracts', 'lint', dir);
    const owners = path.relative(process.cwd(), path.join(dir, 'owners.yaml'));
    const routing = path.join(dir, 'routing.yaml');
    expect(code).toBe(1);
    expect(lines).toEqual([
      `E ${owners}:5:29: teams.ops.escalation.receiver: "ops-pager" is not a receiver in ${routing}\n` +
        `${owners}:8:17: teams.docs.escalation.receiver: "stewards" is a tickets receiver in ${routing}; an escalation needs an alerts or webhook receiver`,
      'E 2 problem(s) in 1 file(s)',
    ]);
  });
});
