import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSAggregateError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  DeliveryAbortedError,
  DeliveryError,
  backoffDelay,
  isRebalanceError,
  isRecordRejection,
  isTransient,
  kafkaErrorType,
  retryTransient,
} from './delivery.js';

const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ message: type, type, code: 1, retriable } as unknown as string);

describe('isTransient', () => {
  it.each([
    ['a connection error', new KafkaJSConnectionError('refused'), true],
    ['a request timeout', new KafkaJSRequestTimeoutError('slow'), true],
    ['a retriable protocol error (NOT_LEADER)', protocol('NOT_LEADER_OR_FOLLOWER', true), true],
    ['a permanent protocol error (MESSAGE_TOO_LARGE)', protocol('MESSAGE_TOO_LARGE', false), false],
    [
      'retries exceeded over a connection error',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('x'), {
        retryCount: 5,
        retryTime: 1,
      }),
      true,
    ],
    [
      'retries exceeded over a permanent error',
      new KafkaJSNumberOfRetriesExceeded(protocol('TOPIC_AUTHORIZATION_FAILED', false), {
        retryCount: 5,
        retryTime: 1,
      }),
      false,
    ],
    ['a non-retriable kafkajs error', new KafkaJSNonRetriableError('bad'), false],
    [
      'an aggregate of transient errors',
      new KafkaJSAggregateError('many', [
        new KafkaJSConnectionError('a'),
        protocol('LEADER_NOT_AVAILABLE', true),
      ]),
      true,
    ],
    [
      'an aggregate with one permanent error',
      new KafkaJSAggregateError('many', [
        new KafkaJSConnectionError('a'),
        protocol('INVALID_RECORD', false),
      ]),
      false,
    ],
    ['a plain Error', new Error('bug'), false],
    ['a string', 'oops', false],
  ])('%s → %s', (_, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it.each([
    [0, 0.5, 100],
    [1, 0.5, 200],
    [3, 0.5, 800],
    [20, 0.5, 30_000],
    [0, 0, 80],
    [0, 1, 120],
  ])('attempt %i with random %f waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, {}, () => random)).toBe(expected);
  });
});

describe('retryTransient', () => {
  it('retries transient errors with growing delays until the attempt succeeds', async () => {
    const slept: number[] = [];
    const retried: number[] = [];
    let calls = 0;
    const result = await retryTransient(
      async () => {
        calls++;
        if (calls < 4) throw new KafkaJSConnectionError('down');
        return 'acked';
      },
      {
        what: 'produce',
        jitter: 0,
        sleep: async (ms) => void slept.push(ms),
        onRetry: (_, attempt) => retried.push(attempt),
      },
    );
    expect(result).toBe('acked');
    expect(slept).toEqual([100, 200, 400]);
    expect(retried).toEqual([0, 1, 2]);
  });

  it('turns a permanent error into a DeliveryError with the cause, without retrying', async () => {
    const cause = protocol('MESSAGE_TOO_LARGE', false);
    let calls = 0;
    const error = await retryTransient(
      async () => {
        calls++;
        throw cause;
      },
      { what: 'produce 3 records', sleep: async () => undefined },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toBe(
      'produce 3 records failed permanently: MESSAGE_TOO_LARGE',
    );
    expect((error as DeliveryError).cause).toBe(cause);
    expect((error as DeliveryError).retriable).toBe(false);
    expect(calls).toBe(1);
  });

  it('stops retrying when abortReason gives a reason', async () => {
    let calls = 0;
    const error = await retryTransient(
      async () => {
        calls++;
        throw new KafkaJSConnectionError('down');
      },
      {
        what: 'commit',
        sleep: async () => undefined,
        abortReason: () => (calls >= 2 ? 'partition revoked' : undefined),
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryAbortedError);
    expect((error as Error).message).toBe('commit abandoned: partition revoked');
    expect(calls).toBe(2);
  });
});

describe('kafkaErrorType, isRebalanceError, isRecordRejection', () => {
  // As kafkajs' retrier wraps a protocol error (its typings omit the cause option it takes).
  const retrierWrapped = (type: string) =>
    Object.assign(new KafkaJSNonRetriableError(protocol(type, false)), {
      cause: protocol(type, false),
    });
  const wrappedCommit = new DeliveryError('commit t[0]@5 failed permanently', {
    cause: retrierWrapped('REBALANCE_IN_PROGRESS'),
  });
  const tooLarge = new DeliveryError('produce 3 records failed permanently', {
    cause: retrierWrapped('MESSAGE_TOO_LARGE'),
  });
  it.each([
    [
      'a bare protocol error',
      protocol('ILLEGAL_GENERATION', false),
      'ILLEGAL_GENERATION',
      true,
      false,
    ],
    [
      'a rebalance inside DeliveryError and kafkajs wrappers',
      wrappedCommit,
      'REBALANCE_IN_PROGRESS',
      true,
      false,
    ],
    ['MESSAGE_TOO_LARGE inside DeliveryError', tooLarge, 'MESSAGE_TOO_LARGE', false, true],
    [
      'INVALID_RECORD in an aggregate',
      new KafkaJSAggregateError('x', [protocol('INVALID_RECORD', false)]),
      'INVALID_RECORD',
      false,
      true,
    ],
    [
      'a retriable error is never a record rejection',
      protocol('MESSAGE_TOO_LARGE', true),
      'MESSAGE_TOO_LARGE',
      false,
      false,
    ],
    [
      'authorization is not a record rejection',
      protocol('TOPIC_AUTHORIZATION_FAILED', false),
      'TOPIC_AUTHORIZATION_FAILED',
      false,
      false,
    ],
    [
      'a connection error has no type',
      new KafkaJSConnectionError('refused'),
      undefined,
      false,
      false,
    ],
    ['not an error', 'text', undefined, false, false],
  ])('%s', (_case, error, type, rebalance, rejection) => {
    expect(kafkaErrorType(error)).toBe(type);
    expect(isRebalanceError(error)).toBe(rebalance);
    expect(isRecordRejection(error)).toBe(rejection);
  });
});
