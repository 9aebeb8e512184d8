import { parseFaultPlan, type FaultPlan } from './faults.js';

/**
 * The plan the demo runs: every kind of fault Tidemark checks for, spread over the three example systems, at
 * shares of the run so it fits any run of half a day or more. Kept as YAML text so `tidemark simulate` can print
 * it as a starting point for a custom plan.
 */
export const DEFAULT_FAULTS_YAML = `# Tidemark simulator fault plan: every check of spec/outputs.md (and parity's mass removal and incomplete
# inventory), at least once.
# "at" is an offset from the start of the run: a duration ("2h") or a share of the run ("40%").
name: default
description: >-
  Every kind of fault, spread over confluence, zendesk and gdrive (needs a run of 12 hours or more, and for the
  drift and null-rate checks enough confluence changes per hour to pass their minimum samples).
faults:
  - kind: envelope.invalid        # one record of each form: invalid JSON, not a CloudEvent, unknown type, schema break
    at: 20%
    system: zendesk
    count: 4
  - kind: parity.orphan           # ids in the index inventory that the source never had
    at: 20%
    system: confluence
    count: 3
  - kind: parity.missing          # new documents the index never picks up
    at: 20%
    system: zendesk
    count: 2
  - kind: contract.required       # owner set to null on a new revision
    at: 25%
    system: confluence
    field: owner
    count: 3
  - kind: contract.allowed        # a classification outside the allowed set
    at: 25%
    system: zendesk
    field: classification
    value: top-secret
    count: 2
  - kind: freshness.review-overdue  # a revision whose reviewedAt is two review intervals old
    at: 25%
    system: zendesk
    count: 3
  - kind: contract.rule           # deprecated without naming a successor
    at: 30%
    system: confluence
    count: 2
  - kind: contract.reference      # supersededBy names a document that never existed
    at: 30%
    system: confluence
    count: 2
  - kind: freshness.sync-lag      # revisions the index never applies
    at: 30%
    system: confluence
    count: 3
  - kind: parity.delete-missed    # deletions the index never applies
    at: 30%
    system: gdrive
    count: 2
  - kind: parity.acl-mismatch     # a permission change the index never gets
    at: 30%
    system: zendesk
    count: 2
  - kind: parity.resurrected      # a removed document re-upserted by a stale worker
    at: 35%
    system: confluence
  - kind: contract.schema         # a Confluent-framed record that breaks its registered schema
    at: 35%
    system: confluence
  - kind: contract.null-rate      # owner null on 30% of revisions
    at: 40%
    system: confluence
    field: owner
    share: 0.3
  - kind: drift.categorical       # language flips to "und" on 80% of revisions
    at: 40%
    system: confluence
    field: language
    value: und
    share: 0.8
  - kind: freshness.connector-failing  # three failed runs in a row
    at: 50%
    system: zendesk
    count: 3
  - kind: freshness.connector-silent   # no runs for four hours, then a catch-up
    at: 50%
    system: gdrive
    connector: gdrive-policies
    for: 4h
  - kind: drift.numeric           # bodies shrink to a tenth (broken text extraction)
    at: 50%
    system: confluence
    field: sizeBytes
    factor: 0.1
  - kind: parity.snapshot-incomplete  # the last chunk of an index inventory never arrives
    at: 60%
    system: zendesk
    side: index
  - kind: drift.volume            # change volume drops by 80%
    at: 75%
    system: confluence
    factor: 0.2
  - kind: parity.mass-removal     # the index drops half of the help center within minutes, re-indexes it an hour later
    at: 80%
    system: zendesk
    share: 0.5
    for: 1h
`;

/** The demo's fault plan, parsed. */
export function defaultFaultPlan(): FaultPlan {
  return parseFaultPlan(DEFAULT_FAULTS_YAML, 'default-faults.yaml');
}
