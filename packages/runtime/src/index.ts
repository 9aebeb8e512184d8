// @tidemark/runtime: the one place that talks to Kafka — hosts a ServiceDefinition as a consumer service.
export { runService, KeyedSerializer } from './service.js';
export type { RunServiceOptions, ServiceHandle } from './service.js';
export { runMain, EXIT_CODES } from './main.js';
export {
  loadRuntimeConfig,
  DEFAULT_RUNTIME_CONFIG,
  TOPIC_ENV_VARS,
  RUNTIME_ENV_VARS,
} from './config.js';
export type { RuntimeConfig, SaslConfig, LogLevel } from './config.js';
export {
  KAFKA_CONNECTION_SETTINGS,
  KAFKA_CONNECTION_VARIABLES,
  KAFKA_CONNECTION_FORMATS,
  SECRET_KAFKA_VARS,
  parseKafkaConnection,
  loadKafkaConnection,
} from './kafka-config.js';
export type {
  KafkaConnection,
  KafkaConnectionSetting,
  KafkaTlsConfig,
  ReadText,
} from './kafka-config.js';
export {
  BROKER_RESTART_RETRY,
  createKafkaClient,
  kafkaAccessError,
  verifyBrokerCertificate,
  KafkaAccessError,
} from './kafka-client.js';
export type { KafkaClientOptions, KafkaAccessKind } from './kafka-client.js';
export { createTopicsReady, TopicsNotReadyError } from './topic-create.js';
export type { CreateTopicsReadyOptions } from './topic-create.js';
export { createLogger, REDACTED_PATHS } from './logger.js';
export type { LoggerOptions } from './logger.js';
export {
  RuntimeMetrics,
  createMetricsSink,
  MetricDefinitionError,
  HANDLER_SECONDS_BUCKETS,
} from './metrics.js';
export { OperationsMetrics, KAFKA_SECONDS_BUCKETS } from './ops-metrics.js';
export type { OperationsProbes } from './ops-metrics.js';
export { assignPartitions, coPartitionedAssigner, CO_PARTITIONED_ASSIGNER } from './assigner.js';
export type { AssignmentMember } from './assigner.js';
export {
  isTransient,
  retryTransient,
  backoffDelay,
  DeliveryError,
  DeliveryAbortedError,
  OutputRejectedError,
  isRebalanceError,
  isRecordRejection,
  kafkaErrorType,
} from './delivery.js';
export type { BackoffOptions, RetryOptions } from './delivery.js';
export {
  handleRecord,
  changelogRecords,
  FutureEventError,
  RecordTimeBudgetError,
  isRetriableRecordError,
} from './processing.js';
export type { HandlingContext, Handled, FutureLimit } from './processing.js';
export { registerCodecs, UndecodableBatchError } from './codecs.js';
export { planBatches } from './produce-batches.js';
export {
  RESERVED_KEY_PREFIX,
  BARRIER_KEY,
  OFFSETS_KEY,
  RESET_KEY,
  checkChangelogIntegrity,
} from './restore.js';
export {
  STATE_FORMAT_HEADER,
  StateFormatError,
  checkStateFormat,
  definitionStateFormat,
  recordStateFormat,
  stateFormatHeaders,
} from './state-format.js';
export type { ChangelogRecord } from './state-format.js';
export { startHttpServer } from './http.js';
export type { HttpServer, HttpEndpoints, Probe } from './http.js';
export { telemetryWanted } from './otel-handle.js';
