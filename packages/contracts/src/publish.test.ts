import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RuleContext, SchemaInfo } from '@confluentinc/schemaregistry';
// The library's own MockClient and CEL executor, imported from their modules: the package index also loads the
// KMS drivers, whose AWS SDK ESM builds do not resolve under vitest's "module" condition.
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js';
import { CelExecutor } from '@confluentinc/schemaregistry/dist/rules/cel/cel-executor.js';
import { eventSchemas } from '@tidemark/core';
import {
  applyPublish,
  contractRuleSet,
  formatPublishPlan,
  isContractFile,
  loadContractsOrThrow,
  planPublish,
} from './index.js';

const contractsDir = fileURLToPath(new URL('../../../contracts/', import.meta.url));
const shipped = loadContractsOrThrow(
  readdirSync(contractsDir)
    .filter(isContractFile)
    .map((file) => ({
      path: `contracts/${file}`,
      text: readFileSync(contractsDir + file, 'utf8'),
    })),
);

const small = (expression = 'has(data.owner)', version = 1) =>
  loadContractsOrThrow([
    {
      path: 'contracts/wiki.yaml',
      text: `apiVersion: tidemark/v1
kind: SourceContract
system: wiki
version: ${version}
rules:
  - name: has-owner
    expression: '${expression}'
    message: needs an owner
    severity: high
classes:
  policy:
    rules:
      - name: dated
        expression: has(data.effectiveDate)
        message: needs a date
        mode: shadow
`,
    },
  ]);

const CONTENT_SUBJECT = 'content.changes.v1-content.upserted';

describe('contractRuleSet', () => {
  it('scopes each resolved rule with a guard and rewrites it for the registry', () => {
    expect(contractRuleSet(small()).domainRules).toEqual([
      {
        name: 'wiki.policy.has-owner',
        doc: 'needs an owner',
        kind: 'CONDITION',
        type: 'CEL',
        mode: 'WRITE',
        expr: 'message.data.system == "wiki" && message.data.contentClass == "policy" ; has(message.data.owner)',
        params: {
          severity: 'high',
          shadow: 'false',
          'tidemark.contract': 'contracts/wiki.yaml',
        },
        onFailure: 'ERROR',
      },
      {
        name: 'wiki.policy.dated',
        doc: 'needs a date',
        kind: 'CONDITION',
        type: 'CEL',
        mode: 'WRITE',
        expr: 'message.data.system == "wiki" && message.data.contentClass == "policy" ; has(message.data.effectiveDate)',
        params: {
          severity: 'warning',
          shadow: 'true',
          'tidemark.contract': 'contracts/wiki.yaml',
        },
        onFailure: 'NONE',
      },
      {
        name: 'wiki._other.has-owner',
        doc: 'needs an owner',
        kind: 'CONDITION',
        type: 'CEL',
        mode: 'WRITE',
        expr: 'message.data.system == "wiki" && !(message.data.contentClass in ["policy"]) ; has(message.data.owner)',
        params: {
          severity: 'high',
          shadow: 'false',
          'tidemark.contract': 'contracts/wiki.yaml',
        },
        onFailure: 'ERROR',
      },
    ]);
  });

  // The point of publishing: the registry's own CEL executor (built on @bufbuild/cel 0.3) must reach the same
  // verdict on a record as Tidemark's evaluation of the rule it came from.
  it('gives the same verdicts in the Schema Registry CEL executor as compileRule, for the shipped contracts', async () => {
    const executor = new CelExecutor();
    const rules = contractRuleSet(shipped).domainRules ?? [];
    expect(rules.length).toBeGreaterThan(10);
    const events = [
      [
        'confluence',
        'policy',
        {
          owner: 'a@x',
          classification: 'restricted',
          deprecated: true,
          supersededBy: 'confluence/9',
          effectiveDate: '2025-01-01',
          reviewedAt: '2024-12-01T00:00:00Z',
        },
      ],
      [
        'confluence',
        'policy',
        {
          owner: null,
          classification: 'restricted',
          deprecated: true,
          supersededBy: null,
          effectiveDate: '2027-01-01',
          reviewedAt: '2024-12-01T00:00:00Z',
        },
      ],
      ['confluence', 'runbook', { owner: 'a@x', attributes: { service: '' } }],
      ['confluence', 'memo', { supersededBy: 'gdrive/1', deprecated: false }],
      ['zendesk', 'macro', { classification: 'public', attributes: {} }],
      ['zendesk', 'faq', { sizeBytes: 30000, classification: 'public', title: 'Hi' }],
      ['gdrive', 'doc', { classification: 'restricted', owner: '', aclHash: '' }],
    ] as const;
    let compared = 0;
    for (const [system, contentClass, fields] of events) {
      const message = {
        specversion: '1.0',
        id: 'e',
        source: 's',
        type: 'content.upserted',
        time: '2025-06-01T00:00:00Z',
        data: { system, docId: '1', revision: 1, contentClass, title: 'Title', ...fields },
      };
      const settings = shipped.settingsFor(system, contentClass);
      const label = settings?.contentClass ?? '_other';
      for (const rule of settings?.rules ?? []) {
        const ours = rule.evaluate(message);
        const published = rules.find((r) => r.name === `${system}.${label}.${rule.name}`);
        expect(published, `${system}.${label}.${rule.name}`).toBeDefined();
        const context = {
          rule: published,
          target: { schema: '{}', schemaType: 'JSON' },
        } as unknown as RuleContext;
        let theirs: unknown;
        try {
          theirs = await executor.execute(context, message, { message });
        } catch (error) {
          theirs = error;
        }
        if (ours.ok) expect(theirs, `${rule.name} on ${JSON.stringify(fields)}`).toBe(ours.value);
        else
          expect(
            typeof theirs === 'boolean',
            `${rule.name}: ours errs (${ours.error}), theirs ${String(theirs)}`,
          ).toBe(false);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });
});

describe('planPublish / applyPublish with the library MockClient', () => {
  it('plans every event schema as new on an empty registry and changes nothing (dry run)', async () => {
    const client = new MockClient();
    const plan = await planPublish(client, small(), eventSchemas);
    expect(plan.changes.map((c) => [c.subject, c.action])).toEqual([
      ['sync.events.v1-connector.run', 'create'],
      ['content.changes.v1-content.deleted', 'create'],
      [CONTENT_SUBJECT, 'create'],
      ['sync.events.v1-index.removed', 'create'],
      ['sync.events.v1-index.upserted', 'create'],
      ['inventory.snapshots.v1-inventory.snapshot', 'create'],
      ['dq.findings.v1-tidemark.finding', 'create'],
    ]);
    expect(plan.problems).toEqual([]);
    const content = plan.changes.find((c) => c.subject === CONTENT_SUBJECT);
    expect(content?.schema.ruleSet?.domainRules?.map((r) => r.name)).toEqual([
      'wiki.policy.has-owner',
      'wiki.policy.dated',
      'wiki._other.has-owner',
    ]);
    expect(content?.schema.metadata).toEqual({ properties: { 'tidemark.contracts': 'wiki@1' } });
    expect(JSON.parse(content?.schema.schema ?? '')).toEqual(
      JSON.parse(JSON.stringify(eventSchemas['content.upserted'])),
    );
    expect(
      plan.changes.find((c) => c.subject === 'content.changes.v1-content.deleted')?.schema.ruleSet,
    ).toBeUndefined();
    expect(await client.getAllSubjects()).toEqual([]);
  });

  it('registers the plan, after which the same contracts plan as unchanged', async () => {
    const client = new MockClient();
    const result = await applyPublish(await planPublish(client, small(), eventSchemas));
    expect(result.skipped).toEqual([]);
    expect(result.registered.map((r) => [r.subject, r.version])).toEqual([
      ['sync.events.v1-connector.run', 1],
      ['content.changes.v1-content.deleted', 1],
      [CONTENT_SUBJECT, 1],
      ['sync.events.v1-index.removed', 1],
      ['sync.events.v1-index.upserted', 1],
      ['inventory.snapshots.v1-inventory.snapshot', 1],
      ['dq.findings.v1-tidemark.finding', 1],
    ]);
    const stored = await client.getLatestSchemaMetadata(CONTENT_SUBJECT);
    expect(stored.ruleSet?.domainRules?.length).toBe(3);
    const again = await planPublish(client, small(), eventSchemas);
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(await applyPublish(again)).toEqual({ registered: [], skipped: [] });
  });

  it('reports what changed in the rules and that MockClient cannot check compatibility', async () => {
    const client = new MockClient();
    await applyPublish(await planPublish(client, small(), eventSchemas));
    const plan = await planPublish(
      client,
      small('has(data.owner) && data.owner != ""', 2),
      eventSchemas,
    );
    const content = plan.changes.find((c) => c.subject === CONTENT_SUBJECT);
    expect(content?.action).toBe('update');
    expect(content?.currentVersion).toBe(1);
    expect(content?.reasons).toEqual([
      'rule changed: wiki.policy.has-owner',
      'rule changed: wiki._other.has-owner',
    ]);
    expect(content?.compatibility).toEqual({
      status: 'unchecked',
      detail: 'Unsupported operation',
    });
    expect(plan.changes.filter((c) => c.action !== 'unchanged').map((c) => c.subject)).toEqual([
      CONTENT_SUBJECT,
    ]);
    const result = await applyPublish(plan);
    expect(result.registered.map((r) => [r.subject, r.version])).toEqual([[CONTENT_SUBJECT, 2]]);
  });

  it('reports incompatible subjects as problems and does not force them', async () => {
    class StrictRegistry extends MockClient {
      override async testSubjectCompatibility(
        _subject: string,
        _schema: SchemaInfo,
      ): Promise<boolean> {
        return false;
      }
    }
    const client = new StrictRegistry();
    await applyPublish(await planPublish(client, small(), eventSchemas));
    const plan = await planPublish(client, small('has(data.title)'), eventSchemas);
    expect(plan.problems).toEqual([
      `${CONTENT_SUBJECT}: incompatible with the registered schema under the subject’s compatibility level; not registered (fix the schema or the subject's compatibility level)`,
    ]);
    const result = await applyPublish(plan);
    expect(result.registered).toEqual([]);
    expect(result.skipped.map((s) => s.subject)).toEqual([CONTENT_SUBJECT]);
    expect(await client.getAllVersions(CONTENT_SUBJECT)).toEqual([1]);
  });

  it('stops on registry errors other than "not found"', async () => {
    class Unauthorized extends MockClient {
      override async getLatestSchemaMetadata(): Promise<never> {
        throw Object.assign(new Error('Unauthorized'), { status: 401 });
      }
    }
    await expect(planPublish(new Unauthorized(), small(), eventSchemas)).rejects.toThrow(
      'Unauthorized',
    );
  });

  it('renders the dry run for people', async () => {
    const client = new MockClient();
    await applyPublish(await planPublish(client, small(), eventSchemas));
    const plan = await planPublish(client, small('has(data.title)', 2), eventSchemas, {
      subjectFor: (type) => type,
    });
    expect(formatPublishPlan(plan)).toBe(
      [
        'create    connector.run',
        '          - new subject',
        'create    content.deleted',
        '          - new subject',
        'create    content.upserted, 3 rules',
        '          - new subject',
        'create    index.removed',
        '          - new subject',
        'create    index.upserted',
        '          - new subject',
        'create    inventory.snapshot',
        '          - new subject',
        'create    tidemark.finding',
        '          - new subject',
      ].join('\n'),
    );
    const same = await planPublish(client, small('has(data.title)', 2), eventSchemas);
    expect(formatPublishPlan(same).split('\n').slice(0, 6)).toEqual([
      'unchanged sync.events.v1-connector.run (registered version 1)',
      'unchanged content.changes.v1-content.deleted (registered version 1)',
      `update    ${CONTENT_SUBJECT} (registered version 1), 3 rules`,
      '          - rule changed: wiki.policy.has-owner',
      '          - rule changed: wiki._other.has-owner',
      '          compatibility unchecked: Unsupported operation',
    ]);
  });
});
