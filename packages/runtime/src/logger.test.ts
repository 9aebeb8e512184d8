import { Writable } from 'node:stream';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'svc', level: 'debug', destination }) };
}

describe('createLogger', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => {
    manager.disable();
    context.disable();
  });

  it('writes JSON with the service name and a textual level', () => {
    const { lines, logger } = capture();
    logger.info({ partition: 3 }, 'assigned');
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'svc',
      partition: 3,
      msg: 'assigned',
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it.each([
    [
      'a SASL block',
      { sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
      { sasl: '[redacted]' },
    ],
    [
      'a nested password',
      { config: { kafka: { password: 'p', user: 'u' } } },
      { config: { kafka: { password: '[redacted]', user: 'u' } } },
    ],
    [
      'an authorization header',
      { headers: { authorization: 'Bearer x', accept: '*/*' } },
      { headers: { authorization: '[redacted]', accept: '*/*' } },
    ],
    [
      'a token',
      { token: 't', request: { token: 't' } },
      { token: '[redacted]', request: { token: '[redacted]' } },
    ],
    [
      'the SASL env variable',
      { env: { KAFKA_SASL_PASSWORD: 'p', KAFKA_BROKERS: 'b:1' } },
      { env: { KAFKA_SASL_PASSWORD: '[redacted]', KAFKA_BROKERS: 'b:1' } },
    ],
  ])('redacts %s', (_, fields, expected) => {
    const { lines, logger } = capture();
    logger.warn(fields, 'x');
    expect(lines[0]).toMatchObject(expected);
  });

  it('adds trace_id and span_id of the active span', () => {
    const { lines, logger } = capture();
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    };
    context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => logger.info('inside'));
    expect(lines[0]).toMatchObject({
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
      msg: 'inside',
    });
  });
});
