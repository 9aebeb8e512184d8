// Preload for tracing: node --import @tidemark/runtime/otel dist/main.js
//
// OpenTelemetry patches modules as they load, and an ESM program loads kafkajs before any of its own code
// runs — so the SDK must start here, from --import, after registering the ESM loader hook
// (import-in-the-middle) and before the service's main imports kafkajs. Tracing is on only when an
// exporter is configured through the standard OTEL_* variables; otherwise this file does nothing at all.
import { register } from 'node:module';
import { registerTelemetryShutdown, rememberProcessSpan, telemetryWanted } from './otel-handle.js';
import { OUTPUT_TRACEPARENT } from './records.js';
import type { OutgoingMessage } from './records.js';

if (telemetryWanted(process.env)) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  // Metrics are served by prom-client on /metrics and logs go to stdout; only traces are exported here,
  // unless the operator asks for more explicitly.
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { KafkaJsInstrumentation } = await import('@opentelemetry/instrumentation-kafkajs');
  const sdk = new NodeSDK({
    instrumentations: [
      new KafkaJsInstrumentation({
        // The instrumentation stamps every sent message with its send span, parented to whatever context is
        // active when the runtime sends a whole batch; put back the trace of the record each output came from.
        producerHook: (_span, { message }) => {
          const traceparent = (message as OutgoingMessage)[OUTPUT_TRACEPARENT];
          if (traceparent !== undefined && message.headers)
            message.headers['traceparent'] = traceparent;
        },
        // Its `process <topic>` span per consumed message: the runtime's handler span becomes its child.
        consumerHook: (span, { message }) => rememberProcessSpan(message, span),
      }),
    ],
  });
  sdk.start();
  registerTelemetryShutdown(() => sdk.shutdown());
}
