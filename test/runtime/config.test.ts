// Bad configuration stops a service at start with exit code 2 and every problem named.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ServiceProcess,
  closeProducer,
  createTopics,
  echoEnv,
  echoTopics,
  unique,
} from './helpers.js';

const running: ServiceProcess[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.dispose();
});
afterAll(closeProducer);

function start(env: Record<string, string>): ServiceProcess {
  const s = new ServiceProcess(env);
  running.push(s);
  return s;
}

describe('runtime configuration', () => {
  it('exits 2 listing every bad or missing variable, without echoing the password', async () => {
    const s = start({
      KAFKA_BROKERS: '',
      HTTP_PORT: 'eighty',
      LOG_LEVEL: 'loud',
      TICK_SCHEDULE: 'every minute',
      SHUTDOWN_TIMEOUT: '10 parsecs',
      TOPIC_DLQ: 'bad topic!',
      TOPIC_FINDING: 'typo',
      KAFKA_SASL_PASSWORD: 'hunter2',
      KAFKA_SSL: 'maybe',
      ECHO_INPUTS: 'in',
      ECHO_OUTPUT: 'out',
    });
    expect(await s.exited).toBe(2);
    for (const name of [
      'KAFKA_BROKERS: required',
      'HTTP_PORT="eighty"',
      'LOG_LEVEL="loud"',
      'TICK_SCHEDULE="every minute"',
      'SHUTDOWN_TIMEOUT="10 parsecs"',
      'TOPIC_DLQ="bad topic!"',
      'TOPIC_FINDING: unknown topic variable',
      'KAFKA_SSL="maybe": must be true or false',
      'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME: required when KAFKA_SASL_PASSWORD is set',
    ]) {
      expect(s.stderr).toContain(name);
    }
    expect(s.stderr).not.toContain('hunter2');
    expect(s.stderr.split('\n')[0]).toBe('invalid configuration for service echo:');
  });

  it('exits 2 when an input topic is missing or the inputs are not co-partitioned', async () => {
    const t = await echoTopics('copart', 3);
    const four = unique('four');
    await createTopics([four], 4);
    const missing = unique('missing');
    const notCoPartitioned = start(echoEnv(t, { ECHO_INPUTS: `${t.input},${four}` }));
    const noTopic = start(echoEnv(t, { ECHO_INPUTS: `${t.input},${missing}` }));
    expect(await notCoPartitioned.exited).toBe(2);
    expect(notCoPartitioned.stderr).toContain(
      `inputs must be co-partitioned (same partition count): ${t.input} has 3, ${four} has 4`,
    );
    expect(await noTopic.exited).toBe(2);
    expect(noTopic.stderr).toContain(`input topic ${missing} does not exist`);
  });
});
