// Failures that must end the process non-zero: a missed shutdown deadline, and a kafkajs consumer crash
// (here: partitions added to one input while running, so the group assignment can no longer co-partition).
import { coPartitionedAssigner } from '@tidemark/runtime';
import type { Consumer } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it, onTestFailed } from 'vitest';
import {
  ServiceProcess,
  closeProducer,
  contentEvent,
  createTopics,
  echoEnv,
  echoTopics,
  kafka,
  produce,
  unique,
  waitUntil,
} from './helpers.js';

const running: ServiceProcess[] = [];
const consumers: Consumer[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.dispose();
  for (const c of consumers.splice(0)) await c.disconnect();
});
afterAll(closeProducer);

function start(env: Record<string, string>): ServiceProcess {
  const s = new ServiceProcess(env);
  running.push(s);
  onTestFailed(() => s.dump());
  return s;
}

describe('runtime fatal paths', () => {
  it('exits 1 when the batch in flight outlasts SHUTDOWN_TIMEOUT', async () => {
    const t = await echoTopics('deadline', 1);
    await produce(t.input, [contentEvent('slow', 'doc')]);
    const s = start(echoEnv(t, { ECHO_DELAY_MS: '5000', SHUTDOWN_TIMEOUT: '1s' }));
    await waitUntil('restored', () => s.logs.some((l) => l.msg === 'partition state restored'));
    await new Promise((r) => setTimeout(r, 1000)); // the 5 s record is now being handled
    s.kill('SIGTERM');
    expect(await s.exited).toBe(1);
    expect(
      s.logs.some((l) => l.msg === 'shutdown deadline passed; exiting without a clean stop'),
    ).toBe(true);
  });

  it('exits 1 when the kafkajs consumer crashes (inputs stop being co-partitioned)', async () => {
    const t = await echoTopics('crash', 2);
    const second = unique('crash-in2');
    await createTopics([second], 2);
    const s = start(echoEnv(t, { ECHO_INPUTS: `${t.input},${second}` }));
    await s.waitReady();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic: second, count: 3 }] });
    await admin.disconnect();
    // A new member makes the group rebalance; the service (the group's leader) computes the assignment.
    const member = kafka.consumer({
      groupId: `tidemark-${t.service}`,
      partitionAssigners: [coPartitionedAssigner(() => [])],
      retry: { retries: 0, restartOnFailure: async () => false },
    });
    consumers.push(member);
    await member.connect();
    await member.subscribe({ topics: [t.input, second] });
    void member.run({ eachBatch: async () => undefined }).catch(() => undefined);
    expect(await s.exited).toBe(1);
    const fatal = s.logs.find((l) => l.level === 'fatal');
    expect(fatal?.msg).toBe('kafka consumer crashed; exiting');
    expect(JSON.stringify(fatal?.['err'])).toContain(
      `inputs are not co-partitioned: ${t.input}=2, ${second}=3`,
    );
  });
});
