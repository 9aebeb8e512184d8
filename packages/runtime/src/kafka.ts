import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { registerCodecs } from './codecs.js';
import type { RuntimeConfig } from './config.js';
import { createKafkaClient } from './kafka-client.js';

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
    // kafkajs' own retries must outlast a broker restart: the consumer cannot be restarted in-process
    // (tulios/kafkajs#1529), so when the connect retries under it run out it crashes and the service exits.
    // 8 retries capped at 10 s gave up after ~23 s, less than a broker takes to restart on a busy host (27–55 s
    // measured); 10 from 300 ms capped at 30 s ride out ~2 min. Produce and commit retry longer still (delivery.ts).
    retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 30_000 },
  });
}
