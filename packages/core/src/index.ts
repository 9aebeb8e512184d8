// @tidemark/core: the shared, pure vocabulary of Tidemark — events, records, topics, ids, time, outputs, state.
export {
  TidemarkError,
  EnvelopeError,
  ConfigError,
  DependencyUnavailableError,
  describeError,
  safeErrorText,
} from './errors.js';
export type { EnvelopeErrorReason } from './errors.js';
export {
  systemClock,
  ManualClock,
  parseTime,
  formatTime,
  parseDuration,
  formatDuration,
} from './time.js';
export type { Clock } from './time.js';
export { canonicalJson, fingerprint } from './ids.js';
export {
  EVENT_TYPES,
  eventSchemas,
  CloudEventAttributesSchema,
  ContentUpsertedDataSchema,
  ContentDeletedDataSchema,
  IndexDataSchema,
  ConnectorRunDataSchema,
  InventorySnapshotDataSchema,
  FindingDataSchema,
  ContentUpsertedEventSchema,
  ContentDeletedEventSchema,
  IndexUpsertedEventSchema,
  IndexRemovedEventSchema,
  ConnectorRunEventSchema,
  InventorySnapshotEventSchema,
  FindingEventSchema,
  AlertDataSchema,
  AlertEventSchema,
} from './events.js';
export type {
  CloudEvent,
  CloudEventAttributes,
  ContentUpsertedData,
  ContentDeletedData,
  IndexData,
  ConnectorRunData,
  InventorySnapshotData,
  ContentUpsertedEvent,
  ContentDeletedEvent,
  IndexUpsertedEvent,
  IndexRemovedEvent,
  ConnectorRunEvent,
  InventorySnapshotEvent,
  FindingEvent,
  ContentEvent,
  SyncEvent,
  InputEvent,
} from './events.js';
export { createEnvelopeParser, parseEnvelope, DEFAULT_ENVELOPE_LIMITS } from './envelope.js';
export type {
  EnvelopeLimits,
  EnvelopeInput,
  EnvelopeParser,
  EnvelopeParserOptions,
  AnyCloudEvent,
} from './envelope.js';
export type { RecordHeaders, InputRecord, OutputRecord } from './records.js';
export {
  CLOUDEVENTS_CONTENT_TYPE,
  CONTENT_TYPE_HEADER,
  isStructuredCloudEvent,
} from './content-type.js';
export { DEFAULT_TOPICS, resolveTopics, stateTopic, topicRoleForEventType } from './topics.js';
export type { TopicRole, TopicCatalog, InternalTopic } from './topics.js';
export { INITIAL_STATE_FORMAT, instanceTopics } from './topology.js';
export type { ServiceTopology } from './topology.js';
export {
  SEVERITY_RANK,
  EVIDENCE_LIMITS,
  DLQ_HEADERS,
  findingFingerprint,
  buildFinding,
  findingRecord,
  alertRecord,
  ALERT_REFRESH_BY_HEADER,
  ticketRecord,
  dlqRecord,
  outputDlqRecord,
  declaredClassification,
  DLQ_VALUE_WITHHELD_HEADER,
  envelopeInvalidFinding,
  ENVELOPE_INVALID_QUIET_MS,
} from './outputs.js';
export type {
  DlqRestrictedPolicy,
  Severity,
  FindingStatus,
  FindingSubject,
  FindingOwner,
  Finding,
  FindingInput,
  OutputOptions,
  Alert,
  TicketItem,
  Ticket,
} from './outputs.js';
export {
  OTHER_LABEL_VALUE,
  UNKNOWN_LABEL_VALUE,
  EMPTY_LABEL_VOCABULARY,
  MetricLabelBounds,
} from './metric-labels.js';
export type { LabelVocabulary, SourceLabels } from './metric-labels.js';
export { KeyValueState } from './state.js';
export type { PartitionState, StateChange } from './state.js';
export { noopMetrics } from './service.js';
export type {
  HandlerContext,
  ServiceDefinition,
  MetricDefinition,
  MetricsSink,
  GlobalTable,
} from './service.js';
export { DeadlineQueue } from './deadline-queue.js';
export type { DeadlineEntry } from './deadline-queue.js';
export {
  processRecord,
  deadLetterOutputs,
  checkOutputs,
  checkNotFuture,
  isRetriableRecordError,
  isPromiseLike,
  FutureEventError,
  OutputRecordError,
} from './handling.js';
export type {
  RecordProcessing,
  RecordTrace,
  RecordChecks,
  Handled,
  FutureLimit,
} from './handling.js';
