// Vitest globalSetup of the `integration` project: makes sure a real Kafka broker answers before any
// integration test runs. It reuses a broker that already answers on KAFKA_BROKERS (default
// 127.0.0.1:9092, or 127.0.0.1:$KAFKA_PORT); otherwise it starts one with deploy/kafka/kafka.mjs and
// stops it after the run — but only a broker it started itself.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated broker list the integration tests use (also in process.env.KAFKA_BROKERS). */
    kafkaBrokers: string;
  }
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'deploy/kafka/kafka.mjs');
const run = promisify(execFile);

async function answers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'tidemark-test-setup',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The single local broker we may start for this list, or null when the list is not one local broker. */
function localPort(brokers: string[]): number | null {
  if (brokers.length !== 1) return null;
  const m = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(brokers[0]!);
  return m ? Number(m[2]) : null;
}

async function kafkaScript(command: 'up' | 'down', port: number): Promise<string> {
  const args = command === 'up' ? [SCRIPT, 'up', '--json'] : [SCRIPT, 'down'];
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, KAFKA_PORT: String(port) },
      maxBuffer: 16 * 1024 * 1024,
    });
    if (stderr.trim()) console.error(stderr.trimEnd());
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `node deploy/kafka/kafka.mjs ${command} failed: ${e.message}\n${e.stderr ?? ''}`,
    );
  }
}

/** Starts or finds the broker, hands its address to the tests, and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const list = process.env['KAFKA_BROKERS'] ?? `127.0.0.1:${process.env['KAFKA_PORT'] ?? '9092'}`;
  const brokers = list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  let started = false;
  const port = localPort(brokers);
  if (!(await answers(brokers))) {
    if (port === null) {
      throw new Error(
        `No Kafka broker answers on KAFKA_BROKERS=${list}; the test setup only starts a local one ` +
          `(KAFKA_BROKERS=127.0.0.1:<port> or unset). Check the address or unset KAFKA_BROKERS.`,
      );
    }
    const out = await kafkaScript('up', port);
    const summary = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { started?: boolean };
    started = summary.started === true;
  }
  // Workers are forked after global setup, so they inherit this; helpers read it via brokers().
  process.env['KAFKA_BROKERS'] = brokers.join(',');
  project.provide('kafkaBrokers', brokers.join(','));
  return async () => {
    if (started && port !== null) await kafkaScript('down', port);
  };
}
