import type { InternalTopic, TopicCatalog } from '@tidemark/core';

/** A topic Tidemark needs, with how it must be configured. */
export interface TopicSpec {
  name: string;
  partitions: number;
  cleanupPolicy: 'delete' | 'compact';
  /** Why the topic exists, for `doctor` and `topics create` output. */
  purpose: string;
  /** Must match the inputs' partition count (changelogs, internal inputs). */
  coPartitioned?: boolean;
}

/**
 * Every topic of a Tidemark deployment, for a given partition count of the co-partitioned inputs: the catalog's,
 * then `internal` — the changelogs and internal topics of its service instances (see instancesTopics).
 */
export function planTopics(
  topics: TopicCatalog,
  partitions: number,
  internal: readonly InternalTopic[] = [],
): TopicSpec[] {
  const specs: TopicSpec[] = [
    {
      name: topics.contentChanges,
      partitions,
      cleanupPolicy: 'delete',
      purpose: 'input: source content changes',
    },
    {
      name: topics.syncEvents,
      partitions,
      cleanupPolicy: 'delete',
      purpose: 'input: index/sync events (co-partitioned with content changes)',
    },
    {
      name: topics.inventorySnapshots,
      partitions,
      cleanupPolicy: 'delete',
      purpose: 'input: chunked inventory snapshots',
    },
    {
      name: topics.findings,
      partitions,
      cleanupPolicy: 'delete',
      purpose: 'output: raw check results',
    },
    { name: topics.alerts, partitions, cleanupPolicy: 'delete', purpose: 'output: routed alerts' },
    {
      name: topics.tickets,
      partitions,
      cleanupPolicy: 'delete',
      purpose: 'output: steward tickets',
    },
    { name: topics.dlq, partitions, cleanupPolicy: 'delete', purpose: 'output: dead letters' },
    {
      name: topics.silences,
      partitions: 1,
      cleanupPolicy: 'compact',
      purpose: 'alert silences (compacted)',
    },
  ];
  for (const topic of internal) {
    specs.push({
      name: topic.name,
      partitions: topic.coPartitioned ? partitions : 1,
      cleanupPolicy: topic.compacted ? 'compact' : 'delete',
      purpose: topic.purpose,
      coPartitioned: topic.coPartitioned,
    });
  }
  return specs;
}

/** A topic as it exists on the broker. */
export interface ExistingTopic {
  name: string;
  partitions: number;
  cleanupPolicy?: string;
}

/** What `topics create` will do and what `doctor` complains about. */
export interface TopicReport {
  create: TopicSpec[];
  ok: string[];
  problems: string[];
}

/**
 * Compares the plan with the broker. Partition counts of existing topics are never changed here
 * (adding partitions re-maps keys and breaks per-partition state), only reported.
 */
export function compareTopics(
  plan: TopicSpec[],
  existing: ExistingTopic[],
  topics: TopicCatalog,
): TopicReport {
  const byName = new Map(existing.map((t) => [t.name, t]));
  const report: TopicReport = { create: [], ok: [], problems: [] };
  for (const spec of plan) {
    const found = byName.get(spec.name);
    if (!found) {
      report.create.push(spec);
      continue;
    }
    if (found.cleanupPolicy !== undefined && found.cleanupPolicy !== spec.cleanupPolicy) {
      report.problems.push(
        `topic ${spec.name} has cleanup.policy=${found.cleanupPolicy}, expected ${spec.cleanupPolicy} (${spec.purpose})`,
      );
    } else {
      report.ok.push(spec.name);
    }
  }
  const content = byName.get(topics.contentChanges);
  const sync = byName.get(topics.syncEvents);
  if (content && sync && content.partitions !== sync.partitions) {
    report.problems.push(
      `${topics.contentChanges} has ${content.partitions} partitions but ${topics.syncEvents} has ${sync.partitions}: ` +
        'they must be co-partitioned (same key, same partition count) so one instance sees both sides of a document',
    );
  }
  const inputPartitions = content?.partitions ?? sync?.partitions;
  if (inputPartitions !== undefined) {
    for (const spec of plan) {
      const found = byName.get(spec.name);
      if (found && spec.coPartitioned && found.partitions !== inputPartitions) {
        report.problems.push(
          `${spec.name} has ${found.partitions} partitions but the inputs have ${inputPartitions} (${spec.purpose})`,
        );
      }
    }
  }
  return report;
}
