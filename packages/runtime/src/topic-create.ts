import type { Admin, ITopicConfig } from 'kafkajs';

/** Options of createTopicsReady. */
export interface CreateTopicsReadyOptions {
  /** How long to wait for every partition to have a leader in metadata. @default 30000 */
  readonly timeoutMs?: number;
  /** Time between metadata reads. @default 100 */
  readonly pollMs?: number;
}

/** Thrown when the created topics do not show every partition with a leader in time. */
export class TopicsNotReadyError extends Error {
  override readonly name = 'TopicsNotReadyError';
  constructor(
    readonly topics: readonly string[],
    readonly timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    super(
      `topics ${topics.join(', ')} were created but do not all have partition leaders after ${timeoutMs} ms` +
        (lastError instanceof Error ? ` (last metadata error: ${lastError.message})` : ''),
    );
  }
}

/**
 * Creates the topics that do not exist yet and returns once every partition of each has a leader in metadata; true
 * when at least one was new, false when all existed. Every place that creates topics uses it instead of kafkajs' `waitForLeaders`:
 * that wait retries only LEADER_NOT_AVAILABLE, but KRaft publishes a new topic to the broker's metadata cache a
 * moment after CreateTopics returns, so it can fail with UNKNOWN_TOPIC_OR_PARTITION ("This server does not host
 * this topic-partition") although the topics were created — seen in CI on a busy 2-core host.
 */
export async function createTopicsReady(
  admin: Admin,
  topics: readonly ITopicConfig[],
  { timeoutMs = 30_000, pollMs = 100 }: CreateTopicsReadyOptions = {},
): Promise<boolean> {
  // Topics that exist are not asked for again: the broker's TOPIC_ALREADY_EXISTS reaches the logs as a kafkajs
  // ERROR line ("Topic creation errors") on every start of a service whose changelog is there.
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  const created =
    missing.length > 0 && (await admin.createTopics({ topics: missing, waitForLeaders: false }));
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      if (names.every((name) => hasLeaders(found, name))) return created;
    } catch (error) {
      // UNKNOWN_TOPIC_OR_PARTITION / LEADER_NOT_AVAILABLE until the metadata cache has the topics.
      lastError = error;
    }
    if (Date.now() >= deadline) throw new TopicsNotReadyError(names, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function hasLeaders(
  found: ReadonlyArray<{ name: string; partitions: ReadonlyArray<{ leader: number }> }>,
  name: string,
): boolean {
  // KRaft publishes a topic with all its partitions at once. An existing topic with another partition count is
  // the caller's to report (a changelog mismatch, `topics doctor`).
  const topic = found.find((t) => t.name === name);
  return (
    topic !== undefined &&
    topic.partitions.length > 0 &&
    topic.partitions.every((p) => p.leader >= 0)
  );
}
