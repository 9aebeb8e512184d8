import { stateTopic, type InternalTopic } from '@tidemark/core';
import { contractCheckerTopics } from '@tidemark/contract-checks';
import { alertRouterTopics } from '@tidemark/routing';
import { DRIFT_DETECTOR_TOPICS, driftPartialsTopic } from '@tidemark/drift';

/** Internal topics of one service instance (named `name`), for `topics create`, `doctor` and the demo. */
export function internalTopicsFor(service: string, name: string = service): InternalTopic[] {
  switch (service) {
    case 'contract-checker':
      return contractCheckerTopics(name);
    case 'alert-router':
      return alertRouterTopics(name);
    case 'parity-verifier':
      // Parity reads its own changelog as a global table (recent changes across partitions), so the table must
      // exist before the service starts instead of being created by the runtime on first use.
      return [
        {
          name: stateTopic(name),
          compacted: true,
          coPartitioned: true,
          purpose: 'parity-verifier: state changelog, also read as the recent-changes table',
        },
      ];
    case 'drift-detector':
      return DRIFT_DETECTOR_TOPICS.map((t) => ({
        ...t,
        name: t.name.replace(driftPartialsTopic(), driftPartialsTopic(name)),
      }));
    default:
      return [];
  }
}

/** Internal topics of every service under its default name. */
export const INTERNAL_TOPICS: readonly InternalTopic[] = [
  ...internalTopicsFor('contract-checker'),
  ...internalTopicsFor('alert-router'),
  ...internalTopicsFor('drift-detector'),
  ...internalTopicsFor('parity-verifier'),
];
