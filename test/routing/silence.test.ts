// Silences end to end: `tidemark silence add/list/expire` on a real silences topic, seeded silences.yaml,
// and a running alert-router muting (and, after expiry, sending) the matching alerts.
import { createRequire } from 'node:module';
import type { Alert } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { BROKERS, produce } from '../runtime/helpers.js';
import {
  contractsDir,
  finding,
  findingMessage,
  routerEnv,
  routerHarness,
  routerTopics,
} from './helpers.js';

// The command is registered into `tidemark` by the CLI's program; the test drives it on a program of its
// own, built with the CLI's commander (the repository root holds an older one).
interface Program {
  exitOverride(): Program;
  parseAsync(argv: string[]): Promise<unknown>;
}
const { Command } = createRequire(new URL('../../packages/cli/package.json', import.meta.url))(
  'commander',
) as { Command: new (name: string) => Program };
interface Output {
  info(line: string): void;
  error(line: string): void;
  exitCode(code: number): void;
}
interface SilenceCommands {
  registerSilence(program: Program, out: Output, now?: () => number): void;
}
const { registerSilence } = (await import(
  new URL('../../packages/cli/src/commands/silence.ts', import.meta.url).href
)) as SilenceCommands;

async function tidemark(...args: string[]): Promise<{ lines: string[]; code: number }> {
  const lines: string[] = [];
  let code = 0;
  const program = new Command('tidemark').exitOverride();
  registerSilence(program, {
    info: (l) => lines.push(l),
    error: (l) => lines.push(`E ${l}`),
    exitCode: (c) => (code = Math.max(code, c)),
  });
  await program.parseAsync(['node', 'tidemark', ...args]);
  return { lines, code };
}

const { start, collect } = routerHarness();

describe('silences (broker)', () => {
  it('silence add mutes a running router, list shows it, expire lets the alert out; silences.yaml seeds', async () => {
    const t = await routerTopics('ar-silence');
    const kafka = ['--brokers', BROKERS.join(','), '--topic', t.silences];
    const seeded = `
silences:
  - id: gdrive-migration
    matchers: [system="gdrive"]
    startsAt: ${new Date(Date.now() - 60_000).toISOString()}
    endsAt: ${new Date(Date.now() + 3_600_000 * 5).toISOString()}
    createdBy: platform-oncall
    comment: gdrive is being migrated
`;
    const out = await collect([t.alerts]);

    const added = await tidemark(
      'silence',
      'add',
      '--matcher',
      'system="confluence"',
      '--matcher',
      'check=~"freshness\\..*"',
      '--duration',
      '2h',
      '--created-by',
      'oncall@example.com',
      '--comment',
      'reindex in progress',
      ...kafka,
    );
    expect(added.code).toBe(0);
    const [id] = added.lines;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const listed = await tidemark('silence', 'list', ...kafka);
    expect(listed.lines).toHaveLength(2);
    const row = listed.lines[1]!.split(/ {2,}/);
    expect([row[0], row[1], row[2], row[5], row[6]]).toEqual([
      id,
      'active',
      'check=~"freshness\\\\..*",system="confluence"',
      'oncall@example.com',
      'reindex in progress',
    ]);

    const router = start(routerEnv(t, contractsDir(undefined, seeded)));
    await router.waitReady();

    await produce(
      t.findings,
      [
        finding({ subject: { system: 'confluence', connector: 'confluence-prod', docId: 'c1' } }),
        finding({ subject: { system: 'zendesk', connector: 'zendesk-guide', docId: 'z1' } }),
        finding({ subject: { system: 'gdrive', connector: 'gdrive-hr', docId: 'g1' } }),
      ].map(findingMessage),
    );
    const systems = () =>
      out.json<{ data: Alert }>(t.alerts).map((a) => `${a.data.labels['system']} ${a.data.status}`);
    await out.waitFor('the zendesk alert', () => systems().includes('zendesk firing'));
    // Groups flush every 2s: several flushes pass while confluence (topic) and gdrive (yaml) stay muted.
    await new Promise((r) => setTimeout(r, 5000));
    expect(systems()).toEqual(['zendesk firing']);

    const expired = await tidemark('silence', 'expire', id!, ...kafka);
    expect(expired).toEqual({ lines: [`expired ${id}`], code: 0 });
    await out.waitFor('the confluence alert after the expiry', () =>
      systems().includes('confluence firing'),
    );
    expect(systems().sort()).toEqual(['confluence firing', 'zendesk firing']);

    expect(await tidemark('silence', 'list', ...kafka)).toEqual({
      lines: ['no active or pending silences'],
      code: 0,
    });
    const all = await tidemark('silence', 'list', '--all', '--json', ...kafka);
    expect(
      (JSON.parse(all.lines[0]!) as Array<{ id: string; status: { state: string } }>).map((s) => [
        s.id,
        s.status.state,
      ]),
    ).toEqual([[id, 'expired']]);
    expect(await tidemark('silence', 'expire', 'nope', ...kafka)).toEqual({
      lines: [`E silence nope not found on ${t.silences}`],
      code: 1,
    });
  });
});
