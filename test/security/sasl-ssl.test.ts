// Services and the CLI against a real SASL_SSL broker with ACLs (deploy/kafka KAFKA_SECURITY=sasl_ssl): they work
// over SCRAM + TLS, and every refusal (wrong password, untrusted certificate, missing ACL) is one clear line and
// exit 2. Everything the run wrote is then searched for the passwords.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { contractCheckerTopics } from '@tidemark/contract-checks';
import { DEFAULT_TOPICS } from '@tidemark/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsReady } from '@tidemark/runtime';
import { ROOT, ServiceProcess, waitUntil } from '../runtime/helpers.js';
import {
  adminKafka,
  connectionEnv,
  produceAsAdmin,
  startSecuredBroker,
  stopSecuredBroker,
  tidemark,
  type CliRun,
  type SecuredBroker,
} from './secured-broker.js';

const CHECKER_MAIN = path.join(ROOT, 'services/contract-checker/dist/main.js');
const WRONG_PASSWORD = `wrong-${randomBytes(6).toString('hex')}`;

let broker: SecuredBroker;
/** Everything any process of this file wrote (CLI output, service logs), for the password search. */
const written: string[] = [];
const running: ServiceProcess[] = [];

beforeAll(async () => {
  broker = await startSecuredBroker();
  const created = await cli(['topics', 'create'], connectionEnv(broker, 'admin'));
  expect(created.code, created.stderr).toBe(0);
}, 180_000);

afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.dispose();
    written.push(s.stderr, ...s.logs.map((l) => JSON.stringify(l)));
  }
});

afterAll(async () => {
  await stopSecuredBroker(broker);
});

async function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const result = await tidemark(args, env);
  written.push(result.stdout, result.stderr);
  return result;
}

/** A contract-checker instance of its own (group, changelog, internal topics) under `principal`. */
async function checker(env: Record<string, string>): Promise<ServiceProcess> {
  const name = `contract-checker-${randomBytes(4).toString('hex')}`;
  const admin = adminKafka(broker).admin();
  await admin.connect();
  await createTopicsReady(
    admin,
    contractCheckerTopics(name).map((t) => ({
      topic: t.name,
      numPartitions: 3,
      configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    })),
  );
  await admin.disconnect();
  const s = new ServiceProcess(
    { SERVICE_NAME: name, CONTRACTS_DIR: path.join(ROOT, 'contracts'), ...env },
    [],
    CHECKER_MAIN,
  );
  running.push(s);
  return s;
}

/** The dead letters whose key is `key`, read as admin. */
async function deadLetterKeys(key: string): Promise<number> {
  const consumer = adminKafka(broker).consumer({
    groupId: `security-test-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 200,
  });
  let found = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [DEFAULT_TOPICS.dlq], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() === key) found++;
    },
  });
  try {
    await waitUntil(`a dead letter keyed ${key}`, () => found > 0, 60_000);
  } finally {
    await consumer.disconnect();
  }
  return found;
}

function oneLine(text: string): string {
  const lines = text.trim().split('\n');
  expect(lines, text).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0]!;
}

describe('CLI over SASL_SSL', () => {
  it('doctor and silences work as tidemark with SCRAM-SHA-256 over TLS', async () => {
    const env = connectionEnv(broker, 'tidemark', { KAFKA_SASL_MECHANISM: 'scram-sha-256' });
    const doctor = await cli(['doctor'], env);
    expect([doctor.code, doctor.stdout.trim().split('\n').pop()], doctor.stderr).toEqual([
      0,
      'all good',
    ]);
    const add = await cli(
      [
        'silence',
        'add',
        '--matcher',
        'system="confluence"',
        '--duration',
        '1h',
        '--created-by',
        'security-test',
        '--comment',
        'secured',
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    const id = add.stdout.trim();
    const list = await cli(['silence', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(id);
  });

  it('simulate --produce writes the inputs as admin, and tidemark may not (exit 2, ACL named)', async () => {
    const args = [
      'simulate',
      '--seed',
      '3',
      '--docs',
      '30',
      '--days',
      '0.01',
      '--no-faults',
      // Recent event times: records dated at the default start (weeks ago) fall outside the topics' 7-day
      // retention, and the broker deletes them at its next retention check, before the replay reads them.
      '--start',
      new Date(Date.now() - 3_600_000).toISOString(),
      '--produce',
    ];
    const asAdmin = await cli(args, connectionEnv(broker, 'admin'));
    expect(asAdmin.code, asAdmin.stderr).toBe(0);
    expect(asAdmin.stdout).toMatch(/^produced \d+ events to 127\.0\.0\.1:\d+$/m);
    const produced = Number(/^produced (\d+) events/m.exec(asAdmin.stdout)![1]);
    // tidemark reads them back over SCRAM + TLS: `replay --from-kafka` takes the connection flags too.
    const out = mkdtempSync(path.join(tmpdir(), 'tidemark-sasl-replay-'));
    const replayed = await cli(
      [
        'replay',
        '--from-kafka',
        '--out',
        out,
        '--contracts',
        path.join(ROOT, 'contracts'),
        '--quiet',
      ],
      connectionEnv(broker, 'tidemark'),
    );
    expect(replayed.code, replayed.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as {
      input: { records: number };
    };
    // Every record on the input topics (a broker kept from an earlier local run holds earlier ones too).
    const admin = adminKafka(broker).admin();
    await admin.connect();
    let onTopics = 0;
    try {
      for (const topic of [
        DEFAULT_TOPICS.contentChanges,
        DEFAULT_TOPICS.syncEvents,
        DEFAULT_TOPICS.inventorySnapshots,
      ])
        for (const p of await admin.fetchTopicOffsets(topic))
          onTopics += Number(p.high) - Number(p.low);
    } finally {
      await admin.disconnect();
    }
    expect(onTopics).toBeGreaterThanOrEqual(produced);
    expect(summary.input.records).toBe(onTopics);
    const asTidemark = await cli(args, connectionEnv(broker, 'tidemark'));
    expect(asTidemark.code).toBe(2);
    expect(oneLine(asTidemark.stderr)).toMatch(
      /^tidemark: Kafka at 127\.0\.0\.1:\d+ denied user "tidemark" permission to write the input topics \(TOPIC_AUTHORIZATION_FAILED\)/,
    );
  });

  it.each([
    [
      'a wrong password',
      () => connectionEnv(broker, 'tidemark', { KAFKA_SASL_PASSWORD: WRONG_PASSWORD }),
      /^tidemark: Kafka at 127\.0\.0\.1:\d+ rejected the SASL login of user "tidemark" \(scram-sha-512\): wrong username or password/,
    ],
    [
      'an untrusted broker certificate',
      () => connectionEnv(broker, 'tidemark', { KAFKA_SSL_CA_FILE: broker.otherCaFile }),
      /^tidemark: TLS to Kafka at 127\.0\.0\.1:\d+ failed: the broker's certificate does not verify against KAFKA_SSL_CA_FILE=.*other-ca\.pem: self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\)$/,
    ],
  ])('silence list with %s: one line, exit 2', async (_name, env, message) => {
    const result = await cli(['silence', 'list'], env());
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(message);
  });
});

describe('a service over SASL_SSL', () => {
  it('dead-letters a bad record as tidemark with SCRAM-SHA-512, TLS and a client certificate', async () => {
    const s = await checker(
      connectionEnv(broker, 'tidemark', {
        KAFKA_SSL_CERT_FILE: broker.clientCertFile,
        KAFKA_SSL_KEY_FILE: broker.clientKeyFile,
      }),
    );
    await s.waitReady();
    const key = `bad-${randomBytes(4).toString('hex')}`;
    await produceAsAdmin(broker, DEFAULT_TOPICS.contentChanges, [{ key, value: '{not json' }]);
    expect(await deadLetterKeys(key)).toBe(1);
  });

  it.each([
    [
      'a wrong password',
      () => connectionEnv(broker, 'tidemark', { KAFKA_SASL_PASSWORD: WRONG_PASSWORD }),
      /^Kafka at 127\.0\.0\.1:\d+ rejected the SASL login of user "tidemark" \(scram-sha-512\)/,
    ],
    [
      'an untrusted broker certificate',
      () => connectionEnv(broker, 'tidemark', { KAFKA_SSL_CA_FILE: broker.otherCaFile }),
      /^TLS to Kafka at 127\.0\.0\.1:\d+ failed: .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/,
    ],
    [
      'no CA (the system CAs do not know the local one)',
      () => {
        const env = connectionEnv(broker, 'tidemark', { KAFKA_SSL: 'true' });
        delete env['KAFKA_SSL_CA_FILE'];
        return env;
      },
      /^TLS to Kafka at 127\.0\.0\.1:\d+ failed: the broker's certificate does not verify against the system CAs \(set KAFKA_SSL_CA_FILE\): .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/,
    ],
  ])('refuses to start with %s: one line, exit 2', async (_name, env, message) => {
    const s = await checker(env());
    expect(await s.exited).toBe(2);
    expect(oneLine(s.stderr)).toMatch(message);
  });

  it('refuses to start, exit 2 naming each topic and WRITE, when its principal may not write its outputs', async () => {
    // auditor may read everything tidemark reads but only read dq.*: caught by the ACL check at start, before any
    // record is consumed — no bad record is needed to find out.
    const s = await checker(connectionEnv(broker, 'auditor'));
    expect(await s.exited).toBe(2);
    expect(oneLine(s.stderr)).toBe(
      `Kafka at ${broker.brokers} does not allow user "auditor" WRITE on ${DEFAULT_TOPICS.dlq} (dead-letter, TOPIC_DLQ), WRITE on ${DEFAULT_TOPICS.findings} (findings, TOPIC_FINDINGS) (topic ACL): grant the ACL or use another principal`,
    );
    // Refused before consuming: it never joined its group, so no input offset was committed.
    expect(s.logs.some((l) => l.msg === 'partitions assigned')).toBe(false);
  });
});

describe('secrets', () => {
  it('no password appears in any output, log line or the broker log', async () => {
    for (const s of running.splice(0)) {
      await s.dispose();
      written.push(s.stderr, ...s.logs.map((l) => JSON.stringify(l)));
    }
    const everything = [...written, readFileSync(broker.serverLog, 'utf8')].join('\n');
    expect(written.length).toBeGreaterThan(10);
    const secrets = [...Object.values(broker.passwords), WRONG_PASSWORD];
    expect(secrets.map((p) => everything.split(p).length - 1)).toEqual(secrets.map(() => 0));
  });
});
