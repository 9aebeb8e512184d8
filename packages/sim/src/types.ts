/** One simulated Kafka record: what a producer would send, at the event time it would send it. */
export interface SimRecord {
  topic: string;
  /** `<system>/<docId>` for document events, `<connector>` for runs, `<system>` for inventories. */
  key: string;
  /** Kafka headers: `traceparent`, and the `ce_*` attributes of binary-mode records. */
  headers?: Record<string, string>;
  /** The record value: CloudEvent JSON (structured mode), `data` JSON (binary mode), or deliberately broken bytes. */
  value: string;
  /** `base64` when `value` holds binary bytes in base64 (Confluent-framed records); absent for text. */
  encoding?: 'base64';
  /** Epoch ms: the record's timestamp, non-decreasing along the stream. */
  time: number;
}

/** What a fault is about, in the terms of a finding's subject (spec/outputs.md). */
export interface TruthSubject {
  system: string;
  docId?: string;
  connector?: string;
  field?: string;
  feature?: string;
}

/** One injected fault (or one of its expected consequences) the checks should report. */
export interface TruthEntry {
  /** The check id that should fire. */
  check: string;
  subject: TruthSubject;
  /** RFC 3339: when the fault became real in the stream (the faulty event, or the start of an outage). */
  injectedAt: string;
  /**
   * RFC 3339: the earliest time a correct check can decide (after its SLA, window or snapshot); absent when
   * nothing in this run lets a check decide.
   */
  detectableAt?: string;
  /**
   * A consequence of another fault that a check may report (e.g. sync lag during a connector outage): a
   * matching finding is no false positive, and a missing one is no miss.
   */
  optional?: boolean;
  /**
   * Subject keys this entry deliberately leaves open: it covers findings with any value there (e.g. `docId` for
   * "any document of the system" during a connector outage). Scoring is strict otherwise: a key this entry names
   * must be on the finding with the same value, and a key the finding has must be named here.
   */
  covers?: Array<keyof TruthSubject>;
  /** Index of the fault in the plan that caused it. */
  fault: number;
  /** Facts for the reader: form, field values, rule names. */
  detail?: Record<string, unknown>;
}
