// What every parity check receives besides the state and the event: the settings, the host's `now`, the input's
// trace context, and where to look up changes of documents that other partitions own.
import type { ParitySettingsResolver } from './settings.js';

/** The latest change time (epoch ms) another source knows for a document, e.g. the RecentChangesTable. */
export type InFlightLookup = (system: string, docId: string) => number | undefined;

/** What every parity check receives besides the state and the event. */
export interface ParityContext {
  settings: ParitySettingsResolver;
  /** Epoch ms: the host's clock, or event time in replay. */
  now: number;
  /** W3C trace context of the input, when it carried one. */
  traceparent?: string;
  /** Change times of documents owned by other partitions (inventory in-flight exclusion). */
  inFlight?: InFlightLookup;
}
