import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { registerCodecs } from './codecs.js';
import type { RuntimeConfig } from './config.js';

// kafkajs logs every rebalance step at ERROR; below WARN it is noise unless someone asks for debug.
function kafkaLogLevel(level: RuntimeConfig['logLevel']): logLevel {
  if (level === 'trace') return logLevel.DEBUG;
  if (level === 'debug') return logLevel.INFO;
  if (level === 'silent') return logLevel.NOTHING;
  return logLevel.WARN;
}

/** A kafkajs client for the configured cluster, logging through pino (component "kafkajs"), with every codec. */
export function createKafka(config: RuntimeConfig, logger: Logger): Kafka {
  // Input may be compressed with any codec a producer (or the broker's compression.type) chose.
  registerCodecs();
  const log = logger.child({ component: 'kafkajs' });
  const kafkaConfig: KafkaConfig = {
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    ssl: config.kafka.ssl,
    logLevel: kafkaLogLevel(config.logLevel),
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        const method =
          level === logLevel.ERROR
            ? 'error'
            : level === logLevel.WARN
              ? 'warn'
              : level === logLevel.INFO
                ? 'info'
                : 'debug';
        log[method](fields, message);
      },
    // kafkajs' own retries cover a blip; the runtime retries longer outages itself (see delivery.ts).
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 10_000 },
  };
  if (config.kafka.sasl) {
    const { mechanism, username, password } = config.kafka.sasl;
    kafkaConfig.sasl = { mechanism, username, password } as KafkaConfig['sasl'];
  }
  return new Kafka(kafkaConfig);
}
