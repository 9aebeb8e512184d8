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
});
