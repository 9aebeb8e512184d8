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
