// The shape every pipeline row shares: a fresh broker of its own, the pipeline on it, a load, a fault
// while the load runs, then recovery and the accounting. Each row file only says which fault.
import { expect, onTestFailed, type TestContext } from 'vitest';
import { FaultBroker } from './broker.js';
import { unique } from '../runtime/helpers.js';
import { Cluster, poll } from './cluster.js';
import {
  account,
  Load,
  Pipeline,
  SYNC_LAG,
  waitDrained,
  type Accounting,
  type LoadPlan,
  type PipelineOptions,
} from './pipeline.js';
import { reportCounts } from './report.js';

/** Ports of each row's broker (controller on port + 1), inside the suite's range 21000-22999. */
export const PORTS = {
  restart: 21200,
  kill9: 21210,
  sigstop: 21220,
  rebalance: 21230,
  duplicates: 21240,
  slowRecord: 21250,
  codecs: 21260,
  largeRecord: 21270,
  deadlines: 21280,
  outputDeleted: 21290,
  changelog: 21300,
  registry: 21310,
  future: 21320,
} as const;

/** The default load of a row: ~1,900 documents in ~12 s, with 20 poison records. */
export const PLAN: LoadPlan = { lost: 1_500, kept: 400, poison: 20 };
export const RATE = 160;

/** What a row runs inside its broker's lifetime. */
export interface RowEnv {
  broker: FaultBroker;
  cluster: Cluster;
}

/** Starts a fresh broker on `port`, runs `body`, and always stops everything it started. */
export async function withBroker<T>(port: number, body: (env: RowEnv) => Promise<T>): Promise<T> {
  const broker = new FaultBroker(port);
  const cluster = new Cluster(broker.brokers);
  try {
    const started = Date.now();
    await broker.startFresh();
    await warmUp(cluster);
    broker.startupMs = Date.now() - started;
    return await body({ broker, cluster });
  } finally {
    await cluster.close();
    await broker.dispose();
  }
}

/**
 * Waits until a fresh broker serves consumer groups: its group coordinator loads __consumer_offsets on first
 * use, and a service joining before that fails at start ("the coordinator is loading").
 */
async function warmUp(cluster: Cluster): Promise<void> {
  const topic = unique('warm-up');
  await cluster.createTopics([{ topic, partitions: 1 }]);
  await cluster.produce(topic, [{ value: 'x' }]);
  await cluster.readAll(topic);
}

/** Options of a pipeline row. */
export interface PipelineRow {
  port: number;
  /** The fault, injected once the load is under way. */
  fault: (env: RowEnv & { pipeline: Pipeline; load: Load }) => Promise<void>;
  /** @default PLAN */
  plan?: LoadPlan;
  /** Wait this long into the load before the fault. @default 4000 */
  faultAfterMs?: number;
  /** Checker env and input topic configs. */
  options?: PipelineOptions;
  /** Load options (see Load.run), and the class of the lost documents. */
  load?: { chunk?: number; oneInstant?: boolean; rate?: number; lostClass?: string };
  /** Extra assertions after the accounting. */
  verify?: (env: RowEnv & { pipeline: Pipeline; load: Load; result: Accounting }) => Promise<void>;
  /** Checker instances at the start. @default 1 */
  checkers?: number;
}

/**
 * A fault under load on the freshness-monitor → alert-router pipeline. After recovery: every expected
 * finding present, every poison record dead-lettered, no false finding, no alert/ticket id twice, every
 * input committed, and every process running (a process may have been restarted by the supervisor; the
 * count is reported, and a crash loop fails the row since the pipeline never drains).
 */
export async function pipelineRow(ctx: TestContext, row: PipelineRow): Promise<void> {
  await withBroker(row.port, async ({ broker, cluster }) => {
    const pipeline = await Pipeline.create(cluster, row.options);
    onTestFailed(() => pipeline.dump());
    const since = (t: number) => ((Date.now() - t) / 1000).toFixed(1);
    reportCounts(ctx, { brokerUpS: (broker.startupMs / 1000).toFixed(1) });
    try {
      let phase = Date.now();
      for (let i = 0; i < (row.checkers ?? 1); i++) await pipeline.startChecker();
      await pipeline.startRouter();
      reportCounts(ctx, { servicesUpS: since(phase) });
      phase = Date.now();
      const load = new Load(cluster, pipeline.t, row.load?.lostClass);
      const loading = load.run(row.plan ?? PLAN, row.load?.rate ?? RATE, row.load ?? {});
      await new Promise((r) => setTimeout(r, row.faultAfterMs ?? 4_000));
      const faultStarted = Date.now();
      await row.fault({ broker, cluster, pipeline, load });
      reportCounts(ctx, { faultS: ((Date.now() - faultStarted) / 1000).toFixed(1) });
      await loading;
      reportCounts(ctx, { loadS: since(phase) });
      phase = Date.now();
      await waitDrained(pipeline);
      const follower = await cluster.follow([pipeline.t.findings]);
      await follower.waitFor(
        'a sync-lag finding for every lost document',
        () => {
          const fired = new Set<string>();
          for (const r of follower.records) {
            const e = JSON.parse(r.value!.toString()) as {
              data: { check: string; subject: { docId?: string } };
            };
            if (e.data.check === SYNC_LAG) fired.add(e.data.subject.docId ?? '');
          }
          return [...load.lostDocs].every((d) => fired.has(d));
        },
        90_000,
      );
      await poll(
        'the alert-router to commit every finding',
        () => cluster.consumedAll(pipeline.t.routerGroup, pipeline.t.findings),
        60_000,
        500,
      );
      // Alerts leave on the router's tick after group_wait (1 s); give them two more ticks.
      await new Promise((r) => setTimeout(r, 3_000));
      reportCounts(ctx, { recoverS: since(phase) });
      const result = await account(pipeline, load);
      reportCounts(ctx, result.counts);
      for (const reason of pipeline.exitReasons) console.log(`[${ctx.task.name}] ${reason}`);
      expect(result.missing.slice(0, 10)).toEqual([]);
      expect(result.missingFindings.slice(0, 10)).toEqual([]);
      expect(result.falseFindings).toEqual([]);
      expect(result.firedTwice.slice(0, 10)).toEqual([]);
      expect(result.duplicateAlertIds).toEqual([]);
      // Every poison record has a DLQ copy (in `missing`); nothing else went there. A copy may repeat after
      // a crash (at-least-once; counted as dupDlq).
      expect(result.wronglyDeadLettered.slice(0, 10)).toEqual([]);
      expect(result.counts['alerts']).toBeGreaterThan(0);
      // After recovery every process is up and ready (no crash loop).
      await row.verify?.({ broker, cluster, pipeline, load, result });
      for (const s of [...pipeline.checkers, pipeline.router!])
        if (!s.stopped) await s.waitReady(30_000);
    } finally {
      await pipeline.stop();
    }
  });
}
