import { TidemarkError } from '@tidemark/core';

// kafkajs marks a few transient conditions non-retriable because *its own* retrier gave up on them (lock
// and request timeouts, a coordinator not found yet); for a long-running service they are still transient.
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNoBrokerAvailableError',
]);

/**
 * Whether a broker/client error may pass if the same operation is tried again: the error or any error in
 * its cause chain (kafkajs wraps the last failure in KafkaJSNumberOfRetriesExceeded) is marked retriable or
 * is a connection/timeout error; an aggregate is transient when all its errors are. Decided by class and
 * flag, never by message text.
 */
export function isTransient(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; retriable?: unknown; cause?: unknown; errors?: unknown };
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    return e.errors.every((inner) => isTransient(inner, depth + 1));
  }
  if (e.retriable === true) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause, depth + 1);
}

/** A produce or commit that failed for good (e.g. authorization, record too large): the service must stop. */
export class DeliveryError extends TidemarkError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: false });
  }
}

/** A delivery retry loop given up because the partition was lost or the service is stopping. */
export class DeliveryAbortedError extends TidemarkError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: true });
  }
}

/** Exponential backoff settings. */
export interface BackoffOptions {
  /** @default 100 */
  initialMs?: number;
  /** @default 30000 */
  maxMs?: number;
  /** @default 2 */
  factor?: number;
  /** Fraction of random spread around each delay, so many instances don't retry in step. @default 0.2 */
  jitter?: number;
}

/** Delay before retry number `attempt` (0-based): initial·factor^attempt, capped, ± jitter. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random = Math.random,
): number {
  const { initialMs = 100, maxMs = 30_000, factor = 2, jitter = 0.2 } = options;
  const base = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** Options of retryTransient. */
export interface RetryOptions extends BackoffOptions {
  /** What is being attempted, for error messages. */
  what: string;
  /** Checked before each retry; a reason string stops retrying with DeliveryAbortedError. */
  abortReason?: () => string | undefined;
  /** Called after each transient failure with the attempt number and the delay before the next one. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits between attempts (tests pass a fake). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, retrying transient errors with backoff for as long as it takes (a
 * broker outage must delay records, never lose or dead-letter them). A permanent error becomes a
 * DeliveryError; `abortReason` ends the loop early with DeliveryAbortedError.
 */
export async function retryTransient<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error)) {
        throw new DeliveryError(
          `${options.what} failed permanently: ${(error as Error)?.message ?? String(error)}`,
          {
            cause: error,
          },
        );
      }
      const delay = backoffDelay(n, options);
      options.onRetry?.(error, n, delay);
      await sleep(delay);
      const reason = options.abortReason?.();
      if (reason !== undefined) {
        throw new DeliveryAbortedError(`${options.what} abandoned: ${reason}`, { cause: error });
      }
    }
  }
}

/**
 * The Kafka protocol error type (`MESSAGE_TOO_LARGE`, `REBALANCE_IN_PROGRESS`, …) of an error or of the first
 * error in its cause chain that has one: kafkajs wraps protocol errors (KafkaJSNonRetriableError,
 * KafkaJSNumberOfRetriesExceeded) and the runtime wraps those again (DeliveryError).
 */
export function kafkaErrorType(error: unknown, depth = 0): string | undefined {
  if (depth > 8 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { type?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.type === 'string') return e.type;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const type = kafkaErrorType(inner, depth + 1);
      if (type !== undefined) return type;
    }
  }
  return e.cause !== undefined && e.cause !== error
    ? kafkaErrorType(e.cause, depth + 1)
    : undefined;
}

// Kafka error types after which a commit cannot succeed in this generation: the records are redelivered to
// whoever owns the partition next (and skipped there by the offsets marker where state already has them).
const REBALANCE_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR',
  'FENCED_INSTANCE_ID',
]);

/** Whether a failed commit was lost to a rebalance (looked up through every wrapper). */
export function isRebalanceError(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type !== undefined && REBALANCE_ERRORS.has(type);
}

// Errors about the records themselves: the same records will never be accepted, other records may be.
const RECORD_REJECTIONS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
]);

/** Whether the broker refused a produce because of the records in it (so they go to the DLQ, not a retry). */
export function isRecordRejection(error: unknown): boolean {
  if (isTransient(error)) return false;
  const type = kafkaErrorType(error);
  return type !== undefined && RECORD_REJECTIONS.has(type);
}

/** An output the broker will never accept (too large for any batch, or refused as invalid): it is dead-lettered. */
export class OutputRejectedError extends TidemarkError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: false });
  }
}
