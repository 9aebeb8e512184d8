import { EVENT_TYPES } from './events.js';

/** Default topic names from the design; every one can be overridden in config. */
export const DEFAULT_TOPICS = {
  contentChanges: 'content.changes.v1',
  syncEvents: 'sync.events.v1',
  inventorySnapshots: 'inventory.snapshots.v1',
  findings: 'dq.findings.v1',
  alerts: 'dq.alerts.v1',
  tickets: 'dq.tickets.v1',
  dlq: 'dq.dlq.v1',
  silences: 'dq.silences.v1',
} as const;

/** The role a topic plays, independent of its configured name. */
export type TopicRole = keyof typeof DEFAULT_TOPICS;
/** Topic name per role. */
export type TopicCatalog = Record<TopicRole, string>;

/** The topic catalog with overrides applied over the defaults. */
export function resolveTopics(overrides: Partial<TopicCatalog> = {}): TopicCatalog {
  const topics: TopicCatalog = { ...DEFAULT_TOPICS };
  for (const [role, name] of Object.entries(overrides)) {
    if (!(role in DEFAULT_TOPICS)) throw new RangeError(`unknown topic role "${role}"`);
    if (name) topics[role as TopicRole] = name;
  }
  return topics;
}

/** Name of the compacted changelog topic that holds a service's per-partition state. */
export function stateTopic(service: string): string {
  return `tidemark.${service}.state`;
}

const ROLE_BY_TYPE: Readonly<Record<string, TopicRole>> = {
  [EVENT_TYPES.contentUpserted]: 'contentChanges',
  [EVENT_TYPES.contentDeleted]: 'contentChanges',
  [EVENT_TYPES.indexUpserted]: 'syncEvents',
  [EVENT_TYPES.indexRemoved]: 'syncEvents',
  [EVENT_TYPES.connectorRun]: 'syncEvents',
  [EVENT_TYPES.inventorySnapshot]: 'inventorySnapshots',
  [EVENT_TYPES.finding]: 'findings',
  [EVENT_TYPES.alert]: 'alerts',
  [EVENT_TYPES.ticket]: 'tickets',
};

/** The topic role an event of this CloudEvents type travels on, if Tidemark knows the type. */
export function topicRoleForEventType(type: string): TopicRole | undefined {
  return ROLE_BY_TYPE[type];
}

/**
 * A topic a service uses internally (repartitioning, global tables). Services export these so
 * `tidemark topics create` can create them with the right shape.
 */
export interface InternalTopic {
  name: string;
  /** Compacted (a table, last value per key) rather than deleted by age. */
  compacted: boolean;
  /** Must have the same partition count as the co-partitioned inputs (it is an input of the same service). */
  coPartitioned: boolean;
  /** Why it exists, for `topics create` and `doctor`. */
  purpose: string;
}
