// Shared by the contract-checker broker tests: a confluence runbook revision as a connector writes it, the
// topics one contract-checker instance reads and writes, and a host that runs checkers in-process.
import { resolveTopics } from '@tidemark/core';
import { contractCheckerTopics, createContractCheckerService } from '@tidemark/contract-checks';
import type { ContractCheckerOptions } from '@tidemark/contract-checks';
import { runService } from '@tidemark/runtime';
import type { ServiceHandle } from '@tidemark/runtime';
import { afterAll } from 'vitest';
import { BROKERS, closeProducer, createTopics, unique } from '../runtime/helpers.js';

/** A `content.upserted` CloudEvent of a confluence runbook that satisfies its contract unless `data` breaks it. */
export function runbook(
  docId: string,
  revision: number,
  data: Record<string, unknown> = {},
  time = new Date().toISOString(),
) {
  return {
    specversion: '1.0',
    id: `${docId}-r${revision}`,
    source: 'connector/confluence-prod',
    type: 'content.upserted',
    time,
    subject: `confluence/${docId}`,
    data: {
      system: 'confluence',
      docId,
      revision,
      contentClass: 'runbook',
      title: `Runbook ${docId}`,
      owner: 'sre@example.com',
      classification: 'internal',
      reviewedAt: time,
      deprecated: false,
      attributes: { space: 'OPS', service: 'search' },
      ...data,
    },
  };
}

/** One contract-checker's name and the topics it reads and writes. */
export interface CheckerTopics {
  readonly name: string;
  readonly topics: { readonly content: string; readonly findings: string; readonly dlq: string };
}

/** Topics of one contract-checker named `<prefix>-…`: input, findings, DLQ, and its own internal topics. */
export async function checkerTopics(prefix: string, partitions: number): Promise<CheckerTopics> {
  const name = unique(prefix);
  const topics = {
    content: unique(`${prefix}-content`),
    findings: unique(`${prefix}-findings`),
    dlq: unique(`${prefix}-dlq`),
  };
  const [nullRates, documents] = contractCheckerTopics(name);
  await createTopics([topics.content, topics.findings, topics.dlq, nullRates!.name], partitions);
  await createTopics([documents!.name], 1, true);
  return { name, topics };
}

/**
 * Runs contract-checkers in-process with the runtime (so a test can hand one a mock Schema Registry): `run`
 * starts one named and wired by `checkerTopics`, with its own group and `tick` as its TICK_SCHEDULE. Every
 * checker it started is stopped, and the shared producer closed, after the tests of the file (or describe)
 * that called it.
 */
export function checkerHost(): {
  run(
    checker: CheckerTopics,
    tick: string,
    options: Omit<ContractCheckerOptions, 'topics' | 'name'>,
  ): Promise<ServiceHandle>;
} {
  const handles: ServiceHandle[] = [];
  afterAll(async () => {
    for (const h of handles) await h.stop('test over');
    await closeProducer();
  });
  return {
    async run({ name, topics }, tick, options) {
      const definition = createContractCheckerService({
        ...options,
        topics: resolveTopics({
          contentChanges: topics.content,
          findings: topics.findings,
          dlq: topics.dlq,
        }),
        name,
      });
      const handle = await runService(definition, {
        env: {
          KAFKA_BROKERS: BROKERS.join(','),
          KAFKA_GROUP_ID: unique(`${name}-group`),
          TOPIC_CONTENT_CHANGES: topics.content,
          TOPIC_FINDINGS: topics.findings,
          TOPIC_DLQ: topics.dlq,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
          TICK_SCHEDULE: tick,
        },
        handleSignals: false,
        exit: () => undefined,
      });
      handles.push(handle);
      return handle;
    },
  };
}
