import { describe, expect, it } from 'vitest';
import { createProgram } from '../program.js';
import type { Output } from '../io.js';
import { UsageError } from './topics.js';

const quiet: Output = { info: () => undefined, error: () => undefined, exitCode: () => undefined };

async function run(...args: string[]) {
  const program = createProgram(quiet);
  // Usage errors must be decided before any broker is contacted: point at a port nothing listens on.
  return program.parseAsync([
    'node',
    'tidemark',
    'state',
    'reset',
    ...args,
    '--brokers',
    '127.0.0.1:1',
  ]);
}

describe('tidemark state reset', () => {
  it.each([
    [
      'without --yes',
      ['freshness-monitor'],
      'this deletes every state entry of freshness-monitor (tidemark.freshness-monitor.state); run again with --yes to do it',
    ],
    [
      'a bad --partitions',
      ['freshness-monitor', '--yes', '--partitions', '0'],
      '--partitions must be a whole number ≥ 1, got "0"',
    ],
    [
      'a service name that cannot name a topic',
      ['fresh ness', '--yes'],
      'service name must be 1–200 of a-z A-Z 0-9 . _ -, got "fresh ness"',
    ],
  ])('refuses %s (UsageError, exit 2)', async (_case, args, message) => {
    const error = await run(...args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(message);
  });

  it('documents the confirmation flag in --help', () => {
    const help = createProgram(quiet)
      .commands.find((c) => c.name() === 'state')!
      .commands.find((c) => c.name() === 'reset')!
      .helpInformation();
    expect(help).toMatch(/Usage: tidemark state reset \[options\] <service>/);
    expect(help).toMatch(/-y, --yes +really delete the current state \(required\)/);
  });
});
