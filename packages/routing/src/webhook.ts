// Alertmanager-compatible delivery: a group flush of a `webhook` receiver becomes one Alertmanager webhook
// v4 message (the JSON every Slack/PagerDuty/Opsgenie bridge accepts). The router's tick only publishes the
// message to an internal topic; a separate consumer of that topic POSTs it and commits after the POST, so no
// notification leaves before the batch that made it is safely in Kafka (issue 15 item 2).
import { EnvelopeError, TidemarkError, fingerprint } from '@tidemark/core';
import type {
  Alert,
  HandlerContext,
  InputRecord,
  InternalTopic,
  MetricDefinition,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
} from '@tidemark/core';
import type { Receiver, RoutingConfig } from './config.js';
import { NoState } from './no-state.js';
import type { WebhookNotification } from './router.js';

/** The `version` of Alertmanager's webhook payload this package writes. */
export const WEBHOOK_VERSION = '4';

/** Header that carries a webhook message's deterministic id (on the topic and on the POST). */
export const WEBHOOK_ID_HEADER = 'tidemark-notification-id';

/** One alert of a webhook message, as Alertmanager's `template.Alert`. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's webhook payload, version 4 (`notify/webhook.Message`). */
export interface WebhookMessage {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** The internal topic an alert-router named `name` publishes webhook messages to. */
export function webhookTopic(name: string): string {
  return `tidemark.${name}.webhook`;
}

/** The internal topic of the webhook messages, for `tidemark topics create`. */
export function webhookInternalTopic(name: string): InternalTopic {
  return {
    name: webhookTopic(name),
    compacted: false,
    coPartitioned: false,
    purpose: `${name}: Alertmanager webhook v4 messages of webhook receivers, POSTed by the ${name}-webhook consumer`,
  };
}

// The label pairs every map of the list shares (Alertmanager's commonLabels / commonAnnotations).
function common(maps: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) {
    if (rest.every((m) => m[k] === v)) out[k] = v;
  }
  return out;
}

function webhookAlert(alert: Alert): WebhookAlert {
  const annotations: Record<string, string> = { summary: alert.annotations.summary };
  if (alert.annotations.description) annotations['description'] = alert.annotations.description;
  if (alert.annotations.runbook_url) annotations['runbook_url'] = alert.annotations.runbook_url;
  return {
    status: alert.status,
    labels: { ...alert.labels },
    annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    generatorURL: alert.generatorURL ?? '',
    fingerprint: alert.fingerprint,
  };
}

/**
 * The v4 message of one webhook flush: `status` is firing while any of its alerts fires; alerts beyond the
 * receiver's `max_alerts` are cut and counted in `truncatedAlerts`, as Alertmanager does.
 */
export function webhookMessage(
  n: WebhookNotification,
  receiver: Pick<Receiver, 'maxAlerts'>,
  externalURL = '',
): WebhookMessage {
  const all = n.alerts.map(webhookAlert);
  const alerts = receiver.maxAlerts > 0 ? all.slice(0, receiver.maxAlerts) : all;
  return {
    version: WEBHOOK_VERSION,
    groupKey: n.groupKey,
    truncatedAlerts: all.length - alerts.length,
    status: all.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: n.receiver,
    groupLabels: { ...n.groupLabels },
    commonLabels: common(all.map((a) => a.labels)),
    commonAnnotations: common(all.map((a) => a.annotations)),
    externalURL,
    alerts,
  };
}

/** Deterministic id of a webhook message: a re-run tick publishes the same message under the same id. */
export function webhookMessageId(n: WebhookNotification): string {
  return fingerprint({
    r: n.receiver,
    g: n.groupKey,
    t: n.dueAt,
    a: n.alerts.map((a) => [a.fingerprint, a.status, a.startsAt, a.endsAt]),
  });
}

/** The internal-topic record of a webhook message, keyed by its group so one group's messages stay in order. */
export function webhookRecord(
  n: WebhookNotification,
  message: WebhookMessage,
  topic: string,
): OutputRecord {
  return {
    topic,
    key: fingerprint({ r: n.receiver, g: n.groupKey }),
    value: JSON.stringify(message),
    headers: { [WEBHOOK_ID_HEADER]: webhookMessageId(n) },
  };
}

const STRING_MAP_FIELDS = ['groupLabels', 'commonLabels', 'commonAnnotations'] as const;

function isStringMap(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}

/** Reads a webhook message record back; throws EnvelopeError naming the first broken field. */
export function parseWebhookRecord(record: InputRecord): WebhookMessage {
  const text = record.value?.toString('utf8') ?? '';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (error) {
    throw new EnvelopeError('invalid-json', `webhook message on ${record.topic} is not JSON`, {
      cause: error,
    });
  }
  const bad = (field: string, why: string): never => {
    throw new EnvelopeError('schema', `webhook message on ${record.topic}: ${field} ${why}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return bad('value', 'must be an object');
  const m = v as Record<string, unknown>;
  if (m['version'] !== WEBHOOK_VERSION) bad('version', `must be "${WEBHOOK_VERSION}"`);
  for (const f of ['groupKey', 'receiver', 'externalURL'] as const)
    if (typeof m[f] !== 'string') bad(f, 'must be a string');
  if (m['status'] !== 'firing' && m['status'] !== 'resolved')
    bad('status', 'must be "firing" or "resolved"');
  for (const f of STRING_MAP_FIELDS) if (!isStringMap(m[f])) bad(f, 'must map names to strings');
  if (!Number.isInteger(m['truncatedAlerts'])) bad('truncatedAlerts', 'must be an integer');
  if (!Array.isArray(m['alerts']) || m['alerts'].length === 0)
    bad('alerts', 'must be a non-empty list');
  (m['alerts'] as unknown[]).forEach((a, i) => {
    const x = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
    if (x['status'] !== 'firing' && x['status'] !== 'resolved')
      bad(`alerts[${i}].status`, 'must be "firing" or "resolved"');
    for (const f of ['labels', 'annotations'] as const)
      if (!isStringMap(x[f])) bad(`alerts[${i}].${f}`, 'must map names to strings');
    for (const f of ['startsAt', 'endsAt', 'generatorURL', 'fingerprint'] as const)
      if (typeof x[f] !== 'string') bad(`alerts[${i}].${f}`, 'must be a string');
  });
  return m as unknown as WebhookMessage;
}

/** A webhook message for a receiver the loaded routing.yaml does not define as a webhook (config changed). */
export class UnknownWebhookReceiverError extends TidemarkError {
  constructor(readonly receiver: string) {
    super(
      `webhook message for receiver ${JSON.stringify(receiver)}, which routing.yaml does not define as kind: webhook`,
      { context: { receiver } },
    );
  }
}

/**
 * POSTs one message to a webhook receiver, retrying what is retriable; resolves once the receiver accepted
 * it. Throws DependencyUnavailableError when the receiver stays unreachable (the host keeps the record and
 * retries it), or a non-retriable TidemarkError when the receiver refuses the message.
 */
export type WebhookDeliver = (
  receiver: Receiver,
  message: WebhookMessage,
  id: string,
) => Promise<void>;

/** Options of createWebhookSenderService. */
export interface WebhookSenderOptions {
  /** The validated routing.yaml (receivers' URLs and options). */
  config: RoutingConfig;
  /** Name of the alert-router whose messages to send; names the input topic. @default 'alert-router' */
  routerName?: string;
  /** Service name (consumer group, changelog, log field). @default `<routerName>-webhook` */
  name?: string;
  /** The HTTP side (services/alert-router/src/webhook.ts). */
  deliver: WebhookDeliver;
}

/** Metrics of the webhook sender. */
export const WEBHOOK_SENDER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tidemark_webhook_messages_total',
    help: 'Alertmanager webhook v4 messages POSTed to webhook receivers, by receiver and status',
    kind: 'counter',
    labelNames: ['receiver', 'status'],
  },
];

/**
 * The webhook sender as a ServiceDefinition: it consumes the router's webhook topic and awaits one POST per
 * message before the next, so the host commits a message's offset only after its receiver accepted it
 * (at-least-once; the `tidemark-notification-id` header lets a receiver drop a redelivered message).
 */
export function createWebhookSenderService(
  options: WebhookSenderOptions,
): ServiceDefinition<PartitionState, WebhookMessage> {
  const routerName = options.routerName ?? 'alert-router';
  const topic = webhookTopic(routerName);
  return {
    name: options.name ?? `${routerName}-webhook`,
    inputs: [topic],
    createState: () => new NoState(),
    decode: parseWebhookRecord,
    async handle(
      _state: PartitionState,
      message: WebhookMessage,
      record: InputRecord,
      ctx: HandlerContext,
    ): Promise<OutputRecord[]> {
      const receiver = options.config.receivers.get(message.receiver);
      if (receiver?.kind !== 'webhook') throw new UnknownWebhookReceiverError(message.receiver);
      const id = record.headers[WEBHOOK_ID_HEADER] ?? `${record.partition}-${record.offset}`;
      await options.deliver(receiver, message, id);
      ctx.metrics.record(
        'tidemark_webhook_messages_total',
        { receiver: receiver.name, status: message.status },
        1,
      );
      return [];
    },
    metrics: WEBHOOK_SENDER_METRICS,
  };
}
