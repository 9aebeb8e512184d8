import { ConfigError } from '@tidemark/core';
import type { PartitionState, ServiceDefinition } from '@tidemark/core';
import { runService } from './service.js';
import type { RunServiceOptions } from './service.js';

/** Process exit codes of a Tidemark service. */
export const EXIT_CODES = {
  /** Stopped cleanly after SIGTERM/SIGINT. */
  ok: 0,
  /** Crashed, lost the broker for good, or missed the shutdown deadline. */
  failure: 1,
  /** Refused to start: bad environment, contracts or topics (every problem printed). */
  config: 2,
} as const;

/**
 * Entry point for a service's main.ts: builds the definition (which may read contracts and throw
 * ConfigError), runs it, and turns start-up failures into exit codes — 2 for configuration, 1 otherwise.
 * Once running, the service exits by itself (0 on SIGTERM/SIGINT, 1 on a fatal error).
 */
export async function runMain<S extends PartitionState, E>(
  build: (env: NodeJS.ProcessEnv) => ServiceDefinition<S, E> | Promise<ServiceDefinition<S, E>>,
  options: RunServiceOptions = {},
): Promise<void> {
  const env = options.env ?? process.env;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  try {
    const definition = await build(env);
    await runService(definition, { ...options, env });
  } catch (error) {
    const isConfig = error instanceof ConfigError || (error as Error)?.name === 'ConfigError';
    process.stderr.write(
      `${isConfig ? '' : 'failed to start: '}${(error as Error)?.stack && !isConfig ? (error as Error).stack : String((error as Error)?.message ?? error)}\n`,
    );
    exit(isConfig ? EXIT_CODES.config : EXIT_CODES.failure);
  }
}
