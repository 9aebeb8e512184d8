import type { InternalTopic } from '@tidemark/core';
import { CONTRACT_CHECKER_TOPICS } from '@tidemark/contract-checks';

/** Internal topics of every service, for `topics create` and `doctor`. */
export const INTERNAL_TOPICS: readonly InternalTopic[] = [...CONTRACT_CHECKER_TOPICS];
