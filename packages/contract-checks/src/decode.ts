// From a Kafka record to a contract-checker event: plain JSON CloudEvents (nearly every record) are parsed
// synchronously; Schema Registry framed ones are deserialized by the registry, and a payload that fails its
// registered schema becomes a `contract.schema` finding plus a dead letter instead of an event.
import {
  buildFinding,
  createEnvelopeParser,
  dlqRecord,
  EnvelopeError,
  formatTime,
  safeErrorText,
  type ContentDeletedEvent,
  type ContentUpsertedEvent,
  type HandlerContext,
  type InputRecord,
  type OutputRecord,
} from '@tidemark/core';
import { emit, type CheckerContext } from './context.js';
import { ownerOf } from './findings.js';
import {
  NULL_RATE_PARTIAL_TYPE,
  NullRatePartialEventSchema,
  type NullRatePartial,
} from './null-rate.js';
import { schemaRegistryOutage } from './registry.js';

/** A framed record whose payload fails its registered schema; becomes a `contract.schema` finding and a dead letter. */
export interface SchemaViolation {
  type: 'tidemark.schema-violation';
  error: Error;
}

/** Events the contract checker handles. */
export type ContractCheckerEvent =
  | ContentUpsertedEvent
  | ContentDeletedEvent
  | { type: typeof NULL_RATE_PARTIAL_TYPE; time: string; data: NullRatePartial }
  | SchemaViolation;

/** Decodes Confluent-framed payloads (magic byte 0 + schema id); returns the object or throws the validation error. */
export interface FramedDecoder {
  deserialize(topic: string, payload: Buffer): Promise<unknown>;
}

/** Decodes one record: synchronously for JSON records, a promise for Schema Registry framed ones. */
export type ContractCheckerDecode = (
  record: InputRecord,
) => ContractCheckerEvent | Promise<ContractCheckerEvent>;

/** The contract checker's decoder; without `framed`, framed records are rejected (and go to the DLQ). */
export function createContractCheckerDecoder(
  framed: FramedDecoder | undefined,
): ContractCheckerDecode {
  const parser = createEnvelopeParser<ContractCheckerEvent>({
    extraTypes: { [NULL_RATE_PARTIAL_TYPE]: NullRatePartialEventSchema },
  });

  async function decodeFramed(record: InputRecord, value: Buffer): Promise<ContractCheckerEvent> {
    if (!framed) {
      throw new EnvelopeError(
        'invalid-json',
        'record is Schema Registry framed but no SCHEMA_REGISTRY_URL is configured',
      );
    }
    let payload: unknown;
    try {
      payload = await framed.deserialize(record.topic, value);
    } catch (error) {
      // A registry outage is not bad data: the host retries the record once the registry is back.
      const outage = schemaRegistryOutage(error);
      if (outage) throw outage;
      return { type: 'tidemark.schema-violation', error: error as Error };
    }
    return parser.validate(payload);
  }

  return function decode(
    record: InputRecord,
  ): ContractCheckerEvent | Promise<ContractCheckerEvent> {
    const value = record.value;
    if (value && value.length > 5 && value[0] === 0) return decodeFramed(record, value);
    // Plain JSON, nearly every record: decoded synchronously, so the host makes no promise per record.
    return parser.parse(record);
  };
}

/** The dead letter and the `contract.schema` finding of a framed record that fails its registered schema. */
export function schemaViolation(
  checker: CheckerContext,
  event: SchemaViolation,
  record: InputRecord,
  ctx: HandlerContext,
): OutputRecord[] {
  const system = record.key?.split('/')[0] || 'unknown';
  const docId = record.key?.includes('/') ? record.key.slice(system.length + 1) : undefined;
  const finding = buildFinding({
    check: 'contract.schema',
    status: 'firing',
    severity: 'high',
    subject: { system, ...(docId ? { docId } : {}), field: record.topic },
    owner: ownerOf(checker.contracts.settingsFor(system), undefined),
    // The registry's text may quote the record: only safe text (class, or our own field/rule wording).
    summary: `record on ${record.topic} fails its registered schema: ${safeErrorText(event.error).slice(0, 200)}`,
    evidence: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      error: safeErrorText(event.error),
    },
    observedAt: formatTime(ctx.now),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  });
  return [
    dlqRecord({ record, error: event.error, service: checker.name, topics: ctx.topics }),
    emit(checker, finding, ctx),
  ];
}
