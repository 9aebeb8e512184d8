import { resolveTopics } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { topicOverridesFromEnv } from './topic-env.js';

describe('topicOverridesFromEnv', () => {
  it('takes the set TOPIC_* variables, as the services do, and leaves the rest at their defaults', () => {
    const overrides = topicOverridesFromEnv({
      TOPIC_CONTENT_CHANGES: 'acme.content.v1',
      TOPIC_DLQ: 'acme.dlq.v1',
      TOPIC_FINDINGS: '',
      KAFKA_BROKERS: 'x:9092',
    });
    expect(overrides).toEqual({ contentChanges: 'acme.content.v1', dlq: 'acme.dlq.v1' });
    const catalog = resolveTopics(overrides);
    expect([catalog.contentChanges, catalog.dlq, catalog.syncEvents]).toEqual([
      'acme.content.v1',
      'acme.dlq.v1',
      'sync.events.v1',
    ]);
  });
});
