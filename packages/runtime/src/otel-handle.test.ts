import { describe, expect, it } from 'vitest';
import { registerTelemetryShutdown, shutdownTelemetry, telemetryWanted } from './otel-handle.js';

describe('telemetryWanted', () => {
  it.each([
    [{}, false],
    [{ OTEL_SERVICE_NAME: 'x' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }, false],
  ])('%j → %s', (env, expected) => {
    expect(telemetryWanted(env)).toBe(expected);
  });
});

describe('shutdownTelemetry', () => {
  it('calls the registered shutdown and swallows its failure', async () => {
    let calls = 0;
    registerTelemetryShutdown(async () => {
      calls++;
      throw new Error('collector gone');
    });
    await shutdownTelemetry();
    expect(calls).toBe(1);
  });
});
