// The freshness-monitor (services/freshness-monitor/dist, the real built process) through the real broker,
// on the wall clock with SLAs of seconds and a tick every second: a never-indexed document fires
// freshness.sync-lag at its deadline; a SIGKILL between a document's change and its deadline still fires it
// exactly once (and does not re-fire one that fired before); a document indexed in time fires nothing, and
// its lag lands in tidemark_sync_lag_seconds.
import { histogramSeries } from '@tidemark/cli';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTime, stateTopic, type Finding } from '@tidemark/core';
import {
  committedOffsets,
  endOffsets,
  produce,
  serviceHarness,
  unique,
  waitUntil,
} from '../runtime/helpers.js';
import {
  CONNECTOR,
  FreshnessProcess,
  freshnessSetup,
  indexed,
  SYSTEM,
  upserted,
} from './helpers.js';

const SYNC_LAG = 'freshness.sync-lag';
const SECOND = 1000;

interface FindingEvent {
  id: string;
  source: string;
  data: Finding;
}

const harness = serviceHarness((env) => new FreshnessProcess(env));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Topics, a contracts directory and the service env for one test; a collector on findings and DLQ. */
async function setup(classes: Record<string, string>) {
  const setup = await freshnessSetup('fm', classes);
  const { t } = setup;
  dirs.push(setup.dir);
  const name = setup.env.SERVICE_NAME;
  const group = setup.env.KAFKA_GROUP_ID;
  const env = {
    ...setup.env,
    TICK_SCHEDULE: '* * * * * *',
    // A SIGKILLed member holds its partitions until its session expires: keep that short.
    KAFKA_SESSION_TIMEOUT: '6s',
  };
  const out = await harness.collect([t.findings, t.dlq]);
  const start = async () => {
    const p = harness.start(env);
    await p.waitReady();
    return p;
  };
  const findings = () => out.json<FindingEvent>(t.findings);
  const syncLag = (docId: string) =>
    findings().filter((e) => e.data.check === SYNC_LAG && e.data.subject.docId === docId);
  /** Every input record so far handled, in the changelog, and committed (the runtime commits last). */
  const handled = (topic: string) =>
    waitUntil(`offsets of ${group} on ${topic} committed`, async () => {
      const [committed, ends] = await Promise.all([
        committedOffsets(group, topic),
        endOffsets(topic),
      ]);
      return [...ends].every(([p, high]) => high === '0' || committed.get(p) === high);
    });
  /** The collector has read every finding the broker holds now. */
  const caughtUp = async () => {
    const ends = await endOffsets(t.findings);
    await out.waitFor('collector caught up with the findings topic', () =>
      [...ends].every(
        ([p, high]) =>
          high === '0' ||
          out
            .on(t.findings)
            .some((r) => r.partition === p && BigInt(r.offset) + 1n >= BigInt(high)),
      ),
    );
  };
  return { t, name, start, out, findings, syncLag, handled, caughtUp };
}

describe('freshness-monitor through the real broker', () => {
  it('fires sync-lag for never-indexed documents at their deadline, exactly once across a SIGKILL restart', async () => {
    const s = await setup({ runbook: '12s' });
    const first = await s.start();

    const early = unique('early'); // class faq: the system's 3s SLA, fires before the restart
    const late = unique('late'); // class runbook: 12s, its deadline falls after the restart
    const at = Date.now();
    const earlyDeadline = at + 3 * SECOND;
    const lateDeadline = at + 12 * SECOND;
    await produce(s.t.content, [upserted(early, 'faq', at), upserted(late, 'runbook', at)]);

    await s.out.waitFor(`${early} firing`, () => s.syncLag(early).length > 0, 20_000);
    // Decided by a wall-clock tick at the deadline, never on receipt of the change.
    expect(Date.now()).toBeGreaterThanOrEqual(earlyDeadline);
    expect(s.syncLag(early)[0]!.data).toMatchObject({
      check: SYNC_LAG,
      status: 'firing',
      severity: 'high',
      subject: { system: SYSTEM, docId: early, contentClass: 'faq' },
      owner: { team: 'knowledge-ops', platformOwner: 'search-platform' },
      contract: { version: '1' },
      observedAt: formatTime(earlyDeadline),
      evidence: {
        sourceRevision: 1,
        indexedRevision: null,
        slaSeconds: 3,
        pendingSince: formatTime(at),
        deadline: formatTime(earlyDeadline),
      },
    });

    // Both changes are in the first instance's ledger and changelog (offsets are committed after it), and
    // the tick that fired `early` has written its firing flag there too; `late` is still pending.
    await s.handled(s.t.content);
    await first.waitForTicks(3);
    expect(s.syncLag(late)).toEqual([]);
    // The restart falls between `late`'s change and its deadline: the first instance cannot have fired it.
    expect(Date.now()).toBeLessThan(lateDeadline);
    first.kill('SIGKILL');
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');

    // The second instance has only the changelog to know `late` (its input offset is committed).
    const second = await s.start();
    await s.out.waitFor(`${late} firing`, () => s.syncLag(late).length > 0, 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(lateDeadline);
    expect(s.syncLag(late)[0]!.data).toMatchObject({
      status: 'firing',
      subject: { system: SYSTEM, docId: late, contentClass: 'runbook' },
      observedAt: formatTime(lateDeadline),
      evidence: { slaSeconds: 12, deadline: formatTime(lateDeadline) },
    });

    // Let the second instance tick past both deadlines, then read everything it wrote.
    await second.waitForTicks(3);
    await s.caughtUp();
    expect(
      s
        .findings()
        .map((e) => `${e.data.check} ${e.data.subject.docId} ${e.data.status} ${e.data.observedAt}`)
        .sort(),
    ).toEqual(
      [
        `${SYNC_LAG} ${early} firing ${formatTime(earlyDeadline)}`,
        `${SYNC_LAG} ${late} firing ${formatTime(lateDeadline)}`,
      ].sort(),
    );
    expect(new Set(s.findings().map((e) => e.id)).size).toBe(2);
    expect(s.out.on(s.t.dlq)).toEqual([]);
    // The instance name carries through: the changelog and the findings' source follow SERVICE_NAME.
    expect(new Set(s.findings().map((e) => e.source))).toEqual(new Set([`tidemark/${s.name}`]));
    expect((await endOffsets(stateTopic(s.name))).size).toBe(3);
  });

  it('fires nothing for a document indexed within its SLA, and records its lag in tidemark_sync_lag_seconds', async () => {
    // The class is named (with the system's 3s SLA) so that its series keeps content_class="faq".
    const s = await setup({ faq: '3s' });
    const svc = await s.start();

    const onTime = unique('on-time');
    const control = unique('control'); // never indexed: shows the deadline has passed and ticks ran
    const at = Date.now();
    await produce(s.t.content, [upserted(onTime, 'faq', at), upserted(control, 'faq', at)]);
    // The index applies the change after the source event was handled (as in life), 1.5 s after the change.
    await s.handled(s.t.content);
    await produce(s.t.sync, [indexed(onTime, at, at + 1500)]);
    await s.handled(s.t.sync);

    await s.out.waitFor(`${control} firing`, () => s.syncLag(control).length > 0, 20_000);
    await svc.waitForTicks(3);
    await s.caughtUp();
    expect(
      s.findings().map((e) => `${e.data.check} ${e.data.subject.docId} ${e.data.status}`),
    ).toEqual([`${SYNC_LAG} ${control} firing`]);
    expect(s.out.on(s.t.dlq)).toEqual([]);

    const text = await svc.metricsText();
    const family = (await svc.metrics()).find((f) => f.name === 'tidemark_sync_lag_seconds');
    expect(family?.type).toBe('HISTOGRAM');
    const series = histogramSeries(text, 'tidemark_sync_lag_seconds');
    // One series, for the one document the index applied: 1.5 s from source change to index.
    expect(series).toEqual([
      {
        labels: { service: s.name, system: SYSTEM, connector: CONNECTOR, content_class: 'faq' },
        buckets: expect.objectContaining({ '1': '0', '5': '1', '+Inf': '1' }),
        sum: '1.5',
        count: '1',
      },
    ]);
  });
});
