// runService: hosts a ServiceDefinition on Kafka. The host is split by concept — lifecycle.ts (start, consumer,
// probes, stop), topology.ts, changelog.ts, partitions.ts, batch-loop.ts (one batch: records → handleRecord →
// outputs → produce → commit), output-producer.ts, event-time.ts, ticks.ts, dependency-waits.ts; see the README.
import type { Clock, PartitionState, ServiceDefinition } from '@tidemark/core';
import type { Logger } from 'pino';
import { loadRuntimeConfig } from './config.js';
import type { RuntimeConfig } from './config.js';
import { kafkaAccessError } from './kafka-client.js';
import { ServiceHost } from './lifecycle.js';
import { createLogger } from './logger.js';
import type { RuntimeMetrics } from './metrics.js';
import { checkDefinition } from './topology.js';

export { KeyedSerializer } from './partitions.js';

/** Options of runService; everything has a production default. */
export interface RunServiceOptions {
  /** Where configuration is read from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Source of `now` for handlers and ticks. @default systemClock */
  clock?: Clock;
  /** Logger to use instead of the one built from LOG_LEVEL (tests, embedding). */
  logger?: Logger;
  /** Stop gracefully on SIGTERM/SIGINT. @default true */
  handleSignals?: boolean;
  /**
   * Called with the exit code once the service has stopped (0 after a clean stop, 1 after a fatal error or
   * a missed shutdown deadline). @default process.exit
   */
  exit?: (code: number) => void;
}

/** A running service. */
export interface ServiceHandle {
  readonly config: RuntimeConfig;
  readonly metrics: RuntimeMetrics;
  /** Port the HTTP endpoints listen on (useful with HTTP_PORT=0). */
  readonly httpPort: number;
  /** Whether /readyz answers 200. */
  isReady(): boolean;
  /** Stops gracefully (see README "Shutdown"); resolves with the exit code. */
  stop(reason?: string): Promise<number>;
  /** Resolves with the exit code once the service stopped for any reason. */
  readonly done: Promise<number>;
}

/**
 * Hosts a service definition on Kafka: reads config from the environment (throws ConfigError on bad config:
 * exit 2), restores partition state, consumes the inputs, runs the handler, produces outputs and state
 * changes, commits, ticks, serves /healthz, /readyz and /metrics, and stops on SIGTERM/SIGINT.
 */
export async function runService<S extends PartitionState, E>(
  definition: ServiceDefinition<S, E>,
  options: RunServiceOptions = {},
): Promise<ServiceHandle> {
  const env = options.env ?? process.env;
  const config = loadRuntimeConfig(env, definition.name);
  checkDefinition(definition);
  const logger =
    options.logger ?? createLogger({ service: definition.name, level: config.logLevel });
  const host = new ServiceHost(definition, config, logger, options);
  try {
    await host.start();
  } catch (error) {
    await host.abortStart();
    // Wrong credentials, an untrusted certificate or a missing ACL: one clear line and exit 2, not a stack.
    throw kafkaAccessError(error, config.kafka) ?? error;
  }
  return host.handle();
}
