import { readFileSync } from 'node:fs';
import { ConfigError } from '@tidemark/core';
import { Type } from '@sinclair/typebox';
import {
  boolean,
  envSchema,
  oneOf,
  text,
  type EnvFormats,
  type EnvVariable,
} from './env-schema.js';

/** SASL settings for an authenticated cluster. */
export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** TLS to the brokers: PEM contents read from the configured files (the paths are kept for messages). */
export interface KafkaTlsConfig {
  /** Verify the broker's certificate chain and host name. @default true */
  rejectUnauthorized: boolean;
  /** CA bundle that signed the broker certificates (PEM); the system CAs when absent. */
  ca?: string;
  /** Client certificate for mutual TLS (PEM). */
  cert?: string;
  /** Private key of the client certificate (PEM). Never logged. */
  key?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** How to reach and authenticate to the cluster; shared by every service and every CLI command. */
export interface KafkaConnection {
  brokers: string[];
  /** TLS settings, or false for a plaintext connection. */
  ssl: KafkaTlsConfig | false;
  sasl?: SaslConfig;
}

/** One connection setting: its environment variable and the CLI flag of the same name. */
export interface KafkaConnectionSetting {
  env: string;
  /** `--brokers` for KAFKA_BROKERS: the variable name without KAFKA_, lower-case, `-` for `_`. */
  flag: string;
  /** Placeholder of the flag's value in --help. */
  value: string;
  description: string;
  /** Never shown in messages or logs. */
  secret?: boolean;
}

/** Every connection variable, in --help order. The CLI derives its flags from this list. */
export const KAFKA_CONNECTION_SETTINGS: readonly KafkaConnectionSetting[] = [
  {
    env: 'KAFKA_BROKERS',
    value: 'list',
    description: 'Kafka bootstrap brokers, comma-separated host:port',
  },
  { env: 'KAFKA_SSL', value: 'bool', description: 'TLS to the brokers (true/false)' },
  {
    env: 'KAFKA_SSL_CA_FILE',
    value: 'file',
    description: "PEM CA bundle that signed the brokers' certificates (implies TLS)",
  },
  {
    env: 'KAFKA_SSL_CERT_FILE',
    value: 'file',
    description: 'PEM client certificate for mutual TLS (implies TLS; needs the key file)',
  },
  {
    env: 'KAFKA_SSL_KEY_FILE',
    value: 'file',
    description: 'PEM private key of the client certificate',
  },
  {
    env: 'KAFKA_SSL_REJECT_UNAUTHORIZED',
    value: 'bool',
    description: "verify the brokers' certificates and host names (default true)",
  },
  {
    env: 'KAFKA_SASL_MECHANISM',
    value: 'name',
    description: 'plain, scram-sha-256 or scram-sha-512',
  },
  { env: 'KAFKA_SASL_USERNAME', value: 'user', description: 'SASL user' },
  {
    env: 'KAFKA_SASL_PASSWORD',
    value: 'password',
    description: 'SASL password (prefer the variable: flags show in `ps`)',
    secret: true,
  },
].map((s) => ({
  ...s,
  flag: `--${s.env
    .replace(/^KAFKA_/, '')
    .toLowerCase()
    .replace(/_/g, '-')}`,
}));

/** Variables whose values never appear in messages or logs. */
export const SECRET_KAFKA_VARS: ReadonlySet<string> = new Set(
  KAFKA_CONNECTION_SETTINGS.filter((s) => s.secret).map((s) => s.env),
);

const hostPort = /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/;

/** Formats the connection variables' schemas name: `host-port` is `host:port` with a port from 1 to 65535. */
export const KAFKA_CONNECTION_FORMATS: EnvFormats = {
  'host-port': (value) => {
    const m = hostPort.exec(value);
    return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65_535;
  },
};

const required = 'required: comma-separated host:port list, e.g. 127.0.0.1:9092';
const nonEmpty = text(Type.String({ minLength: 1, errorMessage: 'must not be empty' }));

/** The connection variables, to spread into a larger environment schema (with KAFKA_CONNECTION_FORMATS). */
export const KAFKA_CONNECTION_VARIABLES = {
  KAFKA_BROKERS: {
    decode: (value: string): string[] =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    schema: Type.Array(
      Type.String({ format: 'host-port', errorMessage: '{value} is not host:port' }),
      { minItems: 1, errorMessage: required },
    ),
  },
  KAFKA_SSL: boolean(),
  KAFKA_SSL_CA_FILE: nonEmpty,
  KAFKA_SSL_CERT_FILE: nonEmpty,
  KAFKA_SSL_KEY_FILE: nonEmpty,
  KAFKA_SSL_REJECT_UNAUTHORIZED: boolean(),
  KAFKA_SASL_MECHANISM: oneOf(['plain', 'scram-sha-256', 'scram-sha-512']),
  KAFKA_SASL_USERNAME: nonEmpty,
  KAFKA_SASL_PASSWORD: nonEmpty,
} satisfies Record<string, EnvVariable>;

const connectionSchema = envSchema(KAFKA_CONNECTION_VARIABLES, {
  formats: KAFKA_CONNECTION_FORMATS,
  secret: SECRET_KAFKA_VARS,
});

/** Reads a file's text; injected so tests need no files. */
export type ReadText = (path: string) => string;

const readText: ReadText = (path) => readFileSync(path, 'utf8');

/**
 * Validates the connection variables of `raw` (set, non-empty values only) and reads the TLS files.
 * Returns the connection and every problem (each names the variable; a file problem names the path; secret
 * values are never quoted). `brokers` is empty when KAFKA_BROKERS is missing (reported as a problem).
 */
export function parseKafkaConnection(
  raw: Readonly<Record<string, string>>,
  read: ReadText = readText,
): { connection: KafkaConnection; problems: string[] } {
  const problems: string[] = [];
  if (raw['KAFKA_BROKERS'] === undefined) {
    problems.push('KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)');
  }
  const parsed = connectionSchema.parse(raw);
  if (!parsed.ok) problems.push(...parsed.problems);
  const sasl = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
  const saslSet = sasl.filter((name) => raw[name] !== undefined);
  if (saslSet.length > 0 && saslSet.length < sasl.length) {
    const missing = sasl.filter((name) => raw[name] === undefined);
    problems.push(`${missing.join(', ')}: required when ${saslSet.join(', ')} is set`);
  }
  const v = parsed.ok ? parsed.value : {};
  if ((v.KAFKA_SSL_CERT_FILE === undefined) !== (v.KAFKA_SSL_KEY_FILE === undefined)) {
    problems.push(
      'KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: mutual TLS needs both the certificate and its key',
    );
  }
  const files = {
    ca: ['KAFKA_SSL_CA_FILE', v.KAFKA_SSL_CA_FILE],
    cert: ['KAFKA_SSL_CERT_FILE', v.KAFKA_SSL_CERT_FILE],
    key: ['KAFKA_SSL_KEY_FILE', v.KAFKA_SSL_KEY_FILE],
  } as const;
  const pem: { ca?: string; cert?: string; key?: string } = {};
  for (const [field, [name, path]] of Object.entries(files) as [
    keyof typeof files,
    (typeof files)[keyof typeof files],
  ][]) {
    if (path === undefined) continue;
    try {
      pem[field] = read(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(`${name}: cannot read ${path}${code ? ` (${code})` : ''}`);
      continue;
    }
    if (!/-----BEGIN [A-Z0-9 ]+-----/.test(pem[field])) {
      problems.push(`${name}: ${path} is not a PEM file (no -----BEGIN ...----- line)`);
    }
  }
  // A CA or client certificate only makes sense over TLS, so naming one turns TLS on unless KAFKA_SSL=false.
  const anyFile = Object.values(files).some(([, path]) => path !== undefined);
  if (v.KAFKA_SSL === false && anyFile) {
    problems.push('KAFKA_SSL=false: contradicts the KAFKA_SSL_*_FILE settings');
  }
  const tlsOn = v.KAFKA_SSL ?? (anyFile || v.KAFKA_SSL_REJECT_UNAUTHORIZED !== undefined);
  const connection: KafkaConnection = {
    brokers: v.KAFKA_BROKERS ?? [],
    ssl: tlsOn
      ? {
          rejectUnauthorized: v.KAFKA_SSL_REJECT_UNAUTHORIZED ?? true,
          ...pem,
          ...(v.KAFKA_SSL_CA_FILE ? { caFile: v.KAFKA_SSL_CA_FILE } : {}),
          ...(v.KAFKA_SSL_CERT_FILE ? { certFile: v.KAFKA_SSL_CERT_FILE } : {}),
          ...(v.KAFKA_SSL_KEY_FILE ? { keyFile: v.KAFKA_SSL_KEY_FILE } : {}),
        }
      : false,
    ...(v.KAFKA_SASL_MECHANISM && v.KAFKA_SASL_USERNAME && v.KAFKA_SASL_PASSWORD
      ? {
          sasl: {
            mechanism: v.KAFKA_SASL_MECHANISM,
            username: v.KAFKA_SASL_USERNAME,
            password: v.KAFKA_SASL_PASSWORD,
          },
        }
      : {}),
  };
  return { connection, problems };
}

/** Like parseKafkaConnection, for callers that need only the connection: throws ConfigError listing every problem. */
export function loadKafkaConnection(
  env: NodeJS.ProcessEnv,
  read: ReadText = readText,
): KafkaConnection {
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const { connection, problems } = parseKafkaConnection(raw, read);
  if (problems.length > 0) throw new ConfigError('invalid Kafka connection settings', problems);
  return connection;
}
