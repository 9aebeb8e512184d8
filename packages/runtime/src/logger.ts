import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from './config.js';

/** Log paths whose values are replaced by "[redacted]": credentials wherever they appear in a logged object. */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'sasl',
  '*.sasl',
  '*.*.sasl',
  'token',
  '*.token',
  '*.*.token',
  'accessToken',
  '*.accessToken',
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'headers.authorization',
  'KAFKA_SASL_PASSWORD',
  '*.KAFKA_SASL_PASSWORD',
];

/** Options of createLogger. */
export interface LoggerOptions {
  service: string;
  /** @default 'info' */
  level?: LogLevel;
  /** Where JSON lines go. @default stdout */
  destination?: DestinationStream;
}

/**
 * A pino JSON logger stamped with the service name and, inside a span, the active trace_id and span_id;
 * secrets are redacted by path (see REDACTED_PATHS).
 */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const spanContext = span.spanContext();
        if (!isSpanContextValid(spanContext)) return {};
        const { traceId, spanId } = spanContext;
        return { trace_id: traceId, span_id: spanId };
      },
    },
    destination,
  );
}
