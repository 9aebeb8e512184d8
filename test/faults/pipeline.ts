// The pipeline most fault rows run: the real freshness-monitor (checker) feeding the real alert-router, on
// the test's own broker, with a load whose every input record has one observable outcome:
// - a "lost" document (class faq, SLA 3 s, never indexed) → one freshness.sync-lag finding;
// - a "kept" document (class runbook, SLA 10 min) and its index event → no finding;
// - a poison record (not JSON) → its DLQ copy, naming the input topic, partition and offset.
// The accounting reads the inputs and outputs back from the broker after recovery and checks each
// input record against its outcome: nothing lost, no alert id twice, no false finding.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DLQ_HEADERS, type Finding } from '@tidemark/core';
import type { Message } from 'kafkajs';
import { contractsDir, indexed, upserted } from '../freshness/helpers.js';
import { FAST_ROUTING } from '../routing/helpers.js';
import { unique } from '../runtime/helpers.js';
import { poll, type Cluster, type Read } from './cluster.js';
import type { RowCounts } from './report.js';
import { FaultService } from './service.js';
import { Supervised } from './supervisor.js';

export const SYNC_LAG = 'freshness.sync-lag';

/** Topics, groups and configuration of one pipeline. */
export interface PipelineTopics {
  content: string;
  sync: string;
  findings: string;
  dlq: string;
  alerts: string;
  tickets: string;
  routerDlq: string;
  silences: string;
  checker: string;
  checkerGroup: string;
  router: string;
  routerGroup: string;
}

/** How a pipeline is set up. */
export interface PipelineOptions {
  /** Extra env of every checker instance. */
  checkerEnv?: Record<string, string>;
  /** Topic configs of the two inputs, e.g. `{ content: { 'compression.type': 'lz4' } }`. */
  inputConfig?: { content?: Record<string, string>; sync?: Record<string, string> };
}

/**
 * Content class with a 15 s SLA: time enough to read thousands of changes before their deadlines, so
 * documents changed at one instant all fall due in one tick.
 */
export const BULK_CLASS = 'bulk';

/** A running pipeline: supervised checker instances and one alert-router. */
export class Pipeline {
  readonly checkers: Array<Supervised<FaultService>> = [];
  router: Supervised<FaultService> | undefined;
  #dirs: string[] = [];

  private constructor(
    readonly cluster: Cluster,
    readonly t: PipelineTopics,
    readonly contracts: string,
    readonly checkerEnv: Record<string, string>,
  ) {}

  /** Creates the topics and the contracts directory (freshness contract plus a fast routing.yaml). */
  static async create(
    cluster: Cluster,
    { checkerEnv = {}, inputConfig = {} }: PipelineOptions = {},
  ): Promise<Pipeline> {
    // The router accepts findings only from Tidemark's services (`tidemark/freshness-monitor-…` included):
    // under any other name every finding of the checker was dead-lettered by the router instead of routed.
    const checker = unique('freshness-monitor');
    const router = unique('ar');
    const t: PipelineTopics = {
      content: unique('content'),
      sync: unique('sync'),
      findings: unique('findings'),
      dlq: unique('dlq'),
      alerts: unique('alerts'),
      tickets: unique('tickets'),
      routerDlq: unique('router-dlq'),
      silences: unique('silences'),
      checker,
      checkerGroup: `${checker}-group`,
      router,
      routerGroup: `${router}-group`,
    };
    await cluster.createTopics([
      { topic: t.content, config: inputConfig.content ?? {} },
      { topic: t.sync, config: inputConfig.sync ?? {} },
      t.findings,
      t.dlq,
      t.alerts,
      t.tickets,
      t.routerDlq,
      `tidemark.${router}.by-system`,
      { topic: t.silences, compacted: true },
    ]);
    const dir = await contractsDir({ runbook: '10m', [BULK_CLASS]: '15s' });
    await writeFile(path.join(dir, 'routing.yaml'), FAST_ROUTING);
    const p = new Pipeline(cluster, t, dir, checkerEnv);
    p.#dirs.push(dir);
    return p;
  }

  #env(extra: Record<string, string>): Record<string, string> {
    return {
      KAFKA_BROKERS: this.cluster.brokers.join(','),
      CONTRACTS_DIR: this.contracts,
      ...extra,
    };
  }

  /** Starts one more supervised freshness-monitor instance (same group) and waits until it is ready. */
  async startChecker(): Promise<Supervised<FaultService>> {
    const env = this.checkerProcessEnv();
    const s = new Supervised(
      `freshness-monitor #${this.checkers.length + 1}`,
      () => new FaultService('freshness-monitor', env),
    );
    this.checkers.push(s);
    await s.waitReady();
    return s;
  }

  /** The environment of a freshness-monitor instance of this pipeline. */
  checkerProcessEnv(): Record<string, string> {
    return this.#env({
      SERVICE_NAME: this.t.checker,
      KAFKA_GROUP_ID: this.t.checkerGroup,
      TOPIC_CONTENT_CHANGES: this.t.content,
      TOPIC_SYNC_EVENTS: this.t.sync,
      TOPIC_FINDINGS: this.t.findings,
      TOPIC_DLQ: this.t.dlq,
      TICK_SCHEDULE: '* * * * * *',
      KAFKA_SESSION_TIMEOUT: '6s',
      ...this.checkerEnv,
    });
  }

  /** Starts the supervised alert-router on the checker's findings. */
  async startRouter(): Promise<Supervised<FaultService>> {
    const env = this.#env({
      SERVICE_NAME: this.t.router,
      KAFKA_GROUP_ID: this.t.routerGroup,
      TOPIC_FINDINGS: this.t.findings,
      TOPIC_ALERTS: this.t.alerts,
      TOPIC_TICKETS: this.t.tickets,
      TOPIC_DLQ: this.t.routerDlq,
      TOPIC_SILENCES: this.t.silences,
      TICK_SCHEDULE: '* * * * * *',
      KAFKA_SESSION_TIMEOUT: '6s',
    });
    this.router = new Supervised('alert-router', () => new FaultService('alert-router', env));
    await this.router.waitReady();
    return this.router;
  }

  /** Unplanned exits of every process so far. */
  get restarts(): number {
    return this.checkers.reduce((n, c) => n + c.crashes, 0) + (this.router?.crashes ?? 0);
  }

  /** Who exited unplanned, with exit codes, e.g. "freshness-monitor #1:1,alert-router:1" (empty when none). */
  get exitSummary(): string {
    return [...this.checkers, ...(this.router ? [this.router] : [])]
      .flatMap((s) => s.exits.map((e) => `${s.name.replace(/ /g, '')}:${e.code ?? e.signal}`))
      .join(',');
  }

  /** The last logs before each unplanned exit (printed for the suite's report). */
  get exitReasons(): string[] {
    return [...this.checkers, ...(this.router ? [this.router] : [])].flatMap((s) =>
      s.exits.map((e) => `${s.name} exit ${e.code ?? e.signal}: ${e.last}`),
    );
  }

  dump(): void {
    for (const c of this.checkers) c.dump();
    this.router?.dump();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.checkers.map((c) => c.stop()), this.router?.stop()]);
    for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true });
  }
}

/** What a load put in: the documents of each kind. */
export interface LoadPlan {
  /** never indexed, SLA 3 s: one sync-lag finding each */
  lost: number;
  /** indexed in time, SLA 10 min: no finding */
  kept: number;
  /** not JSON: one DLQ copy each */
  poison: number;
}

type Kind = 'lost' | 'kept' | 'poison';

/** The kinds of a plan's records, evenly interleaved (each stretch of the stream carries some of each). */
function interleave(plan: LoadPlan): Kind[] {
  const ranked: Array<{ kind: Kind; rank: number }> = [];
  for (const kind of ['lost', 'kept', 'poison'] as const) {
    for (let i = 0; i < plan[kind]; i++) ranked.push({ kind, rank: (i + 0.5) / plan[kind] });
  }
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.kind);
}

/** Produces a plan's records through any fault, each chunk's events dated when it goes out. */
export class Load {
  readonly lostDocs = new Set<string>();
  readonly keptDocs = new Set<string>();
  /** Documents whose records a row sent to be dead-lettered (e.g. dated 2099). */
  readonly deadDocs = new Set<string>();
  poison = 0;
  /** Input records acknowledged by the broker. */
  sent = 0;
  readonly #tag = unique('doc');
  #n = 0;
  /** Every record sent, in order (for a row that sends some again). */
  readonly history: Array<{ topic: string; message: Message }> = [];

  constructor(
    readonly cluster: Cluster,
    readonly t: PipelineTopics,
    /** Content class of the lost documents (faq: the system's 3 s SLA). */
    readonly lostClass = 'faq',
  ) {}

  #record(kind: Kind, at: number): Array<{ topic: string; message: Message }> {
    const i = this.#n++;
    if (kind === 'poison') {
      this.poison++;
      return [
        {
          topic: this.t.content,
          message: { key: `poison-${i}`, value: `{"specversion": "1.0", broken ${i}` },
        },
      ];
    }
    const doc = `${this.#tag}-${kind}-${i}`;
    if (kind === 'lost') {
      this.lostDocs.add(doc);
      return [{ topic: this.t.content, message: upserted(doc, this.lostClass, at) }];
    }
    this.keptDocs.add(doc);
    return [
      { topic: this.t.content, message: upserted(doc, 'runbook', at) },
      { topic: this.t.sync, message: indexed(doc, at, at + 100) },
    ];
  }

  /** Sends the plan at about `ratePerSecond` documents per second, `chunk` documents per send. */
  async run(
    plan: LoadPlan,
    ratePerSecond: number,
    { chunk = 100, oneInstant = false }: { chunk?: number; oneInstant?: boolean } = {},
  ): Promise<void> {
    const kinds = interleave(plan);
    const started = Date.now();
    for (let c = 0; c * chunk < kinds.length; c++) {
      // oneInstant: every change dated at the start, so all deadlines fall at the same moment.
      const at = oneInstant ? started : Date.now();
      const records = kinds.slice(c * chunk, (c + 1) * chunk).flatMap((k) => this.#record(k, at));
      const byTopic = new Map<string, Message[]>();
      for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r.message]);
      for (const [topic, messages] of byTopic) await this.cluster.produce(topic, messages);
      this.sent += records.length;
      this.history.push(...records);
      const wait = started + ((c + 1) * chunk * 1000) / ratePerSecond - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Sends the first `n` records of `history` again, byte for byte: a duplicate delivery of each. */
export async function resend(load: Load, n: number): Promise<void> {
  const again = load.history.slice(0, n);
  if (again.length < n) throw new Error(`only ${again.length} records sent so far, wanted ${n}`);
  for (const topic of new Set(again.map((r) => r.topic))) {
    const messages = again.filter((r) => r.topic === topic).map((r) => r.message);
    for (let i = 0; i < messages.length; i += 200)
      await load.cluster.produce(topic, messages.slice(i, i + 200));
  }
  load.sent += n;
}

interface FindingEvent {
  id: string;
  data: Finding;
}

/** The outcome of one pipeline run, read back from the broker. */
export interface Accounting {
  counts: RowCounts;
  /** Input records (topic/partition/offset) without their outcome. */
  missing: string[];
  /** Documents that should not have fired but did. */
  falseFindings: string[];
  /** DLQ copies of records that should have been handled, or of no input record at all. */
  wronglyDeadLettered: string[];
  /** Alert and ticket ids seen more than once. */
  duplicateAlertIds: string[];
  /** Lost documents with no sync-lag finding. */
  missingFindings: string[];
  /** Documents that fired under more than one finding id (fired twice, not just delivered twice). */
  firedTwice: string[];
  /** Findings the alert-router dead-lettered (each should have been routed). */
  routerDeadLetters: string[];
}

/** Waits until the checker group committed both inputs and the router committed the findings. */
export async function waitDrained(p: Pipeline, timeoutMs = 120_000): Promise<void> {
  await poll(
    'the checker to commit every input record',
    async () =>
      (await p.cluster.consumedAll(p.t.checkerGroup, p.t.content)) &&
      (await p.cluster.consumedAll(p.t.checkerGroup, p.t.sync)),
    timeoutMs,
    500,
  );
}

/** Reads every topic of the pipeline and checks each input record against its outcome. */
export async function account(p: Pipeline, load: Load): Promise<Accounting> {
  const [content, sync, findings, dlq, alerts, tickets, routerDlq] = await Promise.all(
    [p.t.content, p.t.sync, p.t.findings, p.t.dlq, p.t.alerts, p.t.tickets, p.t.routerDlq].map(
      (t) => p.cluster.readAll(t),
    ),
  );
  const parsed = findings!.map((r) => JSON.parse(r.value!.toString()) as FindingEvent);
  const firing = new Map<string, Set<string>>();
  for (const f of parsed) {
    if (f.data.check !== SYNC_LAG || f.data.status !== 'firing') continue;
    const doc = f.data.subject.docId ?? '';
    firing.set(doc, (firing.get(doc) ?? new Set()).add(f.id));
  }
  const dlqAt = new Set(
    dlq!.map(
      (r) =>
        `${r.headers[DLQ_HEADERS.topic]}/${r.headers[DLQ_HEADERS.partition]}/${r.headers[DLQ_HEADERS.offset]}`,
    ),
  );
  const missing: string[] = [];
  const inputAt = new Map<string, Read>();
  for (const r of [...content!, ...sync!]) inputAt.set(`${r.topic}/${r.partition}/${r.offset}`, r);
  const falseFindings = new Set<string>();
  let poisonIn = 0;
  const docOf = (r: Read): string | null => {
    try {
      return (JSON.parse(r.value!.toString()) as { data: { docId: string } }).data.docId;
    } catch {
      return null;
    }
  };
  for (const r of [...content!, ...sync!]) {
    const at = `${r.topic}/${r.partition}/${r.offset}`;
    const doc = docOf(r);
    if (doc === null) {
      poisonIn++;
      if (!dlqAt.has(at)) missing.push(`${at} (poison, no DLQ copy)`);
    } else if (load.lostDocs.has(doc)) {
      if (!firing.has(doc)) missing.push(`${at} (${doc}: no sync-lag finding)`);
    } else if (load.deadDocs.has(doc)) {
      if (!dlqAt.has(at)) missing.push(`${at} (${doc}: no DLQ copy)`);
      if (firing.has(doc)) falseFindings.add(doc);
    } else if (load.keptDocs.has(doc)) {
      if (firing.has(doc)) falseFindings.add(doc);
      if (dlqAt.has(at)) missing.push(`${at} (${doc}: dead-lettered)`);
    } else {
      missing.push(`${at} (unknown record)`);
    }
  }
  const ids = (records: Read[]) =>
    records.map((r) => (JSON.parse(r.value!.toString()) as { id: string }).id);
  const alertIds = [...ids(alerts!), ...ids(tickets!)];
  const seen = new Set<string>();
  const duplicateAlertIds = new Set<string>();
  for (const id of alertIds) (seen.has(id) ? duplicateAlertIds : seen).add(id);
  const findingIds = new Set(parsed.map((f) => f.id));
  // A DLQ copy of a record that should have been handled (or of nothing we sent) is a record lost to the DLQ.
  const wronglyDeadLettered = [...dlqAt].filter((at) => {
    const r = inputAt.get(at);
    if (!r) return true;
    const doc = docOf(r);
    return doc !== null && !load.deadDocs.has(doc);
  });
  const missingFindings = [...load.lostDocs].filter((d) => !firing.has(d));
  // Findings per check and status, reported so that an unexpected kind shows in the table.
  const byCheck = new Map<string, number>();
  for (const f of parsed) {
    const k = `${f.data.check}:${f.data.status}`;
    byCheck.set(k, (byCheck.get(k) ?? 0) + 1);
  }
  return {
    counts: {
      inputs: content!.length + sync!.length,
      sent: load.sent,
      expected: load.lostDocs.size,
      findings: findingIds.size,
      dupFindingRecs: parsed.length - findingIds.size,
      dlq: dlq!.length,
      poison: poisonIn,
      dupDlq: dlq!.length - dlqAt.size,
      alerts: alertIds.length,
      routerDlq: routerDlq!.length,
      findingKinds: [...byCheck].map(([k, n]) => `${k}=${n}`).join(','),
      lost: missing.length,
      restarts: p.restarts,
      ...(p.restarts > 0 ? { exits: p.exitSummary } : {}),
    },
    missing,
    falseFindings: [...falseFindings],
    duplicateAlertIds: [...duplicateAlertIds],
    missingFindings,
    wronglyDeadLettered,
    firedTwice: [...firing].filter(([, fired]) => fired.size > 1).map(([doc]) => doc),
    routerDeadLetters: routerDlq!.map(
      (r) => `${r.headers[DLQ_HEADERS.errorClass]}: ${r.headers[DLQ_HEADERS.errorMessage]}`,
    ),
  };
}
