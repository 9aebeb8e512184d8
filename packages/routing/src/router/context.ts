// The explicit context every concept file of the router works with, instead of one closure's variables:
// - RouterContext: what createRouter was given (validated config, options with their defaults) and what it
//   derives once (routes by id, the label fingerprint memo, when each state was last ticked).
// - PartitionScope: one call's view of a partition — the context, the state's entries and their indexes.
// - Pass: a call that runs at a time (ingest, tick); TickPass also carries the output the tick is building.
// Functions take the narrowest of these they need, so a signature says whether it reads the clock or emits.
import type { RoutingConfig, Route } from '../config.js';
import type { Labels } from '../matcher.js';
import type { OwnersLookup } from '../owners.js';
import type { SilenceTable } from '../silence.js';
import type { RouterIndexes, RouterState } from '../state.js';
import type { RouterOutput } from './types.js';

/** A router's configuration and derived lookups, built once by createRouter and shared by every call. */
export interface RouterContext {
  readonly config: RoutingConfig;
  readonly owners: OwnersLookup;
  readonly silences: SilenceTable | undefined;
  readonly silenceExpiryLead: number;
  readonly silenceNoticePartition: number;
  readonly ticketItemLimit: number;
  readonly alertFindingSample: number;
  readonly resolvedRetention: number;
  readonly runbookUrl: ((labels: Labels) => string | undefined) | undefined;
  readonly generatorUrl: string;
  /** Every route of the tree by id: a group entry names its route by id. */
  readonly routesById: ReadonlyMap<string, Route>;
  /** Alert fingerprints by label-set JSON (label sets repeat: many findings, few alerts); see alertFingerprint. */
  readonly labelFingerprints: Map<string, string>;
  /** When each state was last ticked (memory only): silences over by then can never become due (nextTick). */
  readonly lastTick: WeakMap<RouterState, number>;
}

/** One call's view of a partition: the router's context, the partition state, and its (built) indexes. */
export interface PartitionScope {
  readonly ctx: RouterContext;
  readonly state: RouterState;
  readonly ix: RouterIndexes;
}

/** A call that runs at a time: `ingest` and `tick`. */
export interface Pass extends PartitionScope {
  /** The host's clock for this call, epoch ms. */
  readonly now: number;
}

/** A tick: a pass that also builds the tick's output. */
export interface TickPass extends Pass {
  readonly out: RouterOutput;
}
