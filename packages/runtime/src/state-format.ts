import { ConfigError, INITIAL_STATE_FORMAT } from '@tidemark/core';
import type { PartitionState, ServiceDefinition } from '@tidemark/core';
import type { IHeaders } from 'kafkajs';

/**
 * Header carrying the state format version (a decimal integer) of a changelog record. Records written before
 * it existed have none and are format 1 (INITIAL_STATE_FORMAT).
 */
export const STATE_FORMAT_HEADER = 'tidemark-state-format';

/**
 * A changelog record written in a state format this build does not read (a newer version of the service wrote
 * it, or the header is garbage). Restoring it would build wrong state without a word, so the host refuses to
 * start (exit 2, like every configuration problem) until a version that reads it runs, or the state is reset.
 */
export class StateFormatError extends ConfigError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The header's value as written. */
  readonly found: string;
  /** The newest format this build reads (it reads every one up to it). */
  readonly supported: number;

  constructor(where: {
    service: string;
    topic: string;
    partition: number;
    offset: string;
    found: string;
    supported: number;
  }) {
    const { service, topic, partition, offset, found, supported } = where;
    super(
      `the state changelog ${topic}[${partition}] holds a record in state format ${found} at offset ${offset}; this version of ${service} reads state formats 1 to ${supported}`,
      [
        `it was written by a newer version of ${service}: run that version (or a newer one) again`,
        `or, to discard the state, stop every instance and run "tidemark state reset ${service} --yes"`,
      ],
    );
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.found = found;
    this.supported = supported;
  }
}

/** A changelog record as the restore reader sees it. */
export interface ChangelogRecord {
  offset: string;
  headers?: IHeaders;
}

/**
 * The state format a service writes and reads: its topology's `stateFormat`, or 1 when it declares none. Throws
 * ConfigError for a value that is not a whole number ≥ 1 (a definition bug; the host refuses it before any I/O).
 */
export function definitionStateFormat(
  definition: Pick<ServiceDefinition<PartitionState>, 'name' | 'topology'>,
): number {
  const format = definition.topology?.stateFormat ?? INITIAL_STATE_FORMAT;
  if (!Number.isInteger(format) || format < INITIAL_STATE_FORMAT)
    throw new ConfigError(`invalid topology of ${definition.name}`, [
      `stateFormat must be a whole number ≥ 1, got ${JSON.stringify(format)}`,
    ]);
  return format;
}

/** Headers stamping a changelog record with the state format it was written in. */
export function stateFormatHeaders(format: number): Record<string, string> {
  return { [STATE_FORMAT_HEADER]: String(format) };
}

/**
 * The state format a changelog record was written in: its header's value, 1 without the header, NaN when the
 * header is not a whole number ≥ 1 (or is repeated).
 */
export function recordStateFormat(record: ChangelogRecord): number {
  const raw = record.headers?.[STATE_FORMAT_HEADER];
  if (raw === undefined) return INITIAL_STATE_FORMAT;
  const text = (Array.isArray(raw) ? raw.join(',') : raw.toString()).trim();
  return /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : NaN;
}

/**
 * Checks that every record of one changelog partition is in a format up to `supported`: undefined when all are,
 * else the error naming the first one that is not. A record without the header is format 1; a header that is not
 * a whole number ≥ 1 is an unknown format too (it cannot be read safely either).
 */
export function checkStateFormat(
  records: Iterable<ChangelogRecord>,
  where: { service: string; topic: string; partition: number; supported: number },
): StateFormatError | undefined {
  for (const record of records) {
    const format = recordStateFormat(record);
    if (format <= where.supported) continue;
    const raw = record.headers?.[STATE_FORMAT_HEADER];
    const text = (Array.isArray(raw) ? raw.join(',') : String(raw)).trim();
    return new StateFormatError({
      ...where,
      offset: record.offset,
      found: Number.isNaN(format) ? JSON.stringify(text) : text,
    });
  }
  return undefined;
}
