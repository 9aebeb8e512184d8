// A SASL_SSL broker of deploy/kafka (KAFKA_SECURITY=sasl_ssl) for the security tests: started by the test file on
// its own port (KAFKA_SECURE_PORT, default the plain test port + 100) and stopped after it, if it started it.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Message } from 'kafkajs';
import { ROOT } from '../runtime/helpers.js';

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, 'deploy/kafka/kafka.mjs');
export const CLI = path.join(ROOT, 'packages/cli/dist/bin.js');

/** What `kafka.mjs up --json` reports about a secured broker. */
export interface SecuredBroker {
  port: number;
  brokers: string;
  caFile: string;
  otherCaFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  serverLog: string;
  passwords: Record<'admin' | 'tidemark' | 'auditor', string>;
  started: boolean;
}

function securePort(): number {
  if (process.env['KAFKA_SECURE_PORT']) return Number(process.env['KAFKA_SECURE_PORT']);
  const plain = /:(\d+)$/.exec(process.env['KAFKA_BROKERS']?.split(',')[0] ?? '')?.[1];
  return Number(plain ?? process.env['KAFKA_PORT'] ?? 9092) + 100;
}

function scriptEnv(port: number): NodeJS.ProcessEnv {
  return { ...process.env, KAFKA_SECURITY: 'sasl_ssl', KAFKA_PORT: String(port) };
}

/** Starts (or finds) the secured broker and reads where its CA and users are. */
export async function startSecuredBroker(): Promise<SecuredBroker> {
  const port = securePort();
  const { stdout } = await run(process.execPath, [SCRIPT, 'up', '--json'], {
    cwd: ROOT,
    env: scriptEnv(port),
    maxBuffer: 16 * 1024 * 1024,
  });
  const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    started: boolean;
    log: string | null;
    security: {
      caFile: string;
      otherCaFile: string;
      clientCertFile: string;
      clientKeyFile: string;
      usersFile: string;
    };
  };
  const s = report.security;
  const cacheDir = path.resolve(
    process.env['KAFKA_CACHE_DIR'] ?? path.join(ROOT, 'deploy/kafka/.cache'),
  );
  return {
    port,
    brokers: `127.0.0.1:${port}`,
    caFile: s.caFile,
    otherCaFile: s.otherCaFile,
    clientCertFile: s.clientCertFile,
    clientKeyFile: s.clientKeyFile,
    serverLog: report.log ?? path.join(cacheDir, 'logs', String(port), 'server.log'),
    passwords: JSON.parse(readFileSync(s.usersFile, 'utf8')) as SecuredBroker['passwords'],
    started: report.started,
  };
}

/** Stops the broker if this run started it. */
export async function stopSecuredBroker(broker: SecuredBroker | undefined): Promise<void> {
  if (!broker?.started) return;
  await run(process.execPath, [SCRIPT, 'down'], { cwd: ROOT, env: scriptEnv(broker.port) });
}

/** The connection variables of a principal: TLS with the local CA, SCRAM. */
export function connectionEnv(
  broker: SecuredBroker,
  user: 'admin' | 'tidemark' | 'auditor',
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: broker.brokers,
    KAFKA_SSL_CA_FILE: broker.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: broker.passwords[user],
    ...extra,
  };
}

/** A kafkajs client of the admin principal (setup, producing inputs, reading outputs). */
export function adminKafka(broker: SecuredBroker): Kafka {
  return new Kafka({
    clientId: 'tidemark-security-test',
    brokers: [broker.brokers],
    logLevel: logLevel.NOTHING,
    ssl: { ca: [readFileSync(broker.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password: broker.passwords.admin },
  });
}

export async function produceAsAdmin(
  broker: SecuredBroker,
  topic: string,
  messages: Message[],
): Promise<void> {
  const producer = adminKafka(broker).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Result of one `tidemark` command. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `tidemark` CLI with only PATH and the given environment. */
export function tidemark(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
