// Shared by the contract-checker broker tests: a confluence runbook revision as a connector writes it, and the
// topics one contract-checker instance reads and writes.
import { contractCheckerTopics } from '@tidemark/contract-checks';
import { createTopics, unique } from '../runtime/helpers.js';

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

/** Topics of one contract-checker named `<prefix>-…`: input, findings, DLQ, and its own internal topics. */
export async function checkerTopics(prefix: string, partitions: number) {
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
