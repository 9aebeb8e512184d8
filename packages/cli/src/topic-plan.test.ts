import { describe, expect, it } from 'vitest';
import { resolveTopics } from '@tidemark/core';
import { compareTopics, planTopics } from './topic-plan.js';
import { instancesTopics, resolveInstances } from './service-instances.js';

const topics = resolveTopics();
// Every service under its default name, as `tidemark topics create` plans them without flags.
const services = instancesTopics(resolveInstances([], {}));

describe('planTopics', () => {
  it('plans inputs, outputs, silences and one compacted changelog per service', () => {
    const plan = planTopics(topics, 6, services);
    expect(plan.find((t) => t.name === 'content.changes.v1')).toMatchObject({
      partitions: 6,
      cleanupPolicy: 'delete',
    });
    expect(plan.find((t) => t.name === 'dq.silences.v1')).toMatchObject({
      partitions: 1,
      cleanupPolicy: 'compact',
    });
    expect(
      plan
        .filter((t) => t.name.endsWith('.state'))
        .map((t) => [t.name, t.partitions, t.cleanupPolicy]),
    ).toEqual([
      ['tidemark.contract-checker.state', 6, 'compact'],
      ['tidemark.freshness-monitor.state', 6, 'compact'],
      ['tidemark.parity-verifier.state', 6, 'compact'],
      ['tidemark.drift-detector.state', 6, 'compact'],
      ['tidemark.alert-router.state', 6, 'compact'],
    ]);
  });

  it('adds internal topics: co-partitioned ones with the inputs, tables compacted', () => {
    const plan = planTopics(topics, 4, [
      { name: 'x.partials', compacted: false, coPartitioned: true, purpose: 'p' },
      { name: 'x.table', compacted: true, coPartitioned: false, purpose: 't' },
    ]);
    expect(plan.find((t) => t.name === 'x.partials')).toMatchObject({
      partitions: 4,
      cleanupPolicy: 'delete',
    });
    expect(plan.find((t) => t.name === 'x.table')).toMatchObject({
      partitions: 1,
      cleanupPolicy: 'compact',
    });
  });

  it('honours topic overrides', () => {
    const plan = planTopics(resolveTopics({ findings: 'acme.findings' }), 3);
    expect(plan.map((t) => t.name)).toContain('acme.findings');
    expect(plan.map((t) => t.name)).not.toContain('dq.findings.v1');
  });
});

describe('compareTopics', () => {
  it('creates what is missing and accepts what matches', () => {
    const plan = planTopics(topics, 3, services);
    const report = compareTopics(
      plan,
      [{ name: 'content.changes.v1', partitions: 3, cleanupPolicy: 'delete' }],
      topics,
    );
    expect(report.ok).toEqual(['content.changes.v1']);
    expect(report.create).toHaveLength(plan.length - 1);
    expect(report.problems).toEqual([]);
  });

  it('reports broken co-partitioning, wrong cleanup policy and changelog partition mismatch', () => {
    const plan = planTopics(topics, 3, services);
    const report = compareTopics(
      plan,
      [
        { name: 'content.changes.v1', partitions: 3 },
        { name: 'sync.events.v1', partitions: 6 },
        { name: 'dq.silences.v1', partitions: 1, cleanupPolicy: 'delete' },
        { name: 'tidemark.alert-router.state', partitions: 2, cleanupPolicy: 'compact' },
      ],
      topics,
    );
    expect(report.problems).toEqual([
      'topic dq.silences.v1 has cleanup.policy=delete, expected compact (alert silences (compacted))',
      'content.changes.v1 has 3 partitions but sync.events.v1 has 6: they must be co-partitioned (same key, same partition count) so one instance sees both sides of a document',
      'tidemark.alert-router.state has 2 partitions but the inputs have 3 (alert-router: partition state changelog)',
    ]);
  });
});
