import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { KafkaAccessError, createKafkaClient, kafkaAccessError } from './kafka-client.js';
import type { KafkaConnection } from './kafka-config.js';

const scram: KafkaConnection = {
  brokers: ['127.0.0.1:23192'],
  ssl: { rejectUnauthorized: true, ca: 'x', caFile: '/tls/ca.pem' },
  sasl: { mechanism: 'scram-sha-256', username: 'tidemark', password: 'hunter2' },
};

// Shapes of the errors kafkajs 2.2.4 throws (name/type/code and the originalError/cause chain it builds).
const saslError = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: bad'), {
  name: 'KafkaJSSASLAuthenticationError',
});
const tlsError = Object.assign(
  new Error('Connection error: self-signed certificate in certificate chain'),
  {
    name: 'KafkaJSConnectionError',
    code: 'SELF_SIGNED_CERT_IN_CHAIN',
    broker: '127.0.0.1:23192',
  },
);
const wrapped = (inner: Error) =>
  Object.assign(new Error(inner.message), {
    name: 'KafkaJSNonRetriableError',
    originalError: inner,
  });
const aclError = Object.assign(
  new Error('Not authorized to access topics: [Topic authorization failed]'),
  {
    name: 'KafkaJSProtocolError',
    type: 'TOPIC_AUTHORIZATION_FAILED',
  },
);

describe('kafkaAccessError', () => {
  it.each([
    [
      'wrong password',
      saslError,
      'authentication',
      'Kafka at 127.0.0.1:23192 rejected the SASL login of user "tidemark" (scram-sha-256): wrong username or password, or the mechanism is not enabled for that user (KAFKA_SASL_*)',
    ],
    [
      'untrusted certificate, wrapped by the retrier',
      wrapped(wrapped(tlsError)),
      'tls',
      "TLS to Kafka at 127.0.0.1:23192 failed: the broker's certificate does not verify against KAFKA_SSL_CA_FILE=/tls/ca.pem: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)",
    ],
    [
      'missing ACL',
      Object.assign(new Error('x'), { cause: aclError }),
      'authorization',
      'Kafka at 127.0.0.1:23192 denied user "tidemark" permission to write to dq.findings.v1 (TOPIC_AUTHORIZATION_FAILED): grant the ACL or use another principal',
    ],
  ])('%s', (_name, error, kind, message) => {
    const access = kafkaAccessError(error, scram, 'write to dq.findings.v1');
    expect(access).toBeInstanceOf(KafkaAccessError);
    expect(access).toBeInstanceOf(ConfigError);
    expect([access?.kind, access?.message]).toEqual([kind, message]);
    expect(access?.message).not.toContain('hunter2');
    expect(access?.message).not.toContain('\n');
  });

  it('leaves outages and bugs alone', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
      code: 'ECONNREFUSED',
    });
    expect(kafkaAccessError(wrapped(refused), scram)).toBeUndefined();
    expect(kafkaAccessError(new TypeError('x is undefined'), scram)).toBeUndefined();
    expect(kafkaAccessError('text', scram)).toBeUndefined();
  });

  it('names the system CAs when no CA file is set', () => {
    const access = kafkaAccessError(tlsError, {
      brokers: ['b:1'],
      ssl: { rejectUnauthorized: true },
    });
    expect(access?.message).toContain('against the system CAs (set KAFKA_SSL_CA_FILE)');
  });
});

describe('createKafkaClient', () => {
  it('builds a client without connecting', () => {
    const kafka = createKafkaClient({ connection: scram, clientId: 'test' });
    expect(typeof kafka.admin).toBe('function');
  });
});
