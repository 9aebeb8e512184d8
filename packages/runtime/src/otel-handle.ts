// The link between `@tidemark/runtime/otel` (loaded with node --import, before the service) and the
// runtime: the preload registers its shutdown here so the runtime can flush spans before it exits.
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
