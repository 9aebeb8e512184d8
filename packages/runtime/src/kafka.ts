import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { registerCodecs } from './codecs.js';
import type { RuntimeConfig } from './config.js';
import { BROKER_RESTART_RETRY, createKafkaClient } from './kafka-client.js';

/** A kafkajs client for the configured cluster, logging through pino (component "kafkajs"), with every codec. */
export function createKafka(config: RuntimeConfig, logger: Logger): Kafka {
  // Input may be compressed with any codec a producer (or the broker's compression.type) chose.
  registerCodecs();
  const { brokers, ssl, sasl, clientId } = config.kafka;
  return createKafkaClient({
    connection: { brokers, ssl, ...(sasl ? { sasl } : {}) },
    clientId,
    logger,
    logLevel: config.logLevel,
    // kafkajs' own retries must outlast a broker restart. Produce and commit retry longer still (delivery.ts).
    retry: BROKER_RESTART_RETRY,
  });
}
