// `tidemark topics create` and `doctor` against the broker for one renamed instance: the catalog named by TOPIC_*,
// the instance's changelog and internal topics from its service's topology under SERVICE_NAME, each with the
// partition count and cleanup policy the topology says; SERVICE_NAME without --service is refused (exit 2).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_TOPICS } from '@tidemark/core';
import { TOPIC_ENV_VARS } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { BROKERS, ROOT, kafka, unique } from './helpers.js';

const CLI = path.join(ROOT, 'packages/cli/dist/bin.js');

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: BROKERS.join(','), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tidemark topics create / doctor for a renamed instance', () => {
  it('creates the TOPIC_* catalog and tidemark.<SERVICE_NAME>.* from the topology; doctor agrees', async () => {
    const run = unique('tc');
    // Every catalog topic renamed, so the test touches no topic another test uses.
    const topicEnv = Object.fromEntries(
      Object.entries(TOPIC_ENV_VARS).map(([role, name]) => [
        name,
        `${run}.${DEFAULT_TOPICS[role as keyof typeof DEFAULT_TOPICS]}`,
      ]),
    );
    const name = `cc-${run}`;
    const env = { ...topicEnv, SERVICE_NAME: name };

    const created = await cli(
      ['topics', 'create', '--service', 'contract-checker', '--partitions', '2'],
      env,
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const lines = created.stdout.trim().split('\n');
    expect(lines).toContain(`created ${run}.content.changes.v1 (2 partitions, delete)`);
    expect(lines).toContain(`created ${run}.dq.silences.v1 (1 partitions, compact)`);
    expect(lines.filter((l) => l.includes('tidemark.'))).toEqual([
      `created tidemark.${name}.null-rates (2 partitions, delete)`,
      `created tidemark.${name}.documents (1 partitions, compact)`,
      `created tidemark.${name}.state (2 partitions, compact)`,
    ]);

    // What the broker holds, not what the command said.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const internal = [
        `tidemark.${name}.null-rates`,
        `tidemark.${name}.documents`,
        `tidemark.${name}.state`,
      ];
      const { topics } = await admin.fetchTopicMetadata({ topics: internal });
      expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
        [
          [internal[0], 2],
          [internal[1], 1],
          [internal[2], 2],
        ].sort(),
      );
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: internal.map((topic) => ({
          type: 2,
          name: topic,
          configNames: ['cleanup.policy'],
        })),
      });
      expect(
        resources.map((r) => [r.resourceName, r.configEntries[0]?.configValue]).sort(),
      ).toEqual(
        [
          [internal[0], 'delete'],
          [internal[1], 'compact'],
          [internal[2], 'compact'],
        ].sort(),
      );
    } finally {
      await admin.disconnect();
    }

    const doctor = await cli(['doctor', '--service', 'contract-checker'], env);
    expect(doctor.stderr).toBe('');
    expect(doctor.stdout.trim().split('\n').pop()).toBe('all good');
    expect(doctor.code).toBe(0);

    // Another instance of the router is not there yet: doctor names its topics and the command that creates them.
    const missing = await cli(['doctor', '--service', `alert-router=ar-${run}`], topicEnv);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `✗ topic tidemark.ar-${run}.by-system is missing (alert-router: findings re-keyed by system`,
    );
    expect(missing.stderr).toContain(
      `run \`tidemark topics create --service alert-router=ar-${run}\``,
    );

    const refused = await cli(['topics', 'create'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `tidemark: SERVICE_NAME=${name} names one instance, but 5 services are planned without a name (contract-checker, freshness-monitor, parity-verifier, drift-detector, alert-router); select the one it names with --service <service>, or name each with --service <service>=<name>\n`,
    );
  });
});
