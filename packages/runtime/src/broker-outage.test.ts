import { describe, expect, it } from 'vitest';
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { isBrokerOutage } from './broker-outage.js';

// kafkajs throws it from its fetch manager but does not export it.
const noBrokerAvailable = () =>
  Object.assign(new KafkaJSError('No broker available'), { name: 'KafkaJSNoBrokerAvailableError' });
const retried = { retryCount: 5, retryTime: 1000 };

describe('isBrokerOutage', () => {
  it.each([
    ['no broker in the metadata (a rejoin during a restart)', noBrokerAvailable(), true],
    [
      'a refused connection',
      new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:9092'),
      true,
    ],
    [
      "kafkajs' retries of a refused connection exhausted",
      new KafkaJSNumberOfRetriesExceeded(
        new KafkaJSConnectionError('connect ECONNREFUSED'),
        retried,
      ),
      true,
    ],
    [
      'retries exhausted on something else',
      new KafkaJSNumberOfRetriesExceeded(new Error('boom'), retried),
      false,
    ],
    [
      'a refusal by the cluster',
      new KafkaJSProtocolError({
        message: 'Not authorized to access topics',
        type: 'TOPIC_AUTHORIZATION_FAILED',
        code: 29,
        retriable: false,
      } as unknown as string),
      false,
    ],
    ['a non-retriable kafkajs error', new KafkaJSNonRetriableError('nope'), false],
    ['an error of ours', new TypeError('x is undefined'), false],
    ['nothing', undefined, false],
  ])('%s: %s', (_case, error, outage) => {
    expect(isBrokerOutage(error)).toBe(outage);
  });
});
