// The shape every pipeline row shares: a fresh broker of its own, the pipeline on it, a load, a fault
// while the load runs, then recovery and the accounting. Each row file only says which fault.
import { expect, inject, onTestFailed, type TestContext } from 'vitest';
import { FaultBroker } from './broker.js';
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
import { SHARED_PORT, faultPort, sharedBrokerUp, warmUp } from './shared-broker.js';

/**
 * Ports of the rows whose fault is the broker itself, each on a broker of its own (controller on port + 1);
 * every other row runs on the shared broker (SHARED_PORT), inside the suite's range 21200-21321.
 * FAULTS_PORT_BASE moves the own-broker rows to base, base + 10 and base + 20.
 */
const OWN_BASE = faultPort('FAULTS_PORT_BASE', 21200);
export const PORTS = {
  restart: OWN_BASE,
  kill9: OWN_BASE + 10,
  sigstop: OWN_BASE + 20,
  shared: SHARED_PORT,
} as const;

/** The default load of a row: ~1,900 documents in ~12 s, with 20 poison records. */
export const PLAN: LoadPlan = { lost: 1_500, kept: 400, poison: 20 };
export const RATE = 160;

/**
 * The load of a row whose fault is one record or a setting, not an outage: ~410 documents in ~3 s, which
 * still puts every kind of outcome (finding, no finding, dead letter) around the fault.
 */
export const SMALL_PLAN: LoadPlan = { lost: 300, kept: 100, poison: 10 };

/** What a row runs inside its broker's lifetime. */
export interface RowEnv {
  /** The row's broker; on the shared broker a handle that refuses faults (it was not started here). */
  broker: FaultBroker;
  cluster: Cluster;
  /** True on the shared broker. */
  shared: boolean;
}

/**
 * Runs `body` on a broker: with `PORTS.shared`, the suite's shared broker (waiting for it to be up); with any
 * other port, a fresh broker of its own, always stopped afterwards. The clients are closed either way.
 */
export async function withBroker<T>(port: number, body: (env: RowEnv) => Promise<T>): Promise<T> {
  const shared = port === PORTS.shared;
  if (shared && inject('faultSharedPort') !== port)
    throw new Error(`the shared broker runs on ${inject('faultSharedPort')}, not ${port}`);
  const broker = new FaultBroker(port);
  const cluster = new Cluster(broker.brokers);
  try {
    const started = Date.now();
    if (shared) await sharedBrokerUp(port);
    else {
      await broker.startFresh();
      await warmUp(cluster);
    }
    broker.startupMs = Date.now() - started;
    return await body({ broker, cluster, shared });
  } finally {
    await cluster.close();
    if (!shared) await broker.dispose();
  }
}

/**
 * The check of the rows that restart, kill or freeze the broker: the alert-router rode the outage out (its
 * consumer, producer and global-table reader reconnect) instead of exiting and being restarted.
 */
export async function routerRodeItOut({ pipeline }: { pipeline: Pipeline }): Promise<void> {
  expect(pipeline.router!.exits.map((e) => `exit ${e.code ?? e.signal}: ${e.last}`)).toEqual([]);
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
  await withBroker(row.port, async ({ broker, cluster, shared }) => {
    const pipeline = await Pipeline.create(cluster, row.options);
    onTestFailed(() => pipeline.dump());
    const since = (t: number) => ((Date.now() - t) / 1000).toFixed(1);
    // On the shared broker: how long the row waited for it (0 once it is up).
    reportCounts(ctx, {
      [shared ? 'sharedWaitS' : 'brokerUpS']: (broker.startupMs / 1000).toFixed(1),
    });
    try {
      let phase = Date.now();
      // Started side by side: each spends most of its start-up loading modules and joining its group.
      await Promise.all([
        ...Array.from({ length: row.checkers ?? 1 }, () => pipeline.startChecker()),
        pipeline.startRouter(),
      ]);
      reportCounts(ctx, { servicesUpS: since(phase) });
      phase = Date.now();
      const load = new Load(cluster, pipeline.t, row.load?.lostClass);
      const loading = load.run(row.plan ?? PLAN, row.load?.rate ?? RATE, row.load ?? {});
      await new Promise((r) => setTimeout(r, row.faultAfterMs ?? 4_000));
      const faultStarted = Date.now();
      await row.fault({ broker, cluster, shared, pipeline, load });
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
      // Every finding was routed: the alert-router dead-lettered none.
      expect(result.routerDeadLetters.slice(0, 10)).toEqual([]);
      expect(result.counts['alerts']).toBeGreaterThan(0);
      // After recovery every process is up and ready (no crash loop).
      await row.verify?.({ broker, cluster, shared, pipeline, load, result });
      for (const s of [...pipeline.checkers, pipeline.router!])
        if (!s.stopped) await s.waitReady(30_000);
    } finally {
      await pipeline.stop();
    }
  });
}
