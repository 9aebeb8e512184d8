import type { InternalTopic } from '@tidemark/core';
import { contractCheckerTopics } from '@tidemark/contract-checks';
import { parityVerifierTopics } from '@tidemark/parity';
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
      return parityVerifierTopics(name);
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
