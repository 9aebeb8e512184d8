import { ConfigError, createEnvelopeParser, EnvelopeError, parseTime } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { defaultFaultPlan } from './default-faults.js';
import { FAULT_KINDS, type FaultSpec } from './faults.js';
import { DEFAULT_PROFILES } from './profiles.js';
import { simulate, type SimulateOptions } from './simulate.js';
import type { SimRecord, TruthEntry } from './types.js';

const START = Date.parse('2025-03-03T00:00:00Z');
const HOUR = 3_600_000;
const parser = createEnvelopeParser<{
  type: string;
  id: string;
  time: string;
  data: Record<string, unknown>;
}>();

const lines = (events: Iterable<SimRecord>) => {
  let out = '';
  for (const r of events) out += `${JSON.stringify(r)}\n`;
  return out;
};

describe('determinism', () => {
  const options: SimulateOptions = {
    seed: 1,
    docs: 300,
    days: 0.5,
    start: START,
    faults: defaultFaultPlan(),
    noise: { duplicateShare: 0.05, binaryShare: 0.1, staleShare: 0.1 },
    inventoryChunkSize: 40,
    shuffleChunks: true,
  };

  it('gives byte-identical records and truth for the same seed, run after run', () => {
    const a = simulate(options);
    const b = simulate(options);
    const text = lines(a.events);
    expect(text.length).toBeGreaterThan(10_000);
    expect(lines(b.events)).toBe(text);
    expect(lines(a.events)).toBe(text); // the stream is re-iterable
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
  });

  it('gives a different stream and different victims for another seed', () => {
    const a = simulate(options);
    const b = simulate({ ...options, seed: 2 });
    expect(lines(b.events)).not.toBe(lines(a.events));
    const victims = (t: TruthEntry[]) => t.map((e) => e.subject.docId ?? '').join();
    expect(victims(b.truth)).not.toBe(victims(a.truth));
  });
});

describe('options', () => {
  it.each([
    [{ seed: 1.5 }, 'seed must be an integer, got 1.5'],
    [{ docs: 5 }, 'docs must be an integer ≥ 10 per system (30), got 5'],
    [{ days: 0 }, 'days must be in (0, 366], got 0'],
    [{ systems: ['a', 'a'] }, 'systems must not repeat: a, a'],
    [{ systems: ['Confluence'] }, 'systems must be lowercase names, got Confluence'],
    [
      { inventoryChunkSize: 20_000 },
      'inventoryChunkSize must be an integer from 1 to 10000, got 20000',
    ],
    [{ noise: { binaryShare: 2 } }, 'noise.binaryShare must be in [0, 1], got 2'],
  ] as Array<[Partial<SimulateOptions>, string]>)('%j is rejected', (patch, message) => {
    const run = () => simulate({ seed: 1, docs: 300, days: 1, start: START, ...patch });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });

  it.each([
    [
      { kind: 'parity.orphan', at: '1h', system: 'sharepoint' },
      'faults[0] (parity.orphan): system "sharepoint" is not simulated (systems: confluence, zendesk, gdrive)',
    ],
    [
      { kind: 'parity.orphan', at: '30h' },
      'faults[0] (parity.orphan): at 30h is not before the end of the run (2025-03-04T00:00:00.000Z)',
    ],
    [
      { kind: 'parity.orphan', at: '1m' },
      'faults[0] (parity.orphan): at 1m falls in the initial load, which ends at 2025-03-03T01:00:00.000Z',
    ],
    [
      { kind: 'freshness.sync-lag', at: '23h', count: 100, every: '1m' },
      'faults[0] (freshness.sync-lag): 100 victims every 1m from 23h run past the end of the run',
    ],
    [
      { kind: 'freshness.sync-lag', at: '2h', count: 500 },
      'faults[0] (freshness.sync-lag): not enough eligible documents in confluence for 500 victims',
    ],
    [
      { kind: 'parity.acl-mismatch', at: '2h', targets: ['nope'] },
      'faults[0] (parity.acl-mismatch): targets[0] "nope" is not a document of confluence present from the start',
    ],
    [
      { kind: 'freshness.connector-silent', at: '2h', for: '2h', system: 'zendesk' },
      /^faults\[0\] \(freshness\.connector-silent\): zendesk-guide is back \(2025-03-03T04:1\d:\d\d\.\d{3}Z\) before its heartbeat window \(6h\) runs out: nothing to detect; make "for" longer$/,
    ],
    [
      { kind: 'freshness.connector-silent', at: '2h', system: 'gdrive', connector: 'gdrive-hr' },
      'faults[0] (freshness.connector-silent): connector "gdrive-hr" is not one of gdrive\'s (gdrive-policies, gdrive-people)',
    ],
    [
      { kind: 'freshness.connector-failing', at: '22h', count: 5 },
      'faults[0] (freshness.connector-failing): 5 failed runs from 22h do not fit before the end of the run',
    ],
    [
      { kind: 'drift.numeric', at: '2h', contentClass: 'macro' },
      'faults[0] (drift.numeric): content class "macro" is not one of confluence\'s (policy, runbook, postmortem)',
    ],
    [
      { kind: 'contract.required', at: '2h', field: 'title' },
      /^faults\[0\] \(contract\.required\): title set to null breaks the content\.upserted event schema \(content\.upserted event breaks its schema: .*title.*\); a record that breaks its schema is an envelope\.invalid fault$/,
    ],
    [
      { kind: 'contract.null-rate', at: '2h', field: 'contentClass', as: 'null' },
      /^faults\[0\] \(contract\.null-rate\): contentClass set to null breaks the content\.upserted event schema/,
    ],
    [
      { kind: 'parity.mass-removal', at: '2h', system: 'confluence', share: 0.5 },
      'faults[0] (parity.mass-removal): removing 50 of confluence\'s 100 documents does not reach its mass-removal threshold (more than 0.2 of them, at least 200); raise "share"',
    ],
    [
      { kind: 'parity.mass-removal', at: '2h', system: 'zendesk', share: 0.9, every: '1m' },
      'faults[0] (parity.mass-removal): 90 removals every 1m take longer than the 30m mass-removal window; shorten "every"',
    ],
  ] as Array<[FaultSpec, string | RegExp]>)(
    'a plan that does not fit the run: %j',
    (fault, message) => {
      const run = () =>
        simulate({ seed: 1, docs: 300, days: 1, start: START, faults: { faults: [fault] } });
      expect(run).toThrow(ConfigError);
      try {
        run();
      } catch (error) {
        const problems = (error as ConfigError).problems;
        expect(problems).toHaveLength(1);
        if (typeof message === 'string') expect(problems[0]).toBe(message);
        else expect(problems[0]).toMatch(message);
      }
    },
  );

  // Optional means nullable (issue 13): an optional field is nulled, not left out, and the event still decodes.
  it('nulls an optional field such as language, and the event passes its schema', () => {
    const { events, truth } = simulate({
      seed: 5,
      docs: 300,
      days: 0.5,
      start: START,
      changesPerDocPerDay: 10,
      faults: {
        faults: [
          { kind: 'contract.null-rate', at: '50%', field: 'language', system: 'zendesk', share: 1 },
        ],
      },
    });
    expect(truth[0]!.detail).toEqual({
      share: 1,
      as: 'null',
      classes: ['article', 'faq', 'macro'],
    });
    const after = [...events]
      .map(decode)
      .filter(
        (d) =>
          d.ok &&
          d.type === 'content.upserted' &&
          d.data['system'] === 'zendesk' &&
          d.time >= Date.parse(truth[0]!.injectedAt),
      );
    expect(after.length).toBeGreaterThan(20);
    for (const d of after) {
      expect(String(d.record.value)).toContain('"language":null');
      // Handed on as absent: checks see one shape for "no value".
      expect(d.ok && 'language' in d.data).toBe(false);
    }
  });
});

// One simulated run with every fault of the default plan, read back like a consumer would.
type Decoded =
  | {
      record: SimRecord;
      ok: true;
      type: string;
      id: string;
      time: number;
      data: Record<string, unknown>;
    }
  | { record: SimRecord; ok: false; error: EnvelopeError };

function decode(record: SimRecord): Decoded {
  try {
    const value = record.encoding === 'base64' ? Buffer.from(record.value, 'base64') : record.value;
    const e = parser.parse({ value, headers: record.headers ?? {} });
    return { record, ok: true, type: e.type, id: e.id, time: parseTime(e.time), data: e.data };
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    return { record, ok: false, error };
  }
}

const run = simulate({
  seed: 20250303,
  docs: 900,
  days: 0.5,
  start: START,
  faults: defaultFaultPlan(),
  changesPerDocPerDay: 6,
  deletesPerDocPerDay: 0.05,
  inventoryChunkSize: 100,
  shuffleChunks: true,
  noise: { duplicateShare: 0.03, binaryShare: 0.1, staleShare: 0.1 },
});
const range = (n: number) => Array.from({ length: n }, (_, k) => k);
const records = [...run.events];
const decoded = records.map(decode);
// Duplicate deliveries repeat an event id; the oracle reads each event once.
const seenIds = new Set<string>();
const events = decoded.flatMap((d) => {
  if (!d.ok || seenIds.has(d.id)) return [];
  seenIds.add(d.id);
  return [d];
});
const required = run.truth.filter((t) => !t.optional);
const byCheck = (check: string) => required.filter((t) => t.check === check);
const docKey = (d: Record<string, unknown>) => `${d['system'] as string}/${d['docId'] as string}`;
const of = (type: string, key?: string) =>
  events.filter((e) => e.type === type && (key === undefined || docKey(e.data) === key));
const at = (t: TruthEntry) => parseTime(t.injectedAt);
const end = parseTime(run.meta.end);

/** Latest complete inventory per (system, side) at each snapshot time. */
function inventories(): Array<{ system: string; side: string; time: number; ids: Set<string> }> {
  const snaps = new Map<
    string,
    { system: string; side: string; time: number; chunks: number; parts: Map<number, string[]> }
  >();
  for (const e of of('inventory.snapshot')) {
    const d = e.data as {
      system: string;
      side: string;
      snapshotId: string;
      chunk: number;
      chunks: number;
      docIds: string[];
    };
    const s = snaps.get(d.snapshotId) ?? {
      system: d.system,
      side: d.side,
      time: e.time,
      chunks: d.chunks,
      parts: new Map(),
    };
    s.parts.set(d.chunk, d.docIds);
    snaps.set(d.snapshotId, s);
  }
  // Only the snapshots a parity.snapshot-incomplete fault names lack a chunk (their last one).
  const lost = byCheck('parity.snapshot-incomplete').map(
    (t) => `${t.subject.system} ${t.subject.feature} ${Date.parse(t.injectedAt)}`,
  );
  const complete = [...snaps.values()].filter((s) => {
    const incomplete = s.parts.size < s.chunks;
    expect(incomplete).toBe(lost.includes(`${s.system} inventory.${s.side} ${s.time}`));
    if (incomplete) expect([...s.parts.keys()].sort()).toEqual(range(s.chunks - 1));
    return !incomplete;
  });
  return complete.map((s) => {
    expect(s.parts.size).toBe(s.chunks);
    return {
      system: s.system,
      side: s.side,
      time: s.time,
      ids: new Set([...s.parts.values()].flat()),
    };
  });
}

describe('the stream', () => {
  it('is in event-time order and every record is a valid CloudEvent except the poison', () => {
    for (let k = 1; k < records.length; k++)
      expect(records[k]!.time >= records[k - 1]!.time).toBe(true);
    const bad = decoded.filter((d) => !d.ok);
    const poisonTruth = byCheck('envelope.invalid').length + byCheck('contract.schema').length;
    expect(bad).toHaveLength(poisonTruth);
    expect(events.length).toBeGreaterThan(5000);
    for (const e of events) expect(e.record.time).toBeGreaterThanOrEqual(e.time);
  });

  it('carries every kind of event, in both structured and binary mode, with duplicates', () => {
    const types = new Set(events.map((e) => e.type));
    expect(types).toEqual(
      new Set([
        'content.upserted',
        'content.deleted',
        'index.upserted',
        'index.removed',
        'connector.run',
        'inventory.snapshot',
      ]),
    );
    expect(records.some((r) => r.headers?.['ce_specversion'] === '1.0')).toBe(true);
    expect(decoded.filter((d) => d.ok).length).toBeGreaterThan(events.length);
    for (const system of ['confluence', 'zendesk', 'gdrive']) {
      const classes = new Set(
        of('content.upserted')
          .filter((e) => e.data['system'] === system)
          .map((e) => e.data['contentClass']),
      );
      expect(classes).toEqual(new Set(DEFAULT_PROFILES[system]!.classes.map((c) => c.name)));
    }
  });

  it('cuts inventories into chunks of at most the chunk size, keyed by system', () => {
    const chunks = of('inventory.snapshot');
    expect(chunks.length).toBeGreaterThan(6 * 3);
    for (const e of chunks) {
      expect((e.data['docIds'] as string[]).length).toBeLessThanOrEqual(100);
      expect(e.record.key).toBe(e.data['system']);
      expect(e.record.topic).toBe('inventory.snapshots.v1');
    }
    // Every snapshot but the one a parity.snapshot-incomplete fault cuts short is complete.
    expect(inventories().length).toBe(
      new Set(chunks.map((e) => e.data['snapshotId'])).size -
        byCheck('parity.snapshot-incomplete').length,
    );
  });

  it('links each indexing to its source change by trace id', () => {
    const traces = new Map(
      of('content.upserted').map((e) => [
        `${docKey(e.data)}@${String(e.data['revision'])}`,
        e.record.headers?.['traceparent'],
      ]),
    );
    const linked = of('index.upserted').filter((e) => {
      const source = traces.get(`${docKey(e.data)}@${String(e.data['revision'])}`);
      return (
        source !== undefined &&
        source.split('-')[1] === e.record.headers?.['traceparent']?.split('-')[1]
      );
    });
    expect(linked.length).toBeGreaterThan(0.95 * of('index.upserted').length);
  });
});

describe('ground truth', () => {
  it('has a required entry for every check id of the outputs spec', () => {
    expect(new Set(required.map((t) => t.check))).toEqual(new Set(FAULT_KINDS));
  });

  it('lets every required fault be decided within the run', () => {
    expect(run.meta.warnings).toEqual([]);
    for (const t of required) expect(parseTime(t.detectableAt!)).toBeLessThanOrEqual(end);
  });
});

describe('every fault is in the stream in its intended form', () => {
  const expectedReason = {
    'invalid-json': 'invalid-json',
    'not-cloudevent': 'not-cloudevent',
    'unknown-type': 'unknown-type',
    schema: 'schema',
  } as const;

  it('envelope.invalid: poison records fail the envelope parser for the intended reason', () => {
    const poison = decoded.filter(
      (d): d is Extract<Decoded, { ok: false }> => !d.ok && d.record.encoding === undefined,
    );
    const truth = byCheck('envelope.invalid');
    expect(truth).toHaveLength(4);
    expect(poison.map((p) => p.error.reason)).toEqual(
      truth.map((t) => expectedReason[t.detail!['form'] as keyof typeof expectedReason]),
    );
    poison.forEach((p, k) => {
      expect(p.record.time).toBe(at(truth[k]!));
      expect(p.record.key).toBe(`${truth[k]!.subject.system}/${truth[k]!.subject.docId!}`);
      expect(p.record.topic).toBe('content.changes.v1');
    });
  });

  it('contract.schema: a Confluent-framed record whose payload breaks the event schema', () => {
    const [truth] = byCheck('contract.schema');
    const framed = records.filter((r) => r.encoding === 'base64');
    expect(framed).toHaveLength(1);
    const bytes = Buffer.from(framed[0]!.value, 'base64');
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(1);
    expect(framed[0]!.time).toBe(at(truth!));
    const payload: unknown = JSON.parse(bytes.subarray(5).toString('utf8'));
    expect(() => parser.validate(payload)).toThrow(expect.objectContaining({ reason: 'schema' }));
  });

  const victimRevision = (t: TruthEntry) => {
    const hit = of('content.upserted', `${t.subject.system}/${t.subject.docId!}`).find(
      (e) => e.time === at(t),
    );
    expect(hit, `${t.check} ${t.subject.docId!}`).toBeDefined();
    return hit!;
  };

  it('contract.required / allowed / rule / reference: the victim revision carries the broken value', () => {
    for (const t of byCheck('contract.required'))
      expect(victimRevision(t).data[t.subject.field!]).toBeNull();
    for (const t of byCheck('contract.allowed'))
      expect(victimRevision(t).data[t.subject.field!]).toBe('top-secret');
    for (const t of byCheck('contract.rule')) {
      const data = victimRevision(t).data;
      expect([data['deprecated'], data['supersededBy']]).toEqual([true, null]);
    }
    const known = new Set(of('content.upserted').map((e) => docKey(e.data)));
    for (const t of byCheck('contract.reference')) {
      const data = victimRevision(t).data;
      expect(data['supersededBy']).toBe(t.detail!['supersededBy']);
      expect(known.has(data['supersededBy'] as string)).toBe(false);
    }
  });

  it('contract.null-rate: the field is null on about the planned share of revisions, and never before', () => {
    const [t] = byCheck('contract.null-rate');
    const victims = new Set(run.truth.flatMap((x) => (x.subject.docId ? [x.subject.docId] : [])));
    const upserts = of('content.upserted').filter(
      (e) => e.data['system'] === t!.subject.system && !victims.has(e.data['docId'] as string),
    );
    const share = (list: typeof upserts) =>
      list.filter((e) => e.data[t!.subject.field!] === null).length / list.length;
    expect(share(upserts.filter((e) => e.time < at(t!)))).toBe(0);
    expect(share(upserts.filter((e) => e.time >= at(t!)))).toBeGreaterThan(0.2);
    expect(share(upserts.filter((e) => e.time >= at(t!)))).toBeLessThan(0.4);
  });

  it('freshness.sync-lag: the index never applies the victim revision', () => {
    for (const t of byCheck('freshness.sync-lag')) {
      const rev = victimRevision(t).data['revision'] as number;
      const applied = of('index.upserted', `${t.subject.system}/${t.subject.docId!}`).filter(
        (e) => (e.data['revision'] as number) >= rev,
      );
      expect(applied).toEqual([]);
    }
  });

  it('freshness.review-overdue: the victim revision was reviewed more than a review interval ago', () => {
    for (const t of byCheck('freshness.review-overdue')) {
      const data = victimRevision(t).data;
      const klass = DEFAULT_PROFILES[t.subject.system]!.classes.find(
        (c) => c.name === data['contentClass'],
      )!;
      expect(parseTime(data['reviewedAt'] as string) + klass.reviewIntervalMs!).toBeLessThan(at(t));
    }
  });

  const runsOf = (connector: string) =>
    of('connector.run').filter((e) => e.data['connector'] === connector);

  it('freshness.connector-silent: no runs and no indexing for the planned four hours, then a catch-up', () => {
    const [t] = byCheck('freshness.connector-silent');
    const from = at(t!);
    const runs = runsOf(t!.subject.connector!);
    expect(runs.filter((e) => e.time >= from && e.time < from + 4 * HOUR)).toEqual([]);
    expect(runs.some((e) => e.time >= from + 4 * HOUR && e.data['status'] === 'succeeded')).toBe(
      true,
    );
    const indexing = [...of('index.upserted'), ...of('index.removed')].filter(
      (e) => e.data['connector'] === t!.subject.connector,
    );
    expect(indexing.filter((e) => e.time > from + 10 * 60_000 && e.time < from + 4 * HOUR)).toEqual(
      [],
    );
    expect(indexing.filter((e) => e.time >= from + 4 * HOUR).length).toBeGreaterThan(0);
  });

  it('freshness.connector-failing: three failed runs in a row from the injection on', () => {
    const [t] = byCheck('freshness.connector-failing');
    const ends = runsOf(t!.subject.connector!).filter((e) => e.data['status'] !== 'started');
    const first = ends.findIndex((e) => e.time === at(t!));
    expect(ends.slice(first, first + 4).map((e) => e.data['status'])).toEqual([
      'failed',
      'failed',
      'failed',
      'succeeded',
    ]);
    expect(ends.slice(0, first).every((e) => e.data['status'] === 'succeeded')).toBe(true);
    expect(typeof ends[first]!.data['error']).toBe('string');
  });

  it('parity.delete-missed: deleted at the source, never removed from the index, still in its inventory', () => {
    for (const t of byCheck('parity.delete-missed')) {
      const key = `${t.subject.system}/${t.subject.docId!}`;
      expect(of('content.deleted', key).map((e) => e.time)).toEqual([at(t)]);
      expect(of('index.removed', key)).toEqual([]);
      const later = inventories().filter((s) => s.system === t.subject.system && s.time > at(t));
      expect(later.length).toBeGreaterThan(0);
      for (const s of later) expect(s.ids.has(t.subject.docId!)).toBe(s.side === 'index');
    }
  });

  it('parity.resurrected: deleted, removed, then upserted again with an older revision', () => {
    for (const t of byCheck('parity.resurrected')) {
      const key = `${t.subject.system}/${t.subject.docId!}`;
      const [deleted] = of('content.deleted', key);
      const [removed] = of('index.removed', key);
      const back = of('index.upserted', key).filter((e) => e.time === at(t));
      expect(removed!.data['revision']).toBe(deleted!.data['revision']);
      expect(back).toHaveLength(1);
      expect(back[0]!.time).toBeGreaterThan(removed!.time);
      expect(back[0]!.data['revision'] as number).toBeLessThan(deleted!.data['revision'] as number);
    }
  });

  it('parity.acl-mismatch: the index applies the revision with the old access list', () => {
    for (const t of byCheck('parity.acl-mismatch')) {
      const source = victimRevision(t);
      const applied = of('index.upserted', `${t.subject.system}/${t.subject.docId!}`).find(
        (e) => e.data['revision'] === source.data['revision'],
      );
      expect(applied).toBeDefined();
      expect(applied!.data['aclHash']).not.toBe(source.data['aclHash']);
    }
  });

  it('parity.orphan: ids only the index inventory holds, never seen at the source', () => {
    const contentKeys = new Set(of('content.upserted').map((e) => docKey(e.data)));
    for (const t of byCheck('parity.orphan')) {
      expect(contentKeys.has(`${t.subject.system}/${t.subject.docId!}`)).toBe(false);
      const snaps = inventories().filter((s) => s.system === t.subject.system);
      expect(
        snaps.some((s) => s.side === 'index' && s.time >= at(t) && s.ids.has(t.subject.docId!)),
      ).toBe(true);
      expect(
        snaps.some((s) => s.ids.has(t.subject.docId!) && (s.side === 'source' || s.time < at(t))),
      ).toBe(false);
    }
  });

  it('parity.missing: created at the source, never indexed, in source inventories only', () => {
    for (const t of byCheck('parity.missing')) {
      const key = `${t.subject.system}/${t.subject.docId!}`;
      expect(of('content.upserted', key)[0]!.time).toBe(at(t));
      expect([...of('index.upserted', key), ...of('index.removed', key)]).toEqual([]);
      const later = inventories().filter(
        (s) => s.system === t.subject.system && s.time > parseTime(t.detectableAt!) - 1,
      );
      expect(later.length).toBeGreaterThan(0);
      for (const s of later) expect(s.ids.has(t.subject.docId!)).toBe(s.side === 'source');
    }
  });

  const contentOf = (system: string) =>
    of('content.upserted').filter((e) => e.data['system'] === system);

  it('drift.numeric: sizes shrink to about a tenth from the injection on', () => {
    const [t] = byCheck('drift.numeric');
    const mean = (list: ReturnType<typeof contentOf>) =>
      list.reduce((a, e) => a + (e.data['sizeBytes'] as number), 0) / list.length;
    const all = contentOf(t!.subject.system).filter(
      (e) => e.time > parseTime(run.meta.start) + HOUR,
    );
    const ratio =
      mean(all.filter((e) => e.time >= at(t!))) / mean(all.filter((e) => e.time < at(t!)));
    expect(ratio).toBeGreaterThan(0.05);
    expect(ratio).toBeLessThan(0.2);
  });

  it('drift.categorical: language flips to "und" on about 80% of revisions', () => {
    const [t] = byCheck('drift.categorical');
    const all = contentOf(t!.subject.system);
    const share = (list: typeof all) =>
      list.filter((e) => e.data['language'] === 'und').length / list.length;
    expect(share(all.filter((e) => e.time < at(t!)))).toBe(0);
    expect(share(all.filter((e) => e.time >= at(t!)))).toBeGreaterThan(0.65);
    expect(share(all.filter((e) => e.time >= at(t!)))).toBeLessThan(0.95);
  });

  it('drift.volume: the change rate drops by about 80%', () => {
    const [t] = byCheck('drift.volume');
    const backfillEnd = parseTime(run.meta.start) + HOUR;
    // Re-attestations and creations follow their own clocks; the random change process is what the fault thins.
    const all = contentOf(t!.subject.system).filter((e) => e.time > backfillEnd);
    const rate = (from: number, to: number) =>
      all.filter((e) => e.time >= from && e.time < to).length / (to - from);
    const ratio = rate(at(t!), end) / rate(backfillEnd, at(t!));
    expect(ratio).toBeGreaterThan(0.08);
    expect(ratio).toBeLessThan(0.35);
  });
});

describe('clean documents stay clean', () => {
  const victims = new Set(
    run.truth.flatMap((t) => (t.subject.docId ? [`${t.subject.system}/${t.subject.docId}`] : [])),
  );
  // Systems with a connector outage, from the outage on: the index legitimately falls behind there.
  const outages = required.filter((t) => t.check.startsWith('freshness.connector-'));
  const outageFrom = new Map(outages.map((t) => [t.subject.system, at(t)]));
  const outageConnectors = new Set(outages.map((t) => t.subject.connector));
  // Population faults change fields of every document of a system from their start.
  const changed = (system: string, field: string, time: number) =>
    required.some(
      (t) =>
        t.subject.system === system &&
        (t.subject.field === field || t.subject.feature === field) &&
        ['contract.null-rate', 'drift.numeric', 'drift.categorical'].includes(t.check) &&
        time >= at(t),
    );
  const clean = (e: { data: Record<string, unknown> }) => !victims.has(docKey(e.data));

  it('every clean revision has the metadata the example contracts ask for', () => {
    const upserts = of('content.upserted').filter(clean);
    expect(upserts.length).toBeGreaterThan(2000);
    for (const e of upserts) {
      const d = e.data;
      const p = DEFAULT_PROFILES[d['system'] as string]!;
      const klass = p.classes.find((c) => c.name === d['contentClass']);
      expect(klass).toBeDefined();
      if (!changed(p.system, 'owner', e.time)) expect(p.owners).toContain(d['owner']);
      expect(d['effectiveDate']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Date.parse(d['effectiveDate'] as string)).toBeLessThanOrEqual(e.time);
      expect(p.classifications.map(([c]) => c)).toContain(d['classification']);
      if (!changed(p.system, 'language', e.time))
        expect(p.languages.map(([l]) => l)).toContain(d['language']);
      if (klass!.reviewIntervalMs !== undefined) {
        expect(parseTime(d['reviewedAt'] as string) + klass!.reviewIntervalMs).toBeGreaterThan(end);
      }
      expect(typeof d['title']).toBe('string');
      expect(d['sizeBytes'] as number).toBeGreaterThan(0);
      if (!changed(p.system, 'sizeBytes', e.time)) {
        expect(d['sizeBytes'] as number).toBeLessThanOrEqual(klass!.sizeMaxBytes ?? Infinity);
      }
      if (d['deprecated'] === true) expect(d['supersededBy']).toMatch(new RegExp(`^${p.system}/`));
      else expect(d['supersededBy']).toBeNull();
    }
  });

  it('a deprecated document names a successor that exists and is never deleted', () => {
    const deleted = new Set(of('content.deleted').map((e) => docKey(e.data)));
    const published = new Map<string, number>();
    for (const e of of('content.upserted'))
      if (!published.has(docKey(e.data))) published.set(docKey(e.data), e.time);
    const deprecated = of('content.upserted').filter(
      (e) => clean(e) && e.data['deprecated'] === true,
    );
    expect(deprecated.length).toBeGreaterThan(5);
    for (const e of deprecated) {
      const successor = e.data['supersededBy'] as string;
      expect(published.get(successor)).toBeLessThanOrEqual(e.time);
      expect(deleted.has(successor)).toBe(false);
    }
  });

  it('the index applies every clean change within the sync-lag SLA, with the same access list', () => {
    const index = new Map<string, Array<{ time: number; rev: number; acl: unknown }>>();
    for (const e of of('index.upserted')) {
      const list = index.get(docKey(e.data)) ?? [];
      list.push({ time: e.time, rev: e.data['revision'] as number, acl: e.data['aclHash'] });
      index.set(docKey(e.data), list);
    }
    const sourceAcl = new Map(
      of('content.upserted').map((e) => [
        `${docKey(e.data)}@${String(e.data['revision'])}`,
        e.data['aclHash'],
      ]),
    );
    let checked = 0;
    for (const e of of('content.upserted').filter(clean)) {
      const system = e.data['system'] as string;
      const klass = DEFAULT_PROFILES[system]!.classes.find(
        (c) => c.name === e.data['contentClass'],
      )!;
      // A change whose indexing falls into a connector outage waits for the catch-up.
      if (e.time + klass.syncLagMs >= (outageFrom.get(system) ?? Infinity)) continue;
      const applied = (index.get(docKey(e.data)) ?? []).find(
        (x) => x.rev >= (e.data['revision'] as number),
      );
      expect(applied, docKey(e.data)).toBeDefined();
      expect(applied!.time - e.time).toBeLessThanOrEqual(klass.syncLagMs);
      checked++;
    }
    expect(checked).toBeGreaterThan(1500);
    for (const e of of('index.upserted').filter(clean)) {
      expect(e.data['aclHash']).toBe(
        sourceAcl.get(`${docKey(e.data)}@${String(e.data['revision'])}`),
      );
    }
  });

  it('clean deletions are removed from the index within the delete SLA and never come back', () => {
    const deletions = of('content.deleted').filter(clean);
    expect(deletions.length).toBeGreaterThan(5);
    for (const e of deletions) {
      const key = docKey(e.data);
      const p = DEFAULT_PROFILES[e.data['system'] as string]!;
      const klass = p.classes.find((c) => c.name === e.data['contentClass'])!;
      if (e.time + klass.deleteSlaMs >= (outageFrom.get(p.system) ?? Infinity)) continue;
      const removed = of('index.removed', key).find(
        (x) => x.data['revision'] === e.data['revision'],
      );
      expect(removed!.time - e.time).toBeLessThanOrEqual(klass.deleteSlaMs);
      expect(of('index.upserted', key).filter((x) => x.time > removed!.time)).toEqual([]);
      expect(of('content.upserted', key).filter((x) => x.time > e.time)).toEqual([]);
    }
  });

  it('connectors without an outage succeed well within their heartbeat, every run', () => {
    const connectors = Object.values(DEFAULT_PROFILES).flatMap((p) => p.connectors);
    let healthy = 0;
    for (const c of connectors) {
      if (outageConnectors.has(c.name)) continue;
      const ends = of('connector.run').filter(
        (e) => e.data['connector'] === c.name && e.data['status'] !== 'started',
      );
      expect(ends.length).toBeGreaterThanOrEqual(11);
      expect(ends.every((e) => e.data['status'] === 'succeeded')).toBe(true);
      let last = parseTime(run.meta.start);
      for (const e of [...ends, { time: end }]) {
        expect(e.time - last).toBeLessThan(c.heartbeatMs);
        last = e.time;
      }
      healthy++;
    }
    expect(healthy).toBe(connectors.length - 2);
  });

  it('source and index inventories differ only by documents in flight or hit by a fault', () => {
    const lastChange = new Map<string, number[]>();
    for (const e of [...of('content.upserted'), ...of('content.deleted')]) {
      const list = lastChange.get(docKey(e.data)) ?? [];
      list.push(e.time);
      lastChange.set(docKey(e.data), list);
    }
    const snaps = inventories();
    let compared = 0;
    for (const source of snaps.filter((s) => s.side === 'source')) {
      const index = snaps.find(
        (s) => s.side === 'index' && s.system === source.system && s.time === source.time,
      )!;
      if (source.time >= (outageFrom.get(source.system) ?? Infinity)) continue;
      const differ = [
        ...[...source.ids].filter((id) => !index.ids.has(id)),
        ...[...index.ids].filter((id) => !source.ids.has(id)),
      ];
      for (const id of differ) {
        const key = `${source.system}/${id}`;
        const inFlight = (lastChange.get(key) ?? []).some(
          (t) => t <= source.time && source.time - t < 10 * 60_000,
        );
        expect(inFlight || victims.has(key), key).toBe(true);
      }
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });
});

describe('issue 13 injections: mass removal, incomplete and shuffled inventories, binary mode, stale and duplicate deliveries', () => {
  it('parity.mass-removal: the index removes a share of one system within its window, the source keeps them, the connector re-indexes them', () => {
    const [t] = byCheck('parity.mass-removal');
    expect(t).toMatchObject({ subject: { system: 'zendesk' }, detail: { for: '1h' } });
    const removedCount = t!.detail!['removed'] as number;
    const system = run.meta.systems.find((x) => x.system === 'zendesk')!;
    expect(removedCount).toBe(Math.round(0.5 * system.docs));
    const removals = of('index.removed').filter(
      (e) => e.data['system'] === 'zendesk' && e.time >= at(t!) && e.time < at(t!) + 30 * 60_000,
    );
    const deletedKeys = new Set(of('content.deleted').map((e) => docKey(e.data)));
    const burst = removals.filter((e) => !deletedKeys.has(docKey(e.data)));
    expect(burst).toHaveLength(removedCount);
    // Within the contract's window (30m), all by the system's one connector.
    expect(burst.at(-1)!.time - burst[0]!.time).toBeLessThan(30 * 60_000);
    expect(new Set(burst.map((e) => e.data['connector']))).toEqual(new Set(['zendesk-guide']));
    // Re-indexed an hour later at the revision the source holds.
    for (const e of burst.slice(0, 20)) {
      const key = docKey(e.data);
      const back = of('index.upserted', key).filter((u) => u.time > e.time);
      expect(back[0]!.time).toBe(e.time + HOUR);
      expect(back[0]!.data['revision']).toBe(e.data['revision']);
    }
  });

  it('parity.snapshot-incomplete: the named snapshot lacks its last chunk, decidable after the expiry', () => {
    const [t] = byCheck('parity.snapshot-incomplete');
    expect(t).toMatchObject({ subject: { system: 'zendesk', feature: 'inventory.index' } });
    // zendesk's snapshot expiry is 1h (its profile mirrors contracts/zendesk.yaml's default).
    expect(parseTime(t!.detectableAt!) - at(t!)).toBe(HOUR);
    // inventories() asserts the incomplete one lacks exactly its last chunk, and every other is complete.
    expect(inventories().length).toBeGreaterThan(10);
  });

  it('multi-chunk inventories arrive in a shuffled order', () => {
    const orders = new Map<string, number[]>();
    for (const e of of('inventory.snapshot')) {
      const id = e.data['snapshotId'] as string;
      orders.set(id, [...(orders.get(id) ?? []), e.data['chunk'] as number]);
    }
    const multi = [...orders.values()].filter((o) => o.length > 1);
    expect(multi.length).toBeGreaterThan(5);
    expect(multi.some((o) => o.join() !== [...o].sort((a, b) => a - b).join())).toBe(true);
  });

  it('binary mode covers every kind of record, with the Kafka binding headers, and decodes to the same event', () => {
    const binary = decoded.filter((d) => d.ok && d.record.headers?.['ce_specversion'] === '1.0');
    const types = new Set(binary.map((d) => d.ok && d.type));
    expect([...types].sort()).toEqual(
      [
        'connector.run',
        'content.deleted',
        'content.upserted',
        'index.removed',
        'index.upserted',
        'inventory.snapshot',
      ].sort(),
    );
    for (const d of binary.slice(0, 50)) {
      const h = d.record.headers!;
      expect(h['content-type']).toBe('application/json');
      expect(
        Object.keys(h)
          .filter((k) => k.startsWith('ce_'))
          .sort(),
      ).toEqual(
        ['ce_id', 'ce_source', 'ce_specversion', 'ce_time', 'ce_type']
          .concat(h['ce_subject'] === undefined ? [] : ['ce_subject'])
          .sort(),
      );
      // The value is `data` alone.
      expect(JSON.parse(d.record.value)).toEqual(d.ok && d.data);
    }
  });

  it('stale index events: an older revision delivered after a newer one, its own older time kept', () => {
    const newest = new Map<string, { revision: number; time: number }>();
    const stale: Array<{ key: string; revision: number; time: number; newer: number }> = [];
    const ids = new Set<string>();
    for (const d of decoded) {
      if (!d.ok || d.type !== 'index.upserted') continue;
      const key = docKey(d.data);
      const revision = d.data['revision'] as number;
      const seen = newest.get(key);
      if (seen && revision < seen.revision) {
        stale.push({ key, revision, time: d.time, newer: seen.time });
        // A redelivery: the same event id was delivered before.
        expect(ids.has(d.id)).toBe(true);
      } else newest.set(key, { revision, time: d.time });
      ids.add(d.id);
    }
    expect(stale.length).toBeGreaterThan(10);
    for (const x of stale) expect(x.time).toBeLessThan(x.newer);
    // Never about a document a fault touches: their truth is "nothing fires".
    const victims = new Set(run.truth.map((t) => `${t.subject.system}/${t.subject.docId}`));
    expect(stale.filter((x) => victims.has(x.key))).toEqual([]);
  });

  it('duplicate deliveries repeat every kind of record, same id and bytes', () => {
    const seen = new Map<string, string>();
    const dupTypes = new Set<string>();
    for (const d of decoded) {
      if (!d.ok) continue;
      const before = seen.get(d.id);
      if (before !== undefined && !(d.type === 'index.upserted')) {
        expect(d.record.value).toBe(before);
        dupTypes.add(d.type);
      }
      seen.set(d.id, d.record.value);
    }
    expect(dupTypes.has('connector.run')).toBe(true);
    expect(dupTypes.has('content.upserted')).toBe(true);
    expect(dupTypes.has('inventory.snapshot')).toBe(true);
  });

  it('a null-rate fault without a class nulls the field in several classes of the system', () => {
    const [t] = byCheck('contract.null-rate');
    const classes = t!.detail!['classes'] as string[];
    expect(classes.length).toBeGreaterThan(1);
    const nulled = of('content.upserted').filter(
      (e) =>
        e.data['system'] === t!.subject.system &&
        e.time >= at(t!) &&
        (e.data[t!.subject.field!] ?? null) === null,
    );
    expect(new Set(nulled.map((e) => e.data['contentClass'])).size).toBeGreaterThan(1);
  });
});
