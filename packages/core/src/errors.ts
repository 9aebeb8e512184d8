/** Base class of every error Tidemark raises on purpose; hosts decide retry or dead-letter by class, never by message. */
export class TidemarkError extends Error {
  /** Whether trying the same operation again may succeed (broker hiccup) or never will (bad record). */
  readonly retriable: boolean;
  /** Structured facts about the failure, safe to log (never document content). */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    options: { retriable?: boolean; cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.context = Object.freeze({ ...(options.context ?? {}) });
  }
}

/** Why a record could not be read as a Tidemark event. */
export type EnvelopeErrorReason =
  | 'too-large'
  | 'too-deep'
  | 'invalid-json'
  | 'forbidden-key'
  | 'not-cloudevent'
  | 'unknown-type'
  | 'schema';

/** A record that is not valid JSON, not a CloudEvent, of unknown type, or breaks its event schema. Never retriable. */
export class EnvelopeError extends TidemarkError {
  readonly reason: EnvelopeErrorReason;

  constructor(
    reason: EnvelopeErrorReason,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: false, context: { reason, ...options.context } });
    this.reason = reason;
  }
}

/** Configuration or contracts that cannot be used; lists every problem so one fix-up round is enough. */
export class ConfigError extends TidemarkError {
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[], options: { cause?: unknown } = {}) {
    super(problems.length > 0 ? `${message}:\n  - ${problems.join('\n  - ')}` : message, {
      ...options,
      retriable: false,
      context: { problems },
    });
    this.problems = Object.freeze([...problems]);
  }
}

/** Returns a short class name and message for any thrown value (for DLQ headers and findings). */
export function describeError(error: unknown): { errorClass: string; message: string } {
  if (error instanceof Error) return { errorClass: error.name || 'Error', message: error.message };
  return { errorClass: typeof error, message: String(error) };
}

/**
 * A dependency the handler needs (Schema Registry, an HTTP sink) is unreachable, answered 5xx or refused
 * our credentials: the record is fine and must not be dead-lettered. Hosts pause the partition, retry the
 * same record with backoff and report not-ready until it goes through. Always retriable.
 */
export class DependencyUnavailableError extends TidemarkError {
  /** Which dependency failed, e.g. `schema-registry`. */
  readonly dependency: string;

  constructor(
    dependency: string,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retriable: true, context: { dependency, ...options.context } });
    this.dependency = dependency;
  }
}

/**
 * Error text safe to put in a finding, a DLQ header or a log line: never a fragment of the record. Tidemark's own
 * errors name the field and the rule only, so their message is kept; any other error (a library's parser or
 * validator, a bug) may quote the record it choked on, so only its class is given.
 */
export function safeErrorText(error: unknown): string {
  if (error instanceof TidemarkError) return error.message;
  const { errorClass } = describeError(error);
  return `${errorClass} (its message is withheld: it may quote the record)`;
}
