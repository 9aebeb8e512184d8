// A shadow candidate beside the enforced contract, live on the real broker: the contract checker (hosted by the
// runtime) fires the candidate's findings as shadow ones, emits the contract.shadow-diff finding naming the rule
// when its period ends, and /metrics shows the tidemark_contract_shadow_* counters (declared and recorded without
// a metric error).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { CLOUDEVENTS_CONTENT_TYPE, type Finding } from '@tidemark/core';
import { isContractFile, loadContractsOrThrow } from '@tidemark/contracts';
import { Collector, produce, ROOT } from '../runtime/helpers.js';
import { checkerHost, checkerTopics, runbook } from './helpers.js';

const CANDIDATE = `apiVersion: tidemark/v1
kind: SourceContract
system: confluence
version: 4
mode: shadow
owner: { team: knowledge-ops }
required: [title, classification]
rules:
  - name: title-without-class
    expression: '!data.title.startsWith("Runbook ")'
    severity: critical
    message: A title must not start with its content class.
`;

describe('a shadow candidate contract through the real broker', () => {
  const host = checkerHost();

  it('fires shadow findings, emits the diff naming the rule, and counts both sides in /metrics', async () => {
    const checker = await checkerTopics('ccs', 2);
    const { topics } = checker;

    const dir = path.join(ROOT, 'contracts');
    const files = await Promise.all(
      (await readdir(dir)).filter(isContractFile).map(async (f) => ({
        path: `contracts/${f}`,
        text: await readFile(path.join(dir, f), 'utf8'),
      })),
    );
    const contracts = loadContractsOrThrow([
      ...files,
      { path: 'contracts/confluence-next.yaml', text: CANDIDATE },
    ]);
    // Short periods so the diff comes within the test; ticks every second close them.
    const handle = await host.run(checker, '* * * * * *', { contracts, shadowDiffPeriodMs: 2_000 });

    const out = await Collector.start([topics.findings]);
    await produce(topics.content, [
      { key: 'confluence/S1', value: JSON.stringify(runbook('S1', 1)) },
      { key: 'confluence/S2', value: JSON.stringify(runbook('S2', 1, { owner: null })) },
    ]);
    const findings = () => out.json<{ data: Finding }>(topics.findings).map((e) => e.data);
    const diffNaming = (rule: string) =>
      findings().find(
        (f) =>
          f.check === 'contract.shadow-diff' &&
          (f.evidence['rules'] as Array<{ rule: string; candidateOnly: number }>).some(
            (r) => r.rule === rule && r.candidateOnly > 0,
          ),
      );
    // S1 and S2 may sit on different partitions: wait for both documents' findings, then for a diff.
    await out.waitFor(
      'both documents judged and the shadow diff',
      () =>
        ['S1', 'S2'].every((docId) =>
          findings().some((f) => f.subject.docId === docId && f.shadow),
        ) &&
        findings().some((f) => f.check === 'contract.required' && f.subject.docId === 'S2') &&
        diffNaming('title-without-class') !== undefined,
    );

    const candidate = findings().filter(
      (f) => f.contract?.file === 'contracts/confluence-next.yaml',
    );
    const rule = candidate.filter(
      (f) => f.check === 'contract.rule' && f.subject.feature === 'title-without-class',
    );
    expect(rule.map((f) => `${f.subject.docId} ${f.status} ${f.severity}`).sort()).toEqual([
      'S1 firing critical',
      'S2 firing critical',
    ]);
    expect(candidate.every((f) => f.shadow === true)).toBe(true);
    // The enforced contract alone wants an owner: its finding is not a shadow one.
    const owner = findings().filter((f) => f.check === 'contract.required');
    expect(owner.map((f) => `${f.subject.docId} ${f.contract?.file} ${f.shadow ?? false}`)).toEqual(
      ['S2 contracts/confluence.yaml false'],
    );
    expect(diffNaming('title-without-class')).toMatchObject({
      severity: 'info',
      status: 'firing',
      shadow: true,
      subject: { system: 'confluence' },
    });
    expect(new Set(out.on(topics.findings).map((r) => r.headers['content-type']))).toEqual(
      new Set([CLOUDEVENTS_CONTENT_TYPE]),
    );

    const metrics = await (await fetch(`http://127.0.0.1:${handle.httpPort}/metrics`)).text();
    const series = (line: string) => metrics.split('\n').some((l) => l.startsWith(line));
    expect(
      series(
        'tidemark_contract_shadow_violations_total{system="confluence",check="contract.rule",rule="title-without-class",side="candidate"',
      ),
    ).toBe(true);
    expect(
      series(
        'tidemark_contract_shadow_violations_total{system="confluence",check="contract.required",rule="owner",side="enforced"',
      ),
    ).toBe(true);
    expect(series('tidemark_contract_shadow_revisions_total{system="confluence"')).toBe(true);
    expect(series('tidemark_contract_shadow_diffs_total{system="confluence",status="firing"')).toBe(
      true,
    );
    expect(metrics).not.toMatch(
      /^tidemark_metric_record_errors_total\{.*name="tidemark_contract_shadow/m,
    );
    await out.close();
  });
});
