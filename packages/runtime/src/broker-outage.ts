// Telling a broker outage from everything else a kafkajs consumer can crash on.

/**
 * Whether a consumer crash is a broker outage (no broker reachable or known, connections refused or closed,
 * requests timing out, kafkajs' retries of those exhausted) rather than a refusal or a bug of ours.
 */
export function isBrokerOutage(error: unknown): boolean {
  const outage = new Set([
    'KafkaJSNoBrokerAvailableError',
    'KafkaJSConnectionError',
    'KafkaJSConnectionClosedError',
    'KafkaJSRequestTimeoutError',
    'KafkaJSBrokerNotFound',
    'KafkaJSMetadataNotLoaded',
  ]);
  for (
    let e = error as { name?: string; cause?: unknown; originalError?: unknown } | undefined,
      depth = 0;
    e && depth < 8;
    depth++
  ) {
    if (e.name !== undefined && outage.has(e.name)) return true;
    if (e.name !== 'KafkaJSNumberOfRetriesExceeded' && e.name !== 'KafkaJSNonRetriableError')
      return false;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}
