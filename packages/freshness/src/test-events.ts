// Event builders and a policy table shared by this package's tests and benchmark (not exported).
import { formatTime, type Finding } from '@tidemark/core';
import type { FreshnessInputEvent } from './checks.js';
import type { FreshnessPolicy, FreshnessSettings } from './policy.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** 2024-05-01T00:00:00Z */
export const T0 = 1_714_521_600_000;

export const TRACE_A = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
export const TRACE_B = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Test policy: 15m sync lag everywhere, 90d review clock for policies only, 1h heartbeat, 3 failed runs. */
export const testSettings: FreshnessSettings = (system, contentClass) => ({
  syncLagMs: 15 * MINUTE,
  reviewIntervalMs: contentClass === 'policy' ? 90 * DAY : 0,
  heartbeatMs: HOUR,
  failingRuns: 3,
  owner: { team: `${system}-platform`, platformOwner: 'kb-platform@example.com' },
  contract: { file: `contracts/${system}.yaml`, version: '3' },
  labels: { tier: '1' },
});

/** The same settings with some fields replaced. */
export function settingsWith(overrides: Partial<FreshnessPolicy>): FreshnessSettings {
  return (system, contentClass) => ({ ...testSettings(system, contentClass), ...overrides });
}

let seq = 0;
function envelope(type: string, at: number, data: Record<string, unknown>): FreshnessInputEvent {
  seq++;
  const subject =
    typeof data['docId'] === 'string' ? `${String(data['system'])}/${data['docId']}` : undefined;
  return {
    specversion: '1.0',
    id: `evt-${seq}`,
    source: 'connector/test',
    type,
    time: formatTime(at),
    ...(subject ? { subject } : {}),
    data,
  } as FreshnessInputEvent;
}

export interface UpsertInput {
  docId: string;
  revision: number;
  at: number;
  system?: string;
  contentClass?: string;
  owner?: string | null;
  reviewedAt?: number | null;
  deprecated?: boolean;
  classification?: string;
}

export function upserted(input: UpsertInput): FreshnessInputEvent {
  const { docId, revision, at, system = 'confluence', contentClass = 'policy' } = input;
  return envelope('content.upserted', at, {
    system,
    docId,
    revision,
    contentClass,
    title: `Title of ${docId}`,
    owner: input.owner === undefined ? 'alice@example.com' : input.owner,
    reviewedAt:
      input.reviewedAt === undefined || input.reviewedAt === null
        ? null
        : formatTime(input.reviewedAt),
    ...(input.deprecated === undefined ? {} : { deprecated: input.deprecated }),
    classification: input.classification ?? 'internal',
  });
}

export function deleted(input: {
  docId: string;
  revision: number;
  at: number;
  system?: string;
}): FreshnessInputEvent {
  const { docId, revision, at, system = 'confluence' } = input;
  return envelope('content.deleted', at, { system, docId, revision });
}

export function indexed(input: {
  docId: string;
  revision: number;
  at: number;
  sourceTime: number;
  system?: string;
  connector?: string;
  removed?: boolean;
}): FreshnessInputEvent {
  const {
    docId,
    revision,
    at,
    sourceTime,
    system = 'confluence',
    connector = 'confluence-prod',
  } = input;
  return envelope(input.removed ? 'index.removed' : 'index.upserted', at, {
    connector,
    system,
    docId,
    revision,
    sourceTime: formatTime(sourceTime),
  });
}

export function run(input: {
  runId: string;
  status: 'started' | 'succeeded' | 'failed';
  at: number;
  connector?: string;
  system?: string;
  itemsSeen?: number;
  error?: string;
}): FreshnessInputEvent {
  const { runId, status, at, connector = 'confluence-prod', system = 'confluence' } = input;
  return envelope('connector.run', at, {
    connector,
    system,
    runId,
    status,
    startedAt: formatTime(status === 'started' ? at : at - MINUTE),
    ...(status === 'started' ? {} : { finishedAt: formatTime(at) }),
    ...(input.itemsSeen === undefined ? {} : { itemsSeen: input.itemsSeen }),
    ...(input.error === undefined ? {} : { error: input.error }),
  });
}

/** `check status subject@observedAt` lines, for compact exact assertions. */
export function brief(findings: readonly Finding[]): string[] {
  return findings.map(
    (f) =>
      `${f.check} ${f.status} ${f.subject.docId ?? f.subject.connector ?? f.subject.system}@${f.observedAt}`,
  );
}

/** ISO text of T0 + offset. */
export function at(offsetMs: number): string {
  return formatTime(T0 + offsetMs);
}
