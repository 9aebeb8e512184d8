// Shadow beside enforce, end to end in-process: the shipped contracts plus a shadow candidate for confluence,
// replayed over the fixture through every checker and the alert-router.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert, Finding, Ticket } from '@tidemark/core';
import { isContractFile, loadContractsOrThrow, type ContractSet } from '@tidemark/contracts';
import { parseRoutingConfig, type RoutingConfig } from '@tidemark/routing';
import { memoryOutput, replay } from './index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'packages/replay/testdata/basic.jsonl');
const DAY = 86_400_000;

// The candidate no longer requires an owner (OPS-4 has none: the enforced contract alone fires) and adds a rule
// every runbook of the fixture breaks (the candidate alone fires).
const CANDIDATE = `apiVersion: tidemark/v1
kind: SourceContract
system: confluence
version: 4
mode: shadow
owner: { team: knowledge-ops, platformOwner: search-platform }
required: [title, classification]
rules:
  - name: title-without-class
    expression: '!data.title.startsWith("Runbook ")'
    severity: critical
    message: A title must not start with its content class.
`;

let contracts: ContractSet;
let routing: RoutingConfig;

beforeAll(async () => {
  const dir = join(ROOT, 'contracts');
  const files = await Promise.all(
    (await readdir(dir))
      .filter(isContractFile)
      .map(async (f) => ({ path: `contracts/${f}`, text: await readFile(join(dir, f), 'utf8') })),
  );
  contracts = loadContractsOrThrow([
    ...files,
    { path: 'contracts/confluence-next.yaml', text: CANDIDATE },
  ]);
  const routingFile = join(dir, 'routing.yaml');
  routing = parseRoutingConfig(await readFile(routingFile, 'utf8'), routingFile);
});

describe('a shadow candidate replayed beside the enforced contract', () => {
  it('fires shadow findings only, never alerts on them, and its diff names the rules', async () => {
    const out = memoryOutput();
    await replay({ input: FIXTURE, contracts, routing, out, drainMs: DAY });
    const findings = out
      .lines('findings.jsonl')
      .map((l) => (JSON.parse(l) as { data: Finding }).data);
    const candidate = findings.filter((f) => f.contract?.file === 'contracts/confluence-next.yaml');
    const enforced = findings.filter((f) => f.contract?.file === 'contracts/confluence.yaml');

    const fired = (list: Finding[], check: string, key: string) =>
      list.filter(
        (f) =>
          f.check === check &&
          f.status === 'firing' &&
          (f.subject.feature ?? f.subject.field) === key,
      );
    expect(fired(candidate, 'contract.rule', 'title-without-class').length).toBeGreaterThan(0);
    expect(fired(candidate, 'contract.required', 'owner')).toEqual([]);
    expect(fired(enforced, 'contract.required', 'owner').map((f) => f.subject.docId)).toContain(
      'OPS-4',
    );
    expect(candidate.length).toBeGreaterThan(0);
    expect(candidate.every((f) => f.shadow === true)).toBe(true);

    // The router saw them all and alerted on none: no alert counts a candidate's fingerprint, while the enforced
    // contract's findings do reach alerts.
    const alerts = out.lines('alerts.jsonl').map((l) => (JSON.parse(l) as { data: Alert }).data);
    const alerted = new Set(alerts.flatMap((a) => a.findings.sample));
    expect(alerts.length).toBeGreaterThan(0);
    expect(candidate.filter((f) => alerted.has(f.fingerprint))).toEqual([]);
    expect(alerts.filter((a) => a.labels['check'] === 'contract.shadow-diff')).toEqual([]);
    const ticketed = new Set(
      out
        .lines('tickets.jsonl')
        .flatMap((l) => (JSON.parse(l) as { data: Ticket }).data.items.map((i) => i.fingerprint)),
    );
    expect(candidate.filter((f) => ticketed.has(f.fingerprint))).toEqual([]);

    const diffs = candidate.filter((f) => f.check === 'contract.shadow-diff');
    expect(diffs.length).toBeGreaterThan(0);
    const rules = diffs.flatMap(
      (d) =>
        d.evidence['rules'] as Array<{
          check: string;
          rule: string;
          candidateOnly: number;
          enforcedOnly: number;
        }>,
    );
    expect(rules.some((r) => r.rule === 'title-without-class' && r.candidateOnly > 0)).toBe(true);
    expect(rules.some((r) => r.rule === 'owner' && r.enforcedOnly > 0)).toBe(true);
    expect(diffs.every((d) => d.severity === 'info' && d.status === 'firing')).toBe(true);
  });
});
