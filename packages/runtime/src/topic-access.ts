// Does this principal hold the ACLs the service needs on its topics? Asked at start, so a missing WRITE on an
// output topic stops the service at once with the topic and the operation named — not at the first record
// that happens to need that topic, possibly hours later, after the inputs were read.
//
// Kafka answers this for any principal, without the DESCRIBE on the cluster that DescribeAcls needs: a Metadata
// request of version 8 or later with include_topic_authorized_operations (KIP-430) returns, per topic, the
// operations the caller is authorized for. kafkajs's metadata stops at version 6, so the request is encoded
// here with kafkajs's own protocol encoder and sent over the client's own authenticated connection. It reads
// only metadata: nothing is produced, no transaction opened, no marker written to an output topic.
import Decoder from 'kafkajs/src/protocol/decoder.js';
import Encoder from 'kafkajs/src/protocol/encoder.js';
import type { Kafka } from 'kafkajs';
import { KafkaAccessError } from './kafka-client.js';
import type { KafkaConnection } from './kafka-config.js';

/** The Kafka ACL operations a service needs on a topic, with their AclOperation codes (bit positions). */
export const TOPIC_OPERATIONS = { READ: 3, WRITE: 4 } as const;

/** An ACL operation on a topic. */
export type TopicOperation = keyof typeof TOPIC_OPERATIONS;

/** One permission the service needs: `operation` on `topic`, for `role` (named in the error). */
export interface TopicRequirement {
  topic: string;
  operation: TopicOperation;
  /** What the topic is to the service, e.g. `output` or `dead-letter (TOPIC_DLQ)`. */
  role: string;
}

/** What the broker said about one topic. */
export interface TopicAccess {
  /** Kafka error code of the topic in the answer (0: none; 29: TOPIC_AUTHORIZATION_FAILED). */
  errorCode: number;
  /** Bit field of the authorized AclOperation codes; undefined when the broker did not compute it. */
  authorizedOperations: number | undefined;
}

const METADATA_API_KEY = 3;
const METADATA_VERSION = 8;
// What a broker sends for topic_authorized_operations when it did not compute them (Integer.MIN_VALUE).
const OPERATIONS_OMITTED = -2147483648;
const TOPIC_AUTHORIZATION_FAILED = 29;

/**
 * The requirements the broker's answer does not grant, one line each ("WRITE on dq.dlq.v1 (dead-letter)").
 * A topic the broker did not compute operations for is not judged (an old broker; the first use will tell).
 */
export function missingTopicAccess(
  access: ReadonlyMap<string, TopicAccess>,
  required: readonly TopicRequirement[],
): string[] {
  const missing: string[] = [];
  for (const { topic, operation, role } of required) {
    const answer = access.get(topic);
    if (!answer) continue;
    const denied =
      answer.errorCode === TOPIC_AUTHORIZATION_FAILED ||
      (answer.authorizedOperations !== undefined &&
        (answer.authorizedOperations & (1 << TOPIC_OPERATIONS[operation])) === 0);
    if (denied) missing.push(`${operation} on ${topic} (${role})`);
  }
  return missing;
}

/** The one-line refusal for the permissions `missing` (as missingTopicAccess lists them); never the password. */
export function topicAccessError(
  missing: readonly string[],
  connection: Pick<KafkaConnection, 'brokers' | 'sasl'>,
): KafkaAccessError {
  const who = connection.sasl ? `user "${connection.sasl.username}"` : 'this client';
  return new KafkaAccessError(
    'authorization',
    `Kafka at ${connection.brokers.join(',')} does not allow ${who} ${missing.join(', ')} (topic ACL): grant the ACL or use another principal`,
  );
}

/** Encodes a Metadata v8 request body asking for the caller's authorized operations on `topics`. */
export function encodeAuthorizedOperationsRequest(topics: readonly string[]): Encoder {
  return new Encoder()
    .writeArray([...topics])
    .writeBoolean(false) // allow_auto_topic_creation
    .writeBoolean(false) // include_cluster_authorized_operations
    .writeBoolean(true); // include_topic_authorized_operations
}

/** Decodes a Metadata v8 response into each topic's error code and authorized operations. */
export function decodeAuthorizedOperationsResponse(payload: Buffer): Map<string, TopicAccess> {
  const d = new Decoder(payload);
  d.readInt32(); // throttle_time_ms
  d.readArray((b) => {
    b.readInt32(); // node_id
    b.readString(); // host
    b.readInt32(); // port
    b.readString(); // rack
  });
  d.readString(); // cluster_id
  d.readInt32(); // controller_id
  const access = new Map<string, TopicAccess>();
  d.readArray((t) => {
    const errorCode = t.readInt16();
    const name = t.readString() ?? '';
    t.readBoolean(); // is_internal
    t.readArray((p) => {
      p.readInt16(); // error_code
      p.readInt32(); // partition_index
      p.readInt32(); // leader_id
      p.readInt32(); // leader_epoch
      p.readArray((r) => r.readInt32()); // replica_nodes
      p.readArray((r) => r.readInt32()); // isr_nodes
      p.readArray((r) => r.readInt32()); // offline_replicas
    });
    const operations = t.readInt32();
    access.set(name, {
      errorCode,
      authorizedOperations: operations === OPERATIONS_OMITTED ? undefined : operations,
    });
  });
  return access;
}

// The parts of kafkajs's (untyped) cluster that the request needs.
interface InternalBroker {
  connectionPool: { send(request: unknown): Promise<unknown> };
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: {
    seedBroker?: InternalBroker;
    versions?: Record<number, { minVersion: number; maxVersion: number }> | null;
  };
}

// kafkajs keeps its cluster factory behind a symbol; using it gives a connection with exactly the client's
// TLS, SASL and retry settings (a second hand-built connection could differ from the one the service uses).
function createCluster(kafka: Kafka): InternalCluster {
  const key = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  const factory = key && (kafka as unknown as Record<symbol, unknown>)[key];
  if (typeof factory !== 'function')
    throw new Error('kafkajs has no cluster factory: the topic ACL check needs kafkajs 2.2');
  return (factory as (options: object) => InternalCluster)({ allowAutoTopicCreation: false });
}

/**
 * Asks the cluster which operations this client's principal may perform on `topics`. Undefined when the broker
 * cannot say (no Metadata v8: Kafka before 2.3). Connection and login errors are thrown as kafkajs throws them.
 */
export async function describeTopicAccess(
  kafka: Kafka,
  topics: readonly string[],
): Promise<Map<string, TopicAccess> | undefined> {
  const cluster = createCluster(kafka);
  await cluster.connect();
  try {
    const range = cluster.brokerPool.versions?.[METADATA_API_KEY];
    const broker = cluster.brokerPool.seedBroker;
    if (!broker || !range || range.maxVersion < METADATA_VERSION) return undefined;
    return (await broker.connectionPool.send({
      request: {
        apiKey: METADATA_API_KEY,
        apiVersion: METADATA_VERSION,
        apiName: 'Metadata',
        encode: () => Promise.resolve(encodeAuthorizedOperationsRequest(topics)),
      },
      response: {
        decode: (payload: Buffer) => Promise.resolve(decodeAuthorizedOperationsResponse(payload)),
        parse: (access: Map<string, TopicAccess>) => Promise.resolve(access),
      },
    })) as Map<string, TopicAccess>;
  } finally {
    await cluster.disconnect();
  }
}
