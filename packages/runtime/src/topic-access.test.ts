import Decoder from 'kafkajs/src/protocol/decoder.js';
import Encoder from 'kafkajs/src/protocol/encoder.js';
import { describe, expect, it } from 'vitest';
import { KafkaAccessError } from './kafka-client.js';
import {
  decodeAuthorizedOperationsResponse,
  encodeAuthorizedOperationsRequest,
  missingTopicAccess,
  topicAccessError,
} from './topic-access.js';
import type { TopicAccess, TopicRequirement } from './topic-access.js';

const bits = (...codes: number[]) => codes.reduce((field, code) => field | (1 << code), 0);
// AclOperation codes: READ 3, WRITE 4, DESCRIBE 8, DESCRIBE_CONFIGS 10.
const READ_ONLY = bits(3, 8, 10);
const READ_WRITE = bits(3, 4, 8, 10);

describe('missingTopicAccess', () => {
  const required: TopicRequirement[] = [
    { topic: 'in', operation: 'READ', role: 'input' },
    { topic: 'dq.dlq.v1', operation: 'WRITE', role: 'dead-letter, TOPIC_DLQ' },
    { topic: 'dq.findings.v1', operation: 'WRITE', role: 'findings, TOPIC_FINDINGS' },
  ];
  it.each<[string, Record<string, TopicAccess>, string[]]>([
    [
      'everything granted',
      {
        in: { errorCode: 0, authorizedOperations: READ_ONLY },
        'dq.dlq.v1': { errorCode: 0, authorizedOperations: READ_WRITE },
        'dq.findings.v1': { errorCode: 0, authorizedOperations: READ_WRITE },
      },
      [],
    ],
    [
      'read-only outputs (the auditor)',
      {
        in: { errorCode: 0, authorizedOperations: READ_ONLY },
        'dq.dlq.v1': { errorCode: 0, authorizedOperations: READ_ONLY },
        'dq.findings.v1': { errorCode: 0, authorizedOperations: READ_ONLY },
      },
      [
        'WRITE on dq.dlq.v1 (dead-letter, TOPIC_DLQ)',
        'WRITE on dq.findings.v1 (findings, TOPIC_FINDINGS)',
      ],
    ],
    [
      'a topic not even describable',
      {
        in: { errorCode: 29, authorizedOperations: 0 },
        'dq.dlq.v1': { errorCode: 0, authorizedOperations: READ_WRITE },
        'dq.findings.v1': { errorCode: 0, authorizedOperations: READ_WRITE },
      },
      ['READ on in (input)'],
    ],
    [
      'WRITE without READ satisfies a WRITE requirement only',
      {
        in: { errorCode: 0, authorizedOperations: bits(4, 8) },
        'dq.dlq.v1': { errorCode: 0, authorizedOperations: bits(4) },
        'dq.findings.v1': { errorCode: 0, authorizedOperations: bits(4) },
      },
      ['READ on in (input)'],
    ],
    [
      'operations not computed by the broker, or a topic missing from the answer, are not judged',
      {
        in: { errorCode: 0, authorizedOperations: undefined },
        'dq.dlq.v1': { errorCode: 0, authorizedOperations: undefined },
      },
      [],
    ],
  ])('%s', (_name, answer, missing) => {
    expect(missingTopicAccess(new Map(Object.entries(answer)), required)).toEqual(missing);
  });
});

describe('topicAccessError', () => {
  it('is one line naming the user, the operations and the topics, never the password', () => {
    const error = topicAccessError(['WRITE on dq.dlq.v1 (dead-letter, TOPIC_DLQ)'], {
      brokers: ['127.0.0.1:9093'],
      sasl: { mechanism: 'scram-sha-512', username: 'auditor', password: 'p4ss' },
    });
    expect(error).toBeInstanceOf(KafkaAccessError);
    expect(error.kind).toBe('authorization');
    expect(error.message).toBe(
      'Kafka at 127.0.0.1:9093 does not allow user "auditor" WRITE on dq.dlq.v1 (dead-letter, TOPIC_DLQ) (topic ACL): grant the ACL or use another principal',
    );
  });
});

describe('Metadata v8 with topic authorized operations', () => {
  it('encodes the topics and asks for topic operations only', () => {
    const d = new Decoder(encodeAuthorizedOperationsRequest(['a', 'b']).buffer);
    expect(d.readArray((x) => x.readString())).toEqual(['a', 'b']);
    expect([d.readBoolean(), d.readBoolean(), d.readBoolean()]).toEqual([false, false, true]);
  });

  it("decodes each topic's error code and operations; Integer.MIN_VALUE means not computed", () => {
    const partition = new Encoder()
      .writeInt16(0)
      .writeInt32(0) // partition_index
      .writeInt32(1) // leader_id
      .writeInt32(0) // leader_epoch
      .writeArray([1], 'int32')
      .writeArray([1], 'int32')
      .writeArray([], 'int32');
    const topic = (error: number, name: string, operations: number) =>
      new Encoder()
        .writeInt16(error)
        .writeString(name)
        .writeBoolean(false)
        .writeArray([partition])
        .writeInt32(operations);
    const broker = new Encoder()
      .writeInt32(1)
      .writeString('127.0.0.1')
      .writeInt32(9092)
      .writeString(null);
    const response = new Encoder()
      .writeInt32(0) // throttle_time_ms
      .writeArray([broker])
      .writeString('cluster')
      .writeInt32(1) // controller_id
      .writeArray([
        topic(0, 'dq.findings.v1', READ_ONLY),
        topic(29, 'secret', 0),
        topic(0, 'old', -2147483648),
      ])
      .writeInt32(-2147483648); // cluster_authorized_operations
    expect(decodeAuthorizedOperationsResponse(response.buffer)).toEqual(
      new Map([
        ['dq.findings.v1', { errorCode: 0, authorizedOperations: READ_ONLY }],
        ['secret', { errorCode: 29, authorizedOperations: 0 }],
        ['old', { errorCode: 0, authorizedOperations: undefined }],
      ]),
    );
  });
});
