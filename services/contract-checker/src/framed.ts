import {
  JsonDeserializer,
  SchemaRegistryClient,
  SerdeType,
  type Client,
} from '@confluentinc/schemaregistry';
import type { FramedDecoder } from '@tidemark/contract-checks';

/**
 * Decodes Confluent-framed JSON records against the schema registered under their id, validating the
 * payload (a failure becomes a `contract.schema` finding). Production uses the REST client at
 * SCHEMA_REGISTRY_URL; tests pass the library's MockClient.
 */
export function framedDecoder(client: Client): FramedDecoder {
  const deserializer = new JsonDeserializer(client, SerdeType.VALUE, { validate: true });
  return { deserialize: (topic, payload) => deserializer.deserialize(topic, payload) };
}

/** The REST client for SCHEMA_REGISTRY_URL, or undefined when it is not set. */
export function registryClientFromEnv(env: NodeJS.ProcessEnv): Client | undefined {
  const url = env['SCHEMA_REGISTRY_URL'];
  if (!url) return undefined;
  const user = env['SCHEMA_REGISTRY_USERNAME'];
  const password = env['SCHEMA_REGISTRY_PASSWORD'];
  return SchemaRegistryClient.newClient({
    baseURLs: [url],
    ...(user && password
      ? {
          basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: `${user}:${password}` },
        }
      : {}),
  });
}
