import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopicsReady, TopicsNotReadyError } from './topic-create.js';

type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/** An admin whose metadata answers are scripted in order (the last one repeats). */
function scriptedAdmin(
  created: boolean,
  answers: Array<Metadata | Error>,
  existing: string[] = [],
) {
  const calls = { create: [] as unknown[], metadata: 0 };
  const admin = {
    listTopics: async () => existing,
    createTopics: async (req: unknown) => {
      calls.create.push(req);
      return created;
    },
    fetchTopicMetadata: async () => {
      const answer = answers[Math.min(calls.metadata++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Admin;
  return { admin, calls };
}

const topic = (name: string, leaders: number[]) => ({
  name,
  partitions: leaders.map((leader, partitionId) => ({
    partitionId,
    leader,
    replicas: [],
    isr: [],
    offlineReplicas: [],
    partitionErrorCode: 0,
  })),
});

describe('createTopicsReady', () => {
  it('waits through UNKNOWN_TOPIC_OR_PARTITION and leaderless partitions instead of failing', async () => {
    const unknown = Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    const { admin, calls } = scriptedAdmin(true, [
      unknown,
      { topics: [topic('a', [0, -1]), topic('b', [0, 0])] },
      { topics: [topic('a', [0, 0]), topic('b', [0, 0])] },
    ]);
    const created = await createTopicsReady(
      admin,
      [
        { topic: 'a', numPartitions: 2 },
        { topic: 'b', numPartitions: 2 },
      ],
      { pollMs: 1 },
    );
    expect(created).toBe(true);
    expect(calls.metadata).toBe(3);
    // kafkajs' own wait (which gives up on UNKNOWN_TOPIC_OR_PARTITION) is never asked for.
    expect(calls.create).toEqual([
      {
        topics: [
          { topic: 'a', numPartitions: 2 },
          { topic: 'b', numPartitions: 2 },
        ],
        waitForLeaders: false,
      },
    ]);
  });

  it('asks only for the topics that do not exist; false when every topic existed', async () => {
    const some = scriptedAdmin(true, [{ topics: [topic('a', [0]), topic('b', [0])] }], ['a']);
    await expect(createTopicsReady(some.admin, [{ topic: 'a' }, { topic: 'b' }])).resolves.toBe(
      true,
    );
    expect(some.calls.create).toEqual([{ topics: [{ topic: 'b' }], waitForLeaders: false }]);
    // Nothing to create: no CreateTopics request at all (its TOPIC_ALREADY_EXISTS is a kafkajs ERROR log line).
    const all = scriptedAdmin(true, [{ topics: [topic('a', [0, 0, 0])] }], ['a']);
    await expect(createTopicsReady(all.admin, [{ topic: 'a', numPartitions: 3 }])).resolves.toBe(
      false,
    );
    expect(all.calls.create).toEqual([]);
  });

  it('names the topics and the last metadata error when leaders never appear', async () => {
    const { admin } = scriptedAdmin(true, [
      new Error('This server does not host this topic-partition'),
    ]);
    const failure = createTopicsReady(admin, [{ topic: 'a' }], { timeoutMs: 20, pollMs: 5 });
    await expect(failure).rejects.toBeInstanceOf(TopicsNotReadyError);
    await expect(failure).rejects.toThrow(
      'topics a were created but do not all have partition leaders after 20 ms (last metadata error: This server does not host this topic-partition)',
    );
  });
});
