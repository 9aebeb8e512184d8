import { KeyValueState } from '@tidemark/core';
import type { FindingStatus, PartitionState, Severity, StateChange } from '@tidemark/core';
import type { OwnerSource } from './owners.js';

/** What the router remembers about one finding (`finding:<fingerprint>`). */
export interface FindingEntry {
  readonly kind: 'finding';
  status: FindingStatus;
  /** Fingerprint of the alert (label set) the finding belongs to. */
  alert: string;
  /** Event time of the latest observation, epoch ms; older observations are stale replays. */
  observedAt: number;
  /** A firing finding's `expiresAt`, epoch ms: not refreshed by then, the router resolves it. */
  expiresAt?: number;
  /** Ticket base keys the finding is an item of (while firing). */
  tickets?: string[];
  /** The ticket item, kept while the finding is an item of a ticket (ids only when restricted). */
  item?: {
    system: string;
    docId?: string;
    check: string;
    reason: string;
    severity: Severity;
    dueBy: number;
  };
}

/** One alert: a label set and the findings firing under it (`alert:<fingerprint>`). */
export interface AlertEntry {
  readonly kind: 'alert';
  labels: Record<string, string>;
  status: FindingStatus;
  /** Event time the alert started firing (this episode), epoch ms. */
  startsAt: number;
  /** Event time it resolved, epoch ms. */
  endsAt?: number;
  /** Findings firing under it now. */
  firing: number;
  /** Distinct findings that fired under it this episode. */
  total: number;
  /** Fingerprints of the first findings of this episode (bounded). */
  sample: string[];
  /** Latest summary, already free of restricted content. */
  summary: string;
  traceparent?: string;
  /** State keys of the groups (alert receivers) it belongs to. */
  groups: string[];
  /** Names of the tickets receivers it was routed to. */
  ticketReceivers: string[];
  /** Its owner's escalation: the receiver, when it falls due (epoch ms), and whether it was sent firing. */
  escalation?: { receiver: string; at: number; sent: boolean };
}

/** An aggregation group of one route (`group:<hash>`), with Alertmanager's timers. */
export interface GroupEntry {
  readonly kind: 'group';
  routeId: string;
  receiver: string;
  /** Alertmanager-style group key text, carried on every alert it sends. */
  groupKey: string;
  labels: Record<string, string>;
  /** When the group's timer fires next, epoch ms (group_wait first, then every group_interval). */
  nextFlushAt: number;
  flushed: boolean;
  /** Fingerprints of its alerts. */
  members: string[];
  /** Alerts this receiver was sent as firing (fingerprint → last sent, epoch ms) and not yet sent resolved. */
  notified: Record<string, number>;
}

/** A steward ticket of one (assignee, check family, system, period) (`ticket:<base key>`). */
export interface TicketEntry {
  readonly kind: 'ticket';
  receiver: string;
  queue: string;
  assignee: string;
  team?: string;
  via: OwnerSource;
  family: string;
  system: string;
  periodStart: number;
  periodEnd: number;
  /** Bumped after each resolve, so a reopened ticket has a new key. */
  generation: number;
  /** Records emitted under this base key. */
  version: number;
  /** An `open` was sent and no `resolve` yet. */
  opened: boolean;
  /** Items changed since the last emitted action. */
  dirty: boolean;
  /** The `dueBy` of the last emitted action, epoch ms. */
  dueBy?: number;
  /** Past its dueBy: this generation's actions carry `escalated: true`. */
  escalated?: boolean;
  /** The team's escalation receiver, when escalated and known. */
  escalationReceiver?: string;
}

/** The expiring-soon notice of a silence (`silence:<id>`). */
export interface SilenceEntry {
  readonly kind: 'silence';
  /** The silence's end the notice was raised for, epoch ms. */
  endsAt: number;
  /** The notice finding's subject system, kept so its resolve has the same fingerprint. */
  system: string;
}

/** Any value in the router's partition state. */
export type RouterEntry = FindingEntry | AlertEntry | GroupEntry | TicketEntry | SilenceEntry;

/** In-memory indexes over the entries; rebuilt from them after a restore, never persisted. */
export interface RouterIndexes {
  groups: Set<string>;
  dirtyTickets: Set<string>;
  ticketMembers: Map<string, Set<string>>;
  resolvedFindings: Map<string, number>;
  /** Tickets with no open items: base key → end of their period, for cleanup. */
  closedTickets: Map<string, number>;
  /** Per inhibit rule: equal-label key → firing source alert fingerprints. */
  inhibitSources: Array<Map<string, Set<string>>>;
  silenceNotices: Set<string>;
  /** Alerts with an escalation to send (firing, not yet sent) or to resolve (resolved after it was sent). */
  escalations: Set<string>;
  /** Firing findings that carry an expiry: fingerprint → expiresAt, epoch ms. */
  expiring: Map<string, number>;
  /** Open tickets not yet escalated: base key → dueBy, epoch ms. */
  dueTickets: Map<string, number>;
  /** Earliest group timer, epoch ms. */
  nextGroupDue: number;
  /** When resolved findings and closed tickets are next swept, epoch ms. */
  nextCleanupAt: number;
}

/**
 * The router's state for one partition: JSON entries keyed `finding:<fp>`, `alert:<fp>`, `group:<hash>`,
 * `ticket:<key>` and `silence:<id>`, persisted by the host's changelog, plus indexes rebuilt on restore.
 */
export class RouterState implements PartitionState {
  /** The persisted entries. */
  readonly kv = new KeyValueState<RouterEntry>();
  /** Indexes over `kv`; undefined until built (and again after a restore). */
  indexes: RouterIndexes | undefined;

  /** @param partition the partition this state belongs to (silence notices come from one partition only). */
  constructor(readonly partition = 0) {}

  restore(key: string, value: Buffer | null): void {
    this.kv.restore(key, value);
    this.indexes = undefined;
  }

  drainChanges(): StateChange[] {
    return this.kv.drainChanges();
  }

  size(): number {
    return this.kv.size();
  }
}
