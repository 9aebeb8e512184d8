import { DependencyUnavailableError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { schemaRegistryOutage } from './registry.js';

/** Errors shaped like the ones @confluentinc/schemaregistry (RestError, axios) and Node raise. */
const restError = (status: number, errorCode: number) =>
  Object.assign(new Error(`registry said no; Error code: ${errorCode}`), { status, errorCode });
const axiosNoResponse = (code: string) =>
  Object.assign(new Error('connect failed'), { isAxiosError: true, code, response: undefined });
const systemError = (code: string) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:8081`), { code, syscall: 'connect' });

describe('schemaRegistryOutage', () => {
  it.each([
    ['HTTP 503', restError(503, 50301), 'Schema Registry answered HTTP 503'],
    ['HTTP 500', restError(500, 50001), 'Schema Registry answered HTTP 500'],
    ['HTTP 401 (our credentials)', restError(401, 40101), 'Schema Registry answered HTTP 401'],
    ['HTTP 403 (our credentials)', restError(403, 40301), 'Schema Registry answered HTTP 403'],
    ['HTTP 429 (throttled)', restError(429, 42901), 'Schema Registry answered HTTP 429'],
    [
      'no response (connection refused)',
      axiosNoResponse('ECONNREFUSED'),
      'Schema Registry unreachable (ECONNREFUSED)',
    ],
    [
      'a system error in the cause chain',
      new Error('fetch schema 7', { cause: systemError('ETIMEDOUT') }),
      'Schema Registry unreachable (ETIMEDOUT)',
    ],
  ])('%s is an outage (DependencyUnavailableError, retriable)', (_case, error, message) => {
    const outage = schemaRegistryOutage(error);
    expect(outage).toBeInstanceOf(DependencyUnavailableError);
    expect(outage?.message).toBe(message);
    expect(outage?.dependency).toBe('schema-registry');
    expect(outage?.retriable).toBe(true);
    expect(outage?.cause).toBe(error);
  });

  it.each([
    ['an unknown schema id (HTTP 404)', restError(404, 40403)],
    ['a bad request (HTTP 422)', restError(422, 42201)],
    ['a payload failing its schema', new Error('data/revision must be >= 0')],
    [
      'a framing error',
      Object.assign(new Error('Unknown magic byte 1'), { name: 'SerializationError' }),
    ],
    [
      'an HTTP client error with a response',
      Object.assign(new Error('x'), { isAxiosError: true, response: {} }),
    ],
    ['not an error at all', 'text'],
  ])('%s stays a schema violation', (_case, error) => {
    expect(schemaRegistryOutage(error)).toBeUndefined();
  });

  it('passes a DependencyUnavailableError through unchanged', () => {
    const error = new DependencyUnavailableError('schema-registry', 'down');
    expect(schemaRegistryOutage(error)).toBe(error);
  });
});
