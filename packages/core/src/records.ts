// Kafka-shaped records without kafkajs types, so pure packages and the in-process replay share them.

/** Record headers as text; binary header values are decoded as UTF-8 by the host. */
export type RecordHeaders = Record<string, string | undefined>;

/** One consumed record, as a host hands it to a handler. */
export interface InputRecord {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (offsets exceed 2^53 in principle). */
  offset: string;
  /** Broker or producer timestamp, epoch ms as a decimal string. */
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

/** One record a handler wants produced; the host sends it before committing the input's offset. */
export interface OutputRecord {
  topic: string;
  key: string | null;
  value: string | Buffer | null;
  headers?: RecordHeaders;
}
