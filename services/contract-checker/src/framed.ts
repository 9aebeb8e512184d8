// Deep imports: the package index also loads every KMS driver (AWS, Azure, GCP, Vault), which a JSON
// deserializer does not need and which slows start-up.
import { JsonDeserializer } from '@confluentinc/schemaregistry/dist/serde/json.js';
import { SerdeType } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import {
  SchemaRegistryClient,
  type Client,
} from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import type { FramedDecoder } from '@tidemark/contract-checks';
import { fullFormats } from 'ajv-formats/dist/formats.js';

/**
 * Decodes Confluent-framed JSON records against the schema registered under their id, validating the
 * payload (a failure becomes a `contract.schema` finding). Production uses the REST client at
 * SCHEMA_REGISTRY_URL; tests pass the library's MockClient.
 */
export function framedDecoder(client: Client): FramedDecoder {
  // The registry's Ajv knows no formats by default and rejects schemas using them; the event schemas use
  // date-time and date, so hand it the same definitions Tidemark's own envelope parser uses.
  const deserializer = new JsonDeserializer(client, SerdeType.VALUE, {
    validate: true,
    formats: { 'date-time': fullFormats['date-time'], date: fullFormats.date },
  });
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
