// @tidemark/routing — Alertmanager-compatible routing of findings into alerts and steward tickets (pure).
export { ROUTING_DEFAULTS, isTicketReceiver, parseRoutingConfig } from './config.js';
export type {
  InhibitRule,
  Receiver,
  ReceiverKind,
  Route,
  RoutingConfig,
  RoutingConfigOptions,
} from './config.js';
export {
  MatcherSyntaxError,
  formatMatcher,
  formatMatchers,
  matchesAll,
  newMatcher,
  parseMatcher,
  parseMatchers,
  sortMatchers,
} from './matcher.js';
export type { Labels, MatchType, Matcher } from './matcher.js';
export { groupKeyOf, groupLabels, match, walkRoutes } from './route.js';
export { anyIntervalContains, intervalContains } from './timeinterval.js';
export type { InclusiveRange, TimeInterval, TimeRange } from './timeinterval.js';
export { findingLabels, routingKey } from './labels.js';
export { UNOWNED, ownerQueue, resolveEscalation, resolveOwner } from './owners.js';
export type { Escalation, OwnerResolution, OwnerSource, OwnersLookup } from './owners.js';
export { lintEscalations } from './escalation.js';
export {
  SilenceRecordError,
  SilenceTable,
  parseSilences,
  silenceActive,
  silenceFromRecord,
  silenceToRecord,
} from './silence.js';
export type { Silence, SilenceRecord, SilenceRecordMatcher } from './silence.js';
export { RouterState } from './state.js';
export type {
  AlertEntry,
  FindingEntry,
  GroupEntry,
  RouterEntry,
  RouterIndexes,
  SilenceEntry,
  TicketEntry,
} from './state.js';
export {
  SILENCE_EXPIRING_CHECK,
  UNOWNED_CHECK,
  ZERO_TIME,
  createRouter,
  entriesOf,
  fillTemplate,
} from './router.js';
export type {
  AlertNotification,
  Router,
  RouterOptions,
  RouterOutput,
  WebhookNotification,
} from './router.js';
export {
  UnknownWebhookReceiverError,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SENDER_METRICS,
  WEBHOOK_VERSION,
  createWebhookSenderService,
  parseWebhookRecord,
  webhookInternalTopic,
  webhookMessage,
  webhookMessageId,
  webhookRecord,
  webhookTopic,
} from './webhook.js';
export type {
  WebhookAlert,
  WebhookDeliver,
  WebhookMessage,
  WebhookSenderOptions,
} from './webhook.js';
export {
  ALERT_ROUTER,
  KNOWN_FINDING_SOURCES,
  isKnownFindingSource,
  ALERT_ROUTER_METRICS,
  ALERT_ROUTER_TOPICS,
  ALERT_ROUTER_TOPOLOGY,
  alertRouterTopics,
  createAlertRouterService,
  ownersFromContracts,
  repartitionTopic,
} from './service.js';
export type { AlertRouterOptions, AlertRouterService } from './service.js';
export {
  ALERTMANAGER_BRIDGE_METRICS,
  createAlertmanagerBridgeService,
  toPostableAlert,
} from './alertmanager.js';
export type {
  AlertmanagerBridgeOptions,
  AlertmanagerDeliver,
  PostableAlert,
} from './alertmanager.js';
export {
  JIRA_LABEL_PREFIX,
  JIRA_SENDER_METRICS,
  JIRA_VERSION_PROPERTY,
  UnknownJiraReceiverError,
  createJiraSenderService,
  jiraIssueFields,
  jiraLabel,
  parseTicketRecord,
  syncTicket,
} from './jira.js';
export type {
  JiraApi,
  JiraIssueFields,
  JiraIssueRef,
  JiraOutcome,
  JiraSenderOptions,
} from './jira.js';
