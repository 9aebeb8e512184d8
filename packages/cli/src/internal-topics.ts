import type { InternalTopic } from '@tidemark/core';
import { contractCheckerTopics } from '@tidemark/contract-checks';

/** Internal topics of every service, for `topics create` and `doctor`. */
export const INTERNAL_TOPICS: readonly InternalTopic[] = [...contractCheckerTopics()];
