// `tidemark contracts publish`: registers the event JSON schemas in a Confluent Schema Registry, with the contracts'
// CEL rules attached to content.upserted as a data-contract ruleSet (domainRules, kind CONDITION, type CEL), so
// producers that use the registry's serializers can enforce the same rules Tidemark evaluates.
// The registry is reached only through the Client passed in (REST client in production, MockClient in tests).
import type {
  Client,
  Rule,
  RuleSet,
  SchemaInfo,
  SchemaMetadata,
} from '@confluentinc/schemaregistry';
import {
  canonicalJson,
  EVENT_TYPES,
  resolveTopics,
  topicRoleForEventType,
  type TopicCatalog,
} from '@tidemark/core';
import { toRegistryExpression } from './cel/registry.js';
import type { ContractSet, ResolvedSettings } from './resolve.js';

/** Options of planPublish. */
export interface PublishOptions {
  /** Topic names by role. @default resolveTopics() */
  topics?: TopicCatalog;
  /** Subject of an event type's schema. @default `${topic}-${eventType}` (Confluent's TopicRecordNameStrategy) */
  subjectFor?: (eventType: string, topic: string) => string;
  /** What a broken enforced rule does in the producer's serializer; shadow rules always get NONE. @default 'ERROR' */
  onFailure?: 'ERROR' | 'DLQ' | 'NONE';
  /** Ask the registry to normalize schemas on registration. @default false */
  normalize?: boolean;
}

/** Result of the registry's compatibility check for a changed subject. */
export type CompatibilityStatus =
  | { status: 'not-applicable' }
  | { status: 'compatible' }
  | { status: 'incompatible'; detail: string }
  | { status: 'unchecked'; detail: string };

/** What publishing would do to one subject. */
export interface PublishChange {
  readonly subject: string;
  readonly eventType: string;
  readonly action: 'create' | 'update' | 'unchanged';
  /** Why the subject changes: "new subject", "schema changed", "rule added: …", "rule changed: …", "rule removed: …". */
  readonly reasons: readonly string[];
  readonly compatibility: CompatibilityStatus;
  /** The schema, metadata and ruleSet that would be registered. */
  readonly schema: SchemaInfo;
  /** The latest registered version, when the subject exists. */
  readonly currentVersion: number | undefined;
}

/** A dry-run plan: inspect it, then hand it to applyPublish. */
export interface PublishPlan {
  readonly changes: readonly PublishChange[];
  /** Compatibility problems (reported, never forced: applyPublish skips those subjects). */
  readonly problems: readonly string[];
  readonly client: Client;
  readonly normalize: boolean;
}

/** What applyPublish did. */
export interface PublishResult {
  readonly registered: ReadonlyArray<{ subject: string; id: number; version: number | undefined }>;
  readonly skipped: ReadonlyArray<{ subject: string; reason: string }>;
}

/** Event types the contracts' rules are attached to (the contract checker evaluates them on these). */
const RULE_EVENT_TYPES: readonly string[] = [EVENT_TYPES.contentUpserted];

/** Builds the ruleSet for content events from every contract's resolved rules, in a stable order. */
export function contractRuleSet(
  contracts: ContractSet,
  options: Pick<PublishOptions, 'onFailure'> = {},
): RuleSet {
  const onFailure = options.onFailure ?? 'ERROR';
  const domainRules: Rule[] = [];
  for (const system of contracts.systems) {
    const classes = contracts.contentClasses(system);
    const scopes: Array<{ label: string; guard: string; settings: ResolvedSettings | undefined }> =
      [
        ...classes.map((cls) => ({
          label: cls,
          guard: `message.data.system == ${quote(system)} && message.data.contentClass == ${quote(cls)}`,
          settings: contracts.settingsFor(system, cls),
        })),
        {
          // Classes the contract does not define get the system-level rules.
          label: '_other',
          guard:
            classes.length === 0
              ? `message.data.system == ${quote(system)}`
              : `message.data.system == ${quote(system)} && !(message.data.contentClass in [${classes.map(quote).join(', ')}])`,
          settings: contracts.settingsFor(system),
        },
      ];
    for (const { label, guard, settings } of scopes) {
      if (settings === undefined) continue;
      for (const rule of settings.rules) {
        domainRules.push({
          name: `${system}.${label}.${rule.name}`,
          doc: rule.message,
          kind: 'CONDITION',
          type: 'CEL',
          mode: 'WRITE' as Rule['mode'],
          // The registry's CEL executor evaluates `guard ; expr` and passes the condition when the guard is false.
          expr: `${guard} ; ${toRegistryExpression(rule.expression)}`,
          params: {
            severity: rule.severity,
            shadow: String(rule.shadow),
            // The contract version lives in the schema metadata, so a version bump alone does not "change" every rule.
            'tidemark.contract': settings.contract.file,
          },
          onFailure: rule.shadow ? 'NONE' : onFailure,
        });
      }
    }
  }
  return { domainRules };
}

function quote(text: string): string {
  return JSON.stringify(text);
}

/**
 * Works out, without changing anything, what registering the event schemas (and the contracts' rules) would
 * change in the registry, and checks changed subjects for compatibility.
 */
export async function planPublish(
  client: Client,
  contracts: ContractSet,
  eventSchemas: Readonly<Record<string, object>>,
  options: PublishOptions = {},
): Promise<PublishPlan> {
  const topics = options.topics ?? resolveTopics();
  const subjectFor =
    options.subjectFor ?? ((eventType: string, topic: string) => `${topic}-${eventType}`);
  const ruleSet = contractRuleSet(contracts, options);
  const versions = contracts.systems
    .map((s) => `${s}@${contracts.contractRef(s)?.version ?? ''}`)
    .join(',');
  const changes: PublishChange[] = [];
  const problems: string[] = [];
  for (const eventType of Object.keys(eventSchemas).sort()) {
    const role = topicRoleForEventType(eventType);
    if (role === undefined) continue;
    const subject = subjectFor(eventType, topics[role]);
    const withRules =
      RULE_EVENT_TYPES.includes(eventType) && (ruleSet.domainRules?.length ?? 0) > 0;
    const schema: SchemaInfo = {
      schemaType: 'JSON',
      schema: JSON.stringify(eventSchemas[eventType]),
      ...(withRules
        ? { ruleSet, metadata: { properties: { 'tidemark.contracts': versions } } }
        : {}),
    };
    const current = await latest(client, subject);
    if (current === undefined) {
      changes.push({
        subject,
        eventType,
        action: 'create',
        reasons: ['new subject'],
        compatibility: { status: 'not-applicable' },
        schema,
        currentVersion: undefined,
      });
      continue;
    }
    const reasons = differences(current, schema);
    const compatibility: CompatibilityStatus =
      reasons.length === 0
        ? { status: 'not-applicable' }
        : await checkCompatibility(client, subject, schema);
    if (compatibility.status === 'incompatible') {
      problems.push(
        `${subject}: ${compatibility.detail}; not registered (fix the schema or the subject's compatibility level)`,
      );
    }
    changes.push({
      subject,
      eventType,
      action: reasons.length === 0 ? 'unchanged' : 'update',
      reasons,
      compatibility,
      schema,
      currentVersion: current.version,
    });
  }
  return { changes, problems, client, normalize: options.normalize ?? false };
}

/** Registers what the plan says would change, skipping subjects the registry found incompatible. */
export async function applyPublish(plan: PublishPlan): Promise<PublishResult> {
  const registered: Array<{ subject: string; id: number; version: number | undefined }> = [];
  const skipped: Array<{ subject: string; reason: string }> = [];
  for (const change of plan.changes) {
    if (change.action === 'unchanged') continue;
    if (change.compatibility.status === 'incompatible') {
      skipped.push({ subject: change.subject, reason: change.compatibility.detail });
      continue;
    }
    const id = await plan.client.register(change.subject, change.schema, plan.normalize);
    let version: number | undefined;
    try {
      version = await plan.client.getVersion(change.subject, change.schema, plan.normalize, false);
    } catch {
      version = undefined; // registered; the version is informational only
    }
    registered.push({ subject: change.subject, id, version });
  }
  return { registered, skipped };
}

/** Renders a plan for people (the CLI's dry-run output), one line per subject plus its reasons and problems. */
export function formatPublishPlan(plan: PublishPlan): string {
  const lines: string[] = [];
  for (const change of plan.changes) {
    const version =
      change.currentVersion === undefined ? '' : ` (registered version ${change.currentVersion})`;
    const rules = change.schema.ruleSet?.domainRules?.length ?? 0;
    lines.push(
      `${change.action.padEnd(9)} ${change.subject}${version}${rules > 0 ? `, ${rules} rules` : ''}`,
    );
    if (change.action !== 'unchanged')
      for (const reason of change.reasons) lines.push(`          - ${reason}`);
    if (
      change.compatibility.status === 'incompatible' ||
      change.compatibility.status === 'unchecked'
    ) {
      lines.push(
        `          compatibility ${change.compatibility.status}: ${change.compatibility.detail}`,
      );
    }
  }
  for (const problem of plan.problems) lines.push(`problem: ${problem}`);
  return lines.join('\n');
}

async function latest(client: Client, subject: string): Promise<SchemaMetadata | undefined> {
  try {
    return await client.getLatestSchemaMetadata(subject);
  } catch (error) {
    // Subject or version not found; anything else (auth, network) must stop the plan.
    if ((error as { status?: unknown }).status === 404) return undefined;
    throw error;
  }
}

async function checkCompatibility(
  client: Client,
  subject: string,
  schema: SchemaInfo,
): Promise<CompatibilityStatus> {
  try {
    const compatible = await client.testSubjectCompatibility(subject, schema);
    return compatible
      ? { status: 'compatible' }
      : {
          status: 'incompatible',
          detail: 'incompatible with the registered schema under the subject’s compatibility level',
        };
  } catch (error) {
    // MockClient does not implement compatibility checks; a registry may also refuse the call.
    return { status: 'unchecked', detail: error instanceof Error ? error.message : String(error) };
  }
}

function differences(current: SchemaInfo, next: SchemaInfo): string[] {
  const reasons: string[] = [];
  if (canonicalJson(parseOr(current.schema)) !== canonicalJson(parseOr(next.schema)))
    reasons.push('schema changed');
  const before = new Map(
    (current.ruleSet?.domainRules ?? []).map((r) => [r.name, canonicalJson(r)]),
  );
  const after = new Map((next.ruleSet?.domainRules ?? []).map((r) => [r.name, canonicalJson(r)]));
  for (const [name, rule] of after) {
    const old = before.get(name);
    if (old === undefined) reasons.push(`rule added: ${name}`);
    else if (old !== rule) reasons.push(`rule changed: ${name}`);
  }
  for (const name of before.keys()) if (!after.has(name)) reasons.push(`rule removed: ${name}`);
  if (
    canonicalJson(current.metadata ?? null) !== canonicalJson(next.metadata ?? null) &&
    reasons.length === 0
  ) {
    reasons.push('metadata changed');
  }
  return reasons;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
