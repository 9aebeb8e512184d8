import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import {
  KAFKA_CONNECTION_SETTINGS,
  loadKafkaConnection,
  parseKafkaConnection,
} from './kafka-config.js';

const PEM = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
const files: Record<string, string> = {
  '/tls/ca.pem': PEM('CERTIFICATE'),
  '/tls/client.pem': PEM('CERTIFICATE'),
  '/tls/client.key': PEM('PRIVATE KEY'),
  '/tls/notes.txt': 'hello',
};
const read = (p: string): string => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return text;
};
const base = { KAFKA_BROKERS: 'k1:9093' };

describe('parseKafkaConnection', () => {
  it.each([
    ['plaintext by default', base, { brokers: ['k1:9093'], ssl: false }],
    [
      'KAFKA_SSL=true: TLS with the system CAs, verifying',
      { ...base, KAFKA_SSL: 'true' },
      { brokers: ['k1:9093'], ssl: { rejectUnauthorized: true } },
    ],
    [
      'a CA file turns TLS on and is read',
      { ...base, KAFKA_SSL_CA_FILE: '/tls/ca.pem' },
      {
        brokers: ['k1:9093'],
        ssl: { rejectUnauthorized: true, ca: files['/tls/ca.pem'], caFile: '/tls/ca.pem' },
      },
    ],
    [
      'mutual TLS and SCRAM',
      {
        ...base,
        KAFKA_SSL_CA_FILE: '/tls/ca.pem',
        KAFKA_SSL_CERT_FILE: '/tls/client.pem',
        KAFKA_SSL_KEY_FILE: '/tls/client.key',
        KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'tidemark',
        KAFKA_SASL_PASSWORD: 's3cret',
      },
      {
        brokers: ['k1:9093'],
        ssl: {
          rejectUnauthorized: false,
          ca: files['/tls/ca.pem'],
          cert: files['/tls/client.pem'],
          key: files['/tls/client.key'],
          caFile: '/tls/ca.pem',
          certFile: '/tls/client.pem',
          keyFile: '/tls/client.key',
        },
        sasl: { mechanism: 'scram-sha-256', username: 'tidemark', password: 's3cret' },
      },
    ],
  ])('%s', (_name, env, expected) => {
    expect(parseKafkaConnection(env, read)).toEqual({ connection: expected, problems: [] });
  });

  it.each([
    [{}, ['KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)']],
    [{ KAFKA_BROKERS: 'k1' }, ['KAFKA_BROKERS="k1": "k1" is not host:port']],
    [{ ...base, KAFKA_SSL: 'on' }, ['KAFKA_SSL="on": must be true or false']],
    [
      { ...base, KAFKA_SSL_CA_FILE: '/nope/ca.pem' },
      ['KAFKA_SSL_CA_FILE: cannot read /nope/ca.pem (ENOENT)'],
    ],
    [
      { ...base, KAFKA_SSL_CA_FILE: '/tls/notes.txt' },
      ['KAFKA_SSL_CA_FILE: /tls/notes.txt is not a PEM file (no -----BEGIN ...----- line)'],
    ],
    [
      { ...base, KAFKA_SSL_CERT_FILE: '/tls/client.pem' },
      [
        'KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: mutual TLS needs both the certificate and its key',
      ],
    ],
    [
      { ...base, KAFKA_SSL: 'false', KAFKA_SSL_CA_FILE: '/tls/ca.pem' },
      ['KAFKA_SSL=false: contradicts the KAFKA_SSL_*_FILE settings'],
    ],
    [
      {
        ...base,
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'hunter2',
      },
      ['KAFKA_SASL_MECHANISM="oauthbearer": must be one of plain, scram-sha-256, scram-sha-512'],
    ],
    [
      { ...base, KAFKA_SASL_PASSWORD: 'hunter2' },
      ['KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME: required when KAFKA_SASL_PASSWORD is set'],
    ],
  ])('%j → %j', (env, expected) => {
    const { problems } = parseKafkaConnection(env, read);
    expect(problems).toEqual(expected);
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});

describe('loadKafkaConnection', () => {
  it('throws a ConfigError listing every problem, empty values counting as unset', () => {
    expect(() =>
      loadKafkaConnection({ KAFKA_BROKERS: '', KAFKA_SSL_KEY_FILE: '/nope/k' }, read),
    ).toThrow(
      new ConfigError('invalid Kafka connection settings', [
        'KAFKA_BROKERS: required (comma-separated host:port list, e.g. 127.0.0.1:9092)',
        'KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: mutual TLS needs both the certificate and its key',
        'KAFKA_SSL_KEY_FILE: cannot read /nope/k (ENOENT)',
      ]),
    );
  });
});

describe('KAFKA_CONNECTION_SETTINGS', () => {
  it('names each flag after its variable and marks only the password secret', () => {
    expect(KAFKA_CONNECTION_SETTINGS.map((s) => [s.env, s.flag, s.secret === true])).toEqual([
      ['KAFKA_BROKERS', '--brokers', false],
      ['KAFKA_SSL', '--ssl', false],
      ['KAFKA_SSL_CA_FILE', '--ssl-ca-file', false],
      ['KAFKA_SSL_CERT_FILE', '--ssl-cert-file', false],
      ['KAFKA_SSL_KEY_FILE', '--ssl-key-file', false],
      ['KAFKA_SSL_REJECT_UNAUTHORIZED', '--ssl-reject-unauthorized', false],
      ['KAFKA_SASL_MECHANISM', '--sasl-mechanism', false],
      ['KAFKA_SASL_USERNAME', '--sasl-username', false],
      ['KAFKA_SASL_PASSWORD', '--sasl-password', true],
    ]);
  });
});
