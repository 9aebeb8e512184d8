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
