// The link between `@tidemark/runtime/otel` (loaded with node --import, before the service) and the
// runtime: the preload registers its shutdown here so the runtime can flush spans before it exits.
import type { Span } from '@opentelemetry/api';

const HANDLE = Symbol.for('tidemark.runtime.otel.shutdown');

type ShutdownFn = () => Promise<void>;

/** Records how to flush and stop telemetry (called by the otel preload). */
export function registerTelemetryShutdown(fn: ShutdownFn): void {
  (globalThis as Record<symbol, unknown>)[HANDLE] = fn;
}

/** Flushes and stops telemetry if the otel preload started it; never throws, gives up after 5 s. */
export async function shutdownTelemetry(): Promise<void> {
  const fn = (globalThis as Record<symbol, unknown>)[HANDLE] as ShutdownFn | undefined;
  if (!fn) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    fn().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 5000);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Whether the OTEL_* variables ask for traces: an OTLP endpoint or an explicit traces exporter, not disabled. */
export function telemetryWanted(env: NodeJS.ProcessEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

// The kafkajs instrumentation starts a `process <topic>` span per consumed message (a child of its batch's
// `poll` span, linked to the producer's context) before the runtime sees the batch. The preload's consumer
// hook records it here, keyed by the message object, so the runtime's handler span can be its child instead of
// a second, unrelated `process` span. Weak keys: an entry lives as long as its message or record.
const PROCESS_SPANS = Symbol.for('tidemark.runtime.otel.processSpans');

function processSpans(): WeakMap<object, Span> {
  const global = globalThis as Record<symbol, unknown>;
  return (global[PROCESS_SPANS] ??= new WeakMap<object, Span>()) as WeakMap<object, Span>;
}

/** Records the instrumentation's process span of a consumed message (the preload's consumer hook). */
export function rememberProcessSpan(message: object, span: Span): void {
  processSpans().set(message, span);
}

/** Makes `to` (the record built from a message) answer processSpanOf like `from` (the kafkajs message). */
export function carryProcessSpan(from: object, to: object): void {
  const span = processSpans().get(from);
  if (span) processSpans().set(to, span);
}

/** The instrumentation's process span of a consumed message or its record, if the preload saw one. */
export function processSpanOf(carrier: object): Span | undefined {
  return processSpans().get(carrier);
}
