// Changelog integrity and topic checks: a changelog recreated behind committed offsets stops the service with
// instructions until `tidemark state reset` accepts the loss; changelogs must be compact only; missing or
// deleted output topics stop the service with exit 2 naming them.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BROKERS,
  ROOT,
  committedOffsets,
  contentEvent,
  createTopics,
  echoEnv,
  echoHarness,
  echoTopics,
  endOffsets,
  kafka,
  produce,
  unique,
  waitUntil,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();
const CLI = path.join(ROOT, 'packages/cli/dist/bin.js');

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: BROKERS.join(',') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function deleteTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    await waitUntil(`${topic} deleted`, async () => !(await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
}

describe('runtime changelog integrity', () => {
  it('refuses a changelog recreated behind committed offsets (exit 2) until `tidemark state reset` accepts the loss', async () => {
    const t = await echoTopics('lost', 2);
    const changelog = `tidemark.${t.service}.state`;
    const out = await collect([t.output]);
    await produce(
      t.input,
      Array.from({ length: 10 }, (_, i) => contentEvent(`a-${i}`, `doc-${i % 2}`)),
    );
    const first = start(echoEnv(t));
    await out.waitFor('10 echoes', () => out.on(t.output).length >= 10);
    const ends = await endOffsets(t.input);
    await waitUntil('committed to the end', async () => {
      const committed = await committedOffsets(`tidemark-${t.service}`, t.input);
      return [...ends].every(([p, high]) => committed.get(p) === high);
    });
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    await deleteTopic(changelog);
    const second = start(echoEnv(t));
    expect(await second.exited).toBe(2);
    const fatal = second.logs.find((l) => l.msg === 'state restore failed; exiting');
    const said = JSON.stringify(fatal);
    expect(said).toContain(
      `the state changelog of ${t.service} was deleted and recreated: the state behind the committed input offsets is lost`,
    );
    expect(said).toContain(`tidemark state reset ${t.service} --yes`);
    expect(said).toMatch(
      new RegExp(
        `${changelog}\\[\\d\\] is empty but group tidemark-${t.service} has committed ${t.input}\\[\\d\\]@\\d+`,
      ),
    );

    const refused = await cli('state', 'reset', t.service);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('run again with --yes');
    const reset = await cli('state', 'reset', t.service, '--yes');
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain(`created ${changelog} (2 partitions, compact)`);

    await produce(
      t.input,
      Array.from({ length: 4 }, (_, i) => contentEvent(`b-${i}`, `doc-${i % 2}`)),
    );
    const third = start(echoEnv(t));
    await out.waitFor('14 echoes', () => out.on(t.output).length >= 14);
    await third.waitReady();
    // Empty state, same offsets: the new records count from 1 again, the old ones are not read again.
    const after = out.json<EchoOutput>(t.output).filter((e) => e.sourceId.startsWith('b-'));
    expect(after.map((e) => e.count).sort()).toEqual([1, 1, 2, 2]);
    expect(out.on(t.output)).toHaveLength(14);
  });

  it('exits 2 on a changelog with cleanup.policy=compact,delete', async () => {
    const t = await echoTopics('policy', 1);
    await createTopics([`tidemark.${t.service}.state`], 1, false, {
      'cleanup.policy': 'compact,delete',
    });
    const s = start(echoEnv(t));
    expect(await s.exited).toBe(2);
    expect(s.stderr).toContain(
      `changelog topic tidemark.${t.service}.state has cleanup.policy=compact,delete; it must be exactly compact`,
    );
  });

  it('exits 2 at start listing every missing output topic', async () => {
    const t = await echoTopics('outputs', 1);
    const output = unique('missing-out');
    const findings = unique('missing-findings');
    const s = start(echoEnv(t, { ECHO_OUTPUT: output, TOPIC_FINDINGS: findings }));
    expect(await s.exited).toBe(2);
    expect(s.stderr).toContain(`findings (TOPIC_FINDINGS) topic ${findings} does not exist`);
    expect(s.stderr).toContain(`output topic ${output} does not exist`);
  });

  it('exits 2 naming an output topic deleted while running', async () => {
    const t = await echoTopics('deleted-out', 1);
    const out = await collect([t.output]);
    await produce(t.input, [contentEvent('one', 'doc')]);
    const s = start(echoEnv(t));
    await out.waitFor('1 echo', () => out.on(t.output).length >= 1);
    await deleteTopic(t.output);
    await produce(t.input, [contentEvent('two', 'doc')]);
    expect(await s.exited).toBe(2);
    expect(
      JSON.stringify(s.logs.filter((l) => l.msg === 'output topic missing; exiting')),
    ).toContain(`output topic ${t.output} does not exist (deleted while running?)`);
    // Nothing after the lost output was committed: the record is read again once the topic is back.
    const committed = await committedOffsets(`tidemark-${t.service}`, t.input);
    expect(committed.get(0)).toBe('1');
  });
});
