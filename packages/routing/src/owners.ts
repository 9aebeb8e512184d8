import type { Finding } from '@tidemark/core';

/** Owners known from `contracts/` beyond what a finding carries; every lookup may answer undefined. */
export interface OwnersLookup {
  /** Steward of a content class of a system. */
  contentClassSteward?(system: string, contentClass: string): string | undefined;
  /** Team that owns a source system. */
  systemTeam?(system: string): string | undefined;
  /** Platform owner responsible for a system's connectors and index. */
  platformOwner?(system: string): string | undefined;
  /** Ticket queue of a team (the Owners file's `ticketQueue`). */
  ticketQueue?(team: string): string | undefined;
  /** A team's escalation (the Owners file's `escalation`). */
  teamEscalation?(team: string): Escalation | undefined;
  /** The escalation of a system's (or content class's) owner: the contract's own, else its team's. */
  systemEscalation?(system: string, contentClass?: string): Escalation | undefined;
}

/** Where an alert or ticket escalates to: a receiver of routing.yaml, after a delay. */
export interface Escalation {
  readonly receiver: string;
  /** Delay after the alert started firing; undefined = at once. */
  readonly afterMs: number | undefined;
}

/**
 * The escalation of an alert or ticket: its team's (the `team` label / ticket team) if that team has one, else
 * that of the system's owner (the contract's, else its team's).
 */
export function resolveEscalation(
  owners: OwnersLookup,
  team: string | undefined,
  system: string | undefined,
  contentClass?: string,
): Escalation | undefined {
  const byTeam = team ? owners.teamEscalation?.(team) : undefined;
  if (byTeam) return byTeam;
  return system ? owners.systemEscalation?.(system, contentClass) : undefined;
}

/** Which step of the fallback chain found the assignee. */
export type OwnerSource = 'document' | 'content-class' | 'system-team' | 'platform' | 'unowned';

/** Who a ticket item goes to. */
export interface OwnerResolution {
  /** Person or group to assign; `unowned` when nobody was found. */
  readonly assignee: string;
  readonly team?: string;
  readonly via: OwnerSource;
}

/** Assignee name of tickets nobody could be found for. */
export const UNOWNED = 'unowned';

const nonEmpty = (s: string | undefined): string | undefined =>
  s === undefined || s === '' ? undefined : s;

/**
 * Resolves who acts on a finding: the document's owner (the finding's steward), then the content class's
 * steward, then the system's team, then the platform owner; `unowned` when none is known.
 */
export function resolveOwner(finding: Finding, owners: OwnersLookup = {}): OwnerResolution {
  const { system, contentClass } = finding.subject;
  const team = nonEmpty(finding.owner.team) ?? nonEmpty(owners.systemTeam?.(system));
  const withTeam = team === undefined ? {} : { team };
  const document = nonEmpty(finding.owner.steward);
  if (document) return { assignee: document, ...withTeam, via: 'document' };
  const steward = contentClass
    ? nonEmpty(owners.contentClassSteward?.(system, contentClass))
    : undefined;
  if (steward) return { assignee: steward, ...withTeam, via: 'content-class' };
  if (team) return { assignee: team, team, via: 'system-team' };
  const platform =
    nonEmpty(finding.owner.platformOwner) ?? nonEmpty(owners.platformOwner?.(system));
  if (platform) return { assignee: platform, via: 'platform' };
  return { assignee: UNOWNED, via: 'unowned' };
}

/**
 * The queue a ticket of this owner goes to when its receiver names none: the team's ticket queue, else the
 * team's name, else the assignee (a platform owner counts as a team, since platform owners are teams).
 */
export function ownerQueue(owner: OwnerResolution, owners: OwnersLookup = {}): string {
  const team = owner.team ?? (owner.via === 'platform' ? owner.assignee : undefined);
  return (
    (team === undefined ? undefined : nonEmpty(owners.ticketQueue?.(team))) ??
    team ??
    owner.assignee
  );
}
