// The Alertmanager bridge: a consumer of the alerts topic that POSTs each alert to a real Alertmanager and lets
// the host commit only after Alertmanager accepted it. Alertmanager receives exactly what is on the topic; the
// router's tick stays free of I/O (a notification sent from a tick whose batch is then rebuilt, or lost on
// SIGTERM, is what this replaces).
import {
  ALERT_REFRESH_BY_HEADER,
  AlertEventSchema,
  DependencyUnavailableError,
  EVENT_TYPES,
  EnvelopeError,
  createEnvelopeParser,
  parseTime,
} from '@tidemark/core';
import type {
  Alert,
  AnyCloudEvent,
  HandlerContext,
  InputRecord,
  MetricDefinition,
  OutputRecord,
  PartitionState,
  ServiceDefinition,
} from '@tidemark/core';
import { ROUTING_DEFAULTS } from './config.js';
import { NoState } from './no-state.js';

/** An alert in Alertmanager's API v2 form (`postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * Converts one alert to Alertmanager's form. A firing alert ends at `refreshBy` (the latest time the router
 * sends it again) plus `graceMs`, so Alertmanager keeps it firing exactly as long as the router may be silent.
 */
export function toPostableAlert(
  alert: Alert,
  refreshBy: number,
  graceMs: number,
  generatorUrl?: string,
): PostableAlert {
  const annotations: Record<string, string> = {
    summary: alert.annotations.summary,
    findings: String(alert.findings.count),
    tidemark_receiver: alert.receiver,
  };
  if (alert.annotations.description) annotations['description'] = alert.annotations.description;
  if (alert.annotations.runbook_url) annotations['runbook_url'] = alert.annotations.runbook_url;
  const link = generatorUrl ?? alert.generatorURL;
  return {
    // Alertmanager's UIs and default grouping key on `alertname`; the check id is what the alert is about.
    labels: { alertname: alert.labels['check'] ?? 'tidemark', ...alert.labels },
    annotations,
    startsAt: alert.startsAt,
    endsAt:
      alert.status === 'resolved' ? alert.endsAt : new Date(refreshBy + graceMs).toISOString(),
    ...(link ? { generatorURL: link } : {}),
  };
}

/**
 * POSTs alerts to Alertmanager's `/api/v2/alerts`; resolves once Alertmanager accepted them. Throws
 * DependencyUnavailableError while Alertmanager cannot take them (the host pauses the partition, keeps the
 * record and retries it; readiness is false meanwhile), or a non-retriable TidemarkError when Alertmanager
 * refuses this alert for good (the record is dead-lettered with the reason).
 */
export type AlertmanagerDeliver = (alerts: PostableAlert[]) => Promise<void>;

/** Options of createAlertmanagerBridgeService. */
export interface AlertmanagerBridgeOptions {
  /** The alerts topic (`dq.alerts.v1` unless TOPIC_ALERTS renames it). */
  alertsTopic: string;
  /** Service name (consumer group, log field). @default 'alert-router-alertmanager' */
  name?: string;
  /** The HTTP side (services/alert-router/src/alertmanager.ts). */
  deliver: AlertmanagerDeliver;
  /** Added to a firing alert's refresh time to form its `endsAt`. @default 10 minutes */
  graceMs?: number;
  /** `generatorURL` of every alert, instead of the alert's own. @default the alert's */
  generatorUrl?: string;
}

/** Metrics of the Alertmanager bridge (names kept from the sink it replaces: rules and dashboard read them). */
export const ALERTMANAGER_BRIDGE_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tidemark_alertmanager_notifications_total',
    help: 'Alerts from the alerts topic handed to Alertmanager, by outcome: sent (accepted) or failed (refused for good; dead-lettered)',
    kind: 'counter',
    labelNames: ['outcome'],
  },
  {
    name: 'tidemark_alertmanager_retries_total',
    help: 'Times Alertmanager was unavailable for an alert, which was kept and retried after a backoff (attempts, not alerts)',
    kind: 'counter',
    labelNames: [],
  },
];

type AlertEvent = AnyCloudEvent & { data: Alert };

/** The Alertmanager bridge as a ServiceDefinition: one alert record, one POST, then the commit. */
export function createAlertmanagerBridgeService(
  options: AlertmanagerBridgeOptions,
): ServiceDefinition<PartitionState, AlertEvent> {
  const graceMs = options.graceMs ?? 10 * 60_000;
  const parser = createEnvelopeParser<AlertEvent>({
    extraTypes: { [EVENT_TYPES.alert]: AlertEventSchema },
  });
  return {
    name: options.name ?? 'alert-router-alertmanager',
    inputs: [options.alertsTopic],
    createState: () => new NoState(),
    decode(record: InputRecord): AlertEvent {
      const event = parser.parse(record);
      if (event.type !== EVENT_TYPES.alert)
        throw new EnvelopeError(
          'unknown-type',
          `record on ${record.topic} is a ${JSON.stringify(event.type)} event; the Alertmanager bridge takes only ${EVENT_TYPES.alert}`,
        );
      return event;
    },
    async handle(
      _state: PartitionState,
      event: AlertEvent,
      record: InputRecord,
      ctx: HandlerContext,
    ): Promise<OutputRecord[]> {
      const refreshBy = refreshTime(event, record);
      const postable = toPostableAlert(event.data, refreshBy, graceMs, options.generatorUrl);
      try {
        await options.deliver([postable]);
      } catch (error) {
        if (error instanceof DependencyUnavailableError)
          ctx.metrics.record('tidemark_alertmanager_retries_total', {}, 1);
        else
          ctx.metrics.record('tidemark_alertmanager_notifications_total', { outcome: 'failed' }, 1);
        throw error;
      }
      ctx.metrics.record('tidemark_alertmanager_notifications_total', { outcome: 'sent' }, 1);
      return [];
    },
    metrics: ALERTMANAGER_BRIDGE_METRICS,
  };
}

/**
 * The refresh time the router stamped on the record; for a record without it (written before the header
 * existed), the send time plus the default repeat interval, as the router would have computed it.
 */
function refreshTime(event: AlertEvent, record: InputRecord): number {
  const stamped = record.headers[ALERT_REFRESH_BY_HEADER];
  if (stamped !== undefined) {
    const at = Date.parse(stamped);
    if (Number.isFinite(at)) return at;
  }
  return parseTime(event.time) + ROUTING_DEFAULTS.repeatInterval + ROUTING_DEFAULTS.groupInterval;
}
