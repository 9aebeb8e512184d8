// The Kafka `content-type` header of structured-mode CloudEvents. The CloudEvents Kafka protocol binding tells a
// structured message from a binary one by this header alone (binary mode uses `ce_*` headers), so a consumer that
// follows the binding, e.g. the CloudEvents SDKs' Kafka readers, needs it on every structured event we write.

/** The `content-type` of a structured-mode CloudEvent in JSON (CloudEvents Kafka protocol binding, structured content mode). */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/** Name of the Kafka header that carries it (lower case, as the binding spells it). */
export const CONTENT_TYPE_HEADER = 'content-type';

// Every structured CloudEvent Tidemark writes is `JSON.stringify({ specversion: '1.0', ... })`, so its text starts
// with this. Checking the prefix costs nothing per output, where parsing would double the cost of an output.
const STRUCTURED_PREFIX = '{"specversion":';

/**
 * Whether an output value is a structured-mode CloudEvent Tidemark serialized itself: a string starting with the
 * `specversion` attribute. Buffers are never one: they are bytes passed through (a dead letter's original value).
 */
export function isStructuredCloudEvent(value: string | Buffer | null): value is string {
  return typeof value === 'string' && value.startsWith(STRUCTURED_PREFIX);
}
