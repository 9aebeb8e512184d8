import { DependencyUnavailableError } from '@tidemark/core';
import type { GlobalTable, OutputRecord } from '@tidemark/core';

/** Name of the compacted topic that lists every document the checkers have seen, and whether it is deleted. */
export function documentRegistryTopic(service: string): string {
  return `tidemark.${service}.documents`;
}

/**
 * Every document known to any instance, read in full from the registry topic. References cross partitions
 * (a page may name a successor owned by another instance), so each instance keeps this global table; the
 * instance that owns a document writes its entry when the document appears or is deleted.
 */
export class DocumentRegistry implements GlobalTable {
  readonly #deleted = new Map<string, boolean>();

  apply(key: string, value: Buffer | null): void {
    if (value === null) this.#deleted.delete(key);
    else this.#deleted.set(key, (JSON.parse(value.toString()) as { deleted: boolean }).deleted);
  }

  /** 'live', 'deleted', or 'unknown' for a `<system>/<docId>` key. */
  status(key: string): 'live' | 'deleted' | 'unknown' {
    const deleted = this.#deleted.get(key);
    return deleted === undefined ? 'unknown' : deleted ? 'deleted' : 'live';
  }

  get size(): number {
    return this.#deleted.size;
  }
}

/** The registry record announcing that a document exists or was deleted. */
export function registryRecord(topic: string, key: string, deleted: boolean): OutputRecord {
  return { topic, key, value: deleted ? DELETED : LIVE };
}

// The only two registry values, serialised once: a record is written for nearly every new document.
const LIVE = JSON.stringify({ deleted: false });
const DELETED = JSON.stringify({ deleted: true });

// HTTP statuses of a Schema Registry that is there but cannot answer now (or will not let us in): the record
// is fine. 408/429 are the registry being slow or throttling; 401/403 are our credentials, not the data.
const UNAVAILABLE_STATUSES = new Set([401, 403, 408, 429]);

/**
 * Whether a Schema Registry call failed because the registry was unreachable, answered 5xx/408/429, or refused
 * our credentials (401/403) — an outage, not bad data — as a DependencyUnavailableError to throw (the host
 * pauses the partition and retries the record); undefined when the registry answered and the record itself is
 * at fault (unknown schema id, payload failing its schema), which stays a schema violation. Decided by the
 * error's shape — the REST client's `status`, an HTTP client error without a response, a Node system error
 * (`code` + `syscall`) anywhere in the cause chain — never by message text.
 */
export function schemaRegistryOutage(error: unknown): DependencyUnavailableError | undefined {
  if (error instanceof DependencyUnavailableError) return error;
  let e: unknown = error;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const x = e as {
      status?: unknown;
      isAxiosError?: unknown;
      response?: unknown;
      code?: unknown;
      syscall?: unknown;
      cause?: unknown;
    };
    let why: string | undefined;
    if (typeof x.status === 'number' && (x.status >= 500 || UNAVAILABLE_STATUSES.has(x.status)))
      why = `answered HTTP ${x.status}`;
    else if (x.isAxiosError === true && x.response === undefined)
      why = `unreachable${typeof x.code === 'string' ? ` (${x.code})` : ''}`;
    else if (typeof x.code === 'string' && typeof x.syscall === 'string')
      why = `unreachable (${x.code})`;
    if (why !== undefined) {
      return new DependencyUnavailableError('schema-registry', `Schema Registry ${why}`, {
        cause: error,
        ...(typeof x.status === 'number' ? { context: { status: x.status } } : {}),
      });
    }
    if (x.cause === e) break;
    e = x.cause;
  }
  return undefined;
}
