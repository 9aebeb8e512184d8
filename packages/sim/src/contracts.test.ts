// The simulator against the example contracts in contracts/: its built-in profiles carry the same SLAs, clean
// documents break nothing, and each injected contract fault breaks exactly what it is meant to — judged by the
// contract checker's own evaluation.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateDocument } from '@tidemark/contract-checks';
import { isContractFile, loadContractsOrThrow } from '@tidemark/contracts';
import { createEnvelopeParser, type ContentUpsertedEvent } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { alignProfiles } from './align.js';
import { defaultFaultPlan } from './default-faults.js';
import { DEFAULT_PROFILES, type SystemProfile } from './profiles.js';
import { simulate, type SimulateOptions } from './simulate.js';

const dir = fileURLToPath(new URL('../../../contracts/', import.meta.url));
const contracts = loadContractsOrThrow(
  readdirSync(dir)
    .filter(isContractFile)
    .map((name) => ({ path: `contracts/${name}`, text: readFileSync(join(dir, name), 'utf8') })),
);
const parser = createEnvelopeParser<ContentUpsertedEvent>();
const START = Date.parse('2025-03-03T00:00:00Z');

function upserts(options: SimulateOptions): ContentUpsertedEvent[] {
  const out: ContentUpsertedEvent[] = [];
  for (const record of simulate(options).events) {
    if (record.topic !== 'content.changes.v1' || record.encoding) continue;
    try {
      const event = parser.parse({ value: record.value, headers: record.headers ?? {} });
      if (event.type === 'content.upserted') out.push(event);
    } catch {
      // poison records are the envelope's business, not the contract's
    }
  }
  return out;
}

const violationsOf = (event: ContentUpsertedEvent) =>
  evaluateDocument(contracts.settingsFor(event.data.system, event.data.contentClass)!, event);

const project = (p: SystemProfile) => ({
  classes: p.classes.map((c) => ({
    name: c.name,
    reviewIntervalMs: c.reviewIntervalMs,
    syncLagMs: c.syncLagMs,
    deleteSlaMs: c.deleteSlaMs,
    aclSlaMs: c.aclSlaMs,
  })),
  connectors: p.connectors.map((c) => ({
    name: c.name,
    heartbeatMs: c.heartbeatMs,
    failingRuns: c.failingRuns,
  })),
  referenceGraceMs: p.referenceGraceMs,
  nullRateWindowMs: p.nullRateWindowMs,
});

describe('the built-in profiles', () => {
  it('cover exactly the systems of the example contracts', () => {
    expect([...contracts.systems]).toEqual(Object.keys(DEFAULT_PROFILES).sort());
  });

  it.each(Object.keys(DEFAULT_PROFILES))(
    '%s: classes, SLAs, heartbeats and windows equal the contract',
    (system) => {
      const aligned = alignProfiles(contracts)[system]!;
      const sortByName = <T extends { name: string }>(list: T[]) =>
        [...list].sort((a, b) => a.name.localeCompare(b.name));
      const want = project(DEFAULT_PROFILES[system]!);
      const got = project(aligned);
      expect({ ...got, classes: sortByName(got.classes) }).toEqual({
        ...want,
        classes: sortByName(want.classes),
      });
      for (const feature of contracts.driftFeatures(system)) {
        const key = `${feature.kind}:${feature.field ?? ''}`;
        const window =
          DEFAULT_PROFILES[system]!.driftWindowMs[key] ??
          DEFAULT_PROFILES[system]!.driftWindowMs[feature.kind];
        if (
          feature.field === undefined ||
          ['sizeBytes', 'language', 'classification'].includes(feature.field)
        ) {
          expect([key, window]).toEqual([key, feature.windowMs]);
        }
      }
    },
  );
});

describe('clean documents satisfy the example contracts', () => {
  it.each([
    ['built-in profiles', undefined],
    ['profiles aligned from the contracts', alignProfiles(contracts)],
  ])('%s: no required, allowed or rule violation (shadow rules included)', (_, profiles) => {
    const events = upserts({
      seed: 99,
      docs: 600,
      days: 1,
      start: START,
      changesPerDocPerDay: 3,
      ...(profiles ? { profiles } : {}),
    });
    expect(events.length).toBeGreaterThan(1500);
    const broken = events.flatMap((e) =>
      violationsOf(e).map((v) => `${e.data.system}/${e.data.docId} ${v.check} ${v.key}`),
    );
    expect(broken).toEqual([]);
  });
});

describe('injected contract faults break what they are meant to', () => {
  const run = simulate({
    seed: 7,
    docs: 900,
    days: 0.5,
    start: START,
    faults: defaultFaultPlan(),
    changesPerDocPerDay: 6,
  });
  const events = upserts({
    seed: 7,
    docs: 900,
    days: 0.5,
    start: START,
    faults: defaultFaultPlan(),
    changesPerDocPerDay: 6,
  });
  const victimRevision = (system: string, docId: string, injectedAt: string) =>
    events.find(
      (e) => e.data.system === system && e.data.docId === docId && e.time === injectedAt,
    )!;

  it.each(['contract.required', 'contract.allowed', 'contract.rule'] as const)('%s', (check) => {
    const truth = run.truth.filter((t) => t.check === check && !t.optional);
    expect(truth.length).toBeGreaterThan(0);
    for (const t of truth) {
      const violations = violationsOf(
        victimRevision(t.subject.system, t.subject.docId!, t.injectedAt),
      );
      const mine = violations.filter(
        (v) => v.check === check && (t.subject.field === undefined || v.key === t.subject.field),
      );
      expect(mine.length, `${t.subject.docId!}: ${JSON.stringify(violations)}`).toBeGreaterThan(0);
      if (check === 'contract.rule' && t.detail?.['rule'])
        expect(mine.map((v) => v.key)).toContain(t.detail['rule']);
    }
  });

  it('contract.reference names a field the contract checks as a reference, with the grace period the truth assumes', () => {
    for (const t of run.truth.filter((x) => x.check === 'contract.reference' && !x.optional)) {
      const settings = contracts.settingsFor(t.subject.system)!;
      const reference = settings.references.find((r) => r.field === t.subject.field);
      expect(reference).toBeDefined();
      expect(Date.parse(t.detectableAt!) - Date.parse(t.injectedAt)).toBe(reference!.gracePeriodMs);
    }
  });

  it('contract.null-rate targets a field the contract limits, with the same window', () => {
    for (const t of run.truth.filter((x) => x.check === 'contract.null-rate' && !x.optional)) {
      const limit = contracts
        .settingsFor(t.subject.system)!
        .nullRates.find((n) => n.field === t.subject.field);
      expect(limit).toBeDefined();
      expect(Date.parse(t.detectableAt!) - Date.parse(t.injectedAt)).toBe(limit!.windowMs);
    }
  });

  it('drift faults target features the contracts watch', () => {
    for (const t of run.truth.filter((x) => x.check.startsWith('drift.') && !x.optional)) {
      const kind = t.check.slice('drift.'.length);
      const features = contracts.driftFeatures(t.subject.system).filter((f) => f.kind === kind);
      expect(
        features.some((f) => kind === 'volume' || f.field === t.subject.feature),
        t.check,
      ).toBe(true);
    }
  });
});
