// The contract checker's own metrics: state sizes set on every tick, and the shadow candidate's comparisons.
import type { MetricDefinition } from '@tidemark/core';

/** Gauge: documents a partition holds. */
export const DOCUMENTS_METRIC = 'tidemark_contract_documents';
/** Counter: revisions judged by both the enforced contract and the candidate. */
export const SHADOW_REVISIONS_METRIC = 'tidemark_contract_shadow_revisions_total';
/** Counter: violations of compared revisions, by side. */
export const SHADOW_VIOLATIONS_METRIC = 'tidemark_contract_shadow_violations_total';
/** Counter: `contract.shadow-diff` findings emitted. */
export const SHADOW_DIFFS_METRIC = 'tidemark_contract_shadow_diffs_total';
/** Gauge: documents in the global document registry. */
export const REGISTRY_METRIC = 'tidemark_contract_registry_documents';

/** The contract checker's own metrics (state size: the runtime adds `tidemark_state_entries` for every store). */
export const CONTRACT_CHECKER_METRICS: readonly MetricDefinition[] = [
  {
    name: DOCUMENTS_METRIC,
    help: 'Documents the partition holds (live and deleted ones within their retention), set on every tick',
    kind: 'gauge',
    labelNames: ['partition'],
  },
  {
    name: SHADOW_REVISIONS_METRIC,
    help: "Revisions judged by both a system's enforced contract and its shadow candidate",
    kind: 'counter',
    labelNames: ['system'],
  },
  {
    name: SHADOW_VIOLATIONS_METRIC,
    help: 'Violations of compared revisions per check and rule (field or rule name), by side: candidate (only), enforced (only), both',
    kind: 'counter',
    labelNames: ['system', 'check', 'rule', 'side'],
  },
  {
    name: SHADOW_DIFFS_METRIC,
    help: 'contract.shadow-diff findings emitted, by status (firing: the candidate and the enforced contract disagreed in the period)',
    kind: 'counter',
    labelNames: ['system', 'status'],
  },
  {
    name: REGISTRY_METRIC,
    help: 'Documents in the global document registry this instance reads, set on every tick',
    kind: 'gauge',
    labelNames: [],
  },
];
