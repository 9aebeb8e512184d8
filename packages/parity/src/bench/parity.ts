// Benchmark of inventory reconciliation (npm run bench:parity): two inventories of N ids (default 10M)
// that differ in 0.1 % each way, fed chunk by chunk through the real parity handler, then checked for
// exactness against the planted differences. Prints time, memory and ratios against same-run baselines.
// Run with --expose-gc; `--ids 1000000` for a quicker run.
import {
  IdInventory,
  ParityState,
  applyInventoryChunk,
  diffInventories,
  hashId,
  staticParitySettings,
  type ParityContext,
} from '../index.js';
import type { Finding, InventorySnapshotEvent } from '@tidemark/core';
import os from 'node:os';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = arg('ids', 10_000_000);
const CHUNK = arg('chunk', 10_000);
const SHARE = arg('diff', 0.001);
const SEED = arg('seed', 42);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const MB = 1024 * 1024;
const mem = () => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
};
const mb = (n: number) => `${(n / MB).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

// mulberry32: a seeded generator, so every run plants the same differences.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);

// Realistic ids (~35 chars): space, page number, and a content-hash-like suffix.
const idOf = (n: number): string =>
  `confluence:SP${n % 997}/page-${n.toString(36)}-${(Math.imul(n, 2654435761) >>> 0).toString(16)}`;

// ---- plant the differences --------------------------------------------------------------------
const planted = Math.round(N * SHARE);
const missingNums = new Set<number>();
while (missingNums.size < planted) missingNums.add(Math.floor(random() * N));
const orphanNums = Array.from({ length: planted }, (_, i) => N + i);

// Chunks are built as JSON text and parsed, like decoded events: each side has its own strings.
function chunked(nums: Uint32Array): string[][] {
  const chunks: string[][] = [];
  for (let start = 0; start < nums.length; start += CHUNK) {
    const part: string[] = [];
    const end = Math.min(nums.length, start + CHUNK);
    for (let i = start; i < end; i++) part.push(idOf(nums[i] as number));
    chunks.push(JSON.parse(JSON.stringify(part)) as string[]);
  }
  return chunks;
}
function shuffle(a: Uint32Array): Uint32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

let t = performance.now();
const sourceNums = new Uint32Array(N);
for (let i = 0; i < N; i++) sourceNums[i] = i;
const indexNums = new Uint32Array(N);
let k = 0;
for (let i = 0; i < N; i++) if (!missingNums.has(i)) indexNums[k++] = i;
for (const n of orphanNums) indexNums[k++] = n;
const sourceChunks = chunked(shuffle(sourceNums));
const indexChunks = chunked(shuffle(indexNums));
const expectedMissing = [...missingNums].map(idOf).sort();
const expectedOrphans = orphanNums.map(idOf).sort();
console.log(
  `generated 2 x ${N.toLocaleString()} ids in ${sourceChunks.length} + ${indexChunks.length} chunks (${s(performance.now() - t)}), ${planted} missing + ${planted} orphans planted`,
);

const events = (side: 'source' | 'index', chunks: string[][]): InventorySnapshotEvent[] =>
  chunks.map((docIds, chunk) => ({
    specversion: '1.0',
    id: `${side}-${chunk}`,
    source: 'bench',
    type: 'inventory.snapshot',
    time: '2026-01-01T00:00:00.000Z',
    data: {
      system: 'confluence',
      side,
      snapshotId: `${side}-1`,
      chunk,
      chunks: chunks.length,
      docIds,
    },
  }));
const sourceEvents = events('source', sourceChunks);
const indexEvents = events('index', indexChunks);
// Feed the index in shuffled chunk order, as chunks may arrive.
for (let i = indexEvents.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [indexEvents[i], indexEvents[j]] = [
    indexEvents[j] as InventorySnapshotEvent,
    indexEvents[i] as InventorySnapshotEvent,
  ];
}

// ---- the measured run ------------------------------------------------------------------------
gc();
gc();
const base = mem();
const state = new ParityState(0);
const ctx: ParityContext = {
  settings: staticParitySettings({ maxDocumentFindings: 100 }),
  now: Date.parse('2026-01-01T00:05:00.000Z'),
};
const findings: Finding[] = [];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const cpu0 = cpu();
t = performance.now();
for (const e of sourceEvents) findings.push(...applyInventoryChunk(state, e, ctx));
const fedSource = performance.now() - t;
let peak = mem();
for (const e of indexEvents) findings.push(...applyInventoryChunk(state, e, ctx));
const total = performance.now() - t;
const totalCpu = cpu() - cpu0;
const after = mem();
peak = {
  heap: Math.max(peak.heap, after.heap),
  buffers: Math.max(peak.buffers, after.buffers),
  rss: after.rss,
};

// ---- exactness -------------------------------------------------------------------------------
const snap = (side: string) =>
  state.snapshots.get(ParityState.snapshotKey('confluence', side, `${side}-1`));
const src = snap('source');
const idx = snap('index');
if (!src || !idx) throw new Error('snapshots not retained');
const diff = diffInventories(state.inventory(src), state.inventory(idx));
const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const exact =
  same([...diff.missing].sort(), expectedMissing) &&
  same([...diff.orphans].sort(), expectedOrphans);
const summary = (check: string) =>
  findings.find((f) => f.check === check && f.subject.docId === undefined && f.status === 'firing');
const summaryCounts = {
  orphan: summary('parity.orphan')?.evidence['count'],
  missing: summary('parity.missing')?.evidence['count'],
};
const perDoc = findings.filter((f) => f.subject.docId !== undefined).length;
const countsOk = summaryCounts.orphan === planted && summaryCounts.missing === planted;

// ---- phases, measured again outside the handler ----------------------------------------------------
gc();
let c0 = cpu();
const phaseSource = new IdInventory(sourceChunks);
phaseSource.index();
const buildSourceCpu = cpu() - c0;
c0 = cpu();
const phaseIndex = new IdInventory(indexChunks);
phaseIndex.index();
const buildIndexCpu = cpu() - c0;
c0 = cpu();
diffInventories(phaseSource, phaseIndex);
const diffCpu = cpu() - c0;

// ---- baselines (same run) --------------------------------------------------------------------
// 1. Sorting the raw 64-bit hashes alone (the floor of any sort-based approach), both sides.
gc();
const hashCpu0 = cpu();
t = performance.now();
for (const chunks of [sourceChunks, indexChunks]) {
  const keys = new BigUint64Array(N);
  const words = new Uint32Array(keys.buffer);
  const out = new Uint32Array(3);
  let i = 0;
  for (const chunk of chunks)
    for (const id of chunk) {
      hashId(id, out);
      words[i++] = out[0] as number;
      words[i++] = out[1] as number;
    }
  keys.sort();
}
const hashSortOnly = performance.now() - t;
const hashSortOnlyCpu = cpu() - hashCpu0;
// 2. A JS Set of strings on a 1M-id sample per side, scaled to N (Sets cap at 2^24 entries anyway).
const SAMPLE = Math.min(N, 1_000_000);
const sampleChunks = (chunks: string[][]) => chunks.slice(0, Math.ceil(SAMPLE / CHUNK));
gc();
const setBase = mem();
const setCpu0 = cpu();
const setS = new Set<string>();
for (const c of sampleChunks(sourceChunks)) for (const id of c) setS.add(id);
const setI = new Set<string>();
for (const c of sampleChunks(indexChunks)) for (const id of c) setI.add(id);
let setDiff = 0;
for (const id of setS) if (!setI.has(id)) setDiff++;
for (const id of setI) if (!setS.has(id)) setDiff++;
const setTime = ((cpu() - setCpu0) * N) / SAMPLE;
const setMem = ((mem().heap - setBase.heap) * N) / SAMPLE;
if (setDiff < 0) throw new Error('unreachable');

const extraHeap = peak.heap - base.heap;
const extraBuffers = peak.buffers - base.buffers;
console.log(`
reconciliation of 2 x ${N.toLocaleString()} ids (chunks fed through applyInventoryChunk):
  time total                 ${s(total)} wall, ${s(totalCpu)} CPU (machine load ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores; source chunks stored in ${s(fedSource)})
  extra memory               ${mb(extraHeap + extraBuffers)}  (V8 heap ${mb(extraHeap)} + typed arrays ${mb(extraBuffers)}; ids themselves, held before the run: ${mb(base.heap)})
  phases (CPU)               hash + sort source ${s(buildSourceCpu)}, index ${s(buildIndexCpu)}; merge + re-read + settle ${s(diffCpu)}
  rss after                  ${mb(after.rss)}
  exact                      ${exact ? 'yes' : 'NO'}: ${diff.missing.length} missing, ${diff.orphans.length} orphans found; ${planted} + ${planted} planted; ${diff.collisions} hash-prefix collisions settled; ${diff.chunksReread} chunks re-read
  findings                   summary counts orphan=${String(summaryCounts.orphan)} missing=${String(summaryCounts.missing)}; ${perDoc} per-document findings
baselines (same run):
  sort raw 64-bit hashes     ${s(hashSortOnly)} wall, ${s(hashSortOnlyCpu)} CPU (hash + BigUint64Array.sort, both sides)  -> reconciliation / baseline = ${(totalCpu / hashSortOnlyCpu).toFixed(2)}x CPU
  JS Set of strings          ${s(setTime)} CPU, ${mb(setMem)} heap (1M-id sample scaled x${(N / SAMPLE).toFixed(0)})  -> reconciliation / baseline = ${(totalCpu / setTime).toFixed(2)}x CPU, ${((extraHeap + extraBuffers) / setMem).toFixed(2)}x memory
goals: <= 5 s ${total <= 5000 ? 'met' : totalCpu <= 5000 ? 'met in CPU time (wall clock inflated by other load)' : 'MISSED'}, <= 300 MB extra ${extraHeap + extraBuffers <= 300 * MB ? 'met' : 'MISSED'}, exact ${exact && countsOk ? 'met' : 'MISSED'}`);
console.log(
  JSON.stringify({
    ids: N,
    totalMs: Math.round(total),
    totalCpuMs: Math.round(totalCpu),
    extraHeapMB: Math.round(extraHeap / MB),
    extraTypedArraysMB: Math.round(extraBuffers / MB),
    exact: exact && countsOk,
    phasesCpuMs: {
      buildSource: Math.round(buildSourceCpu),
      buildIndex: Math.round(buildIndexCpu),
      diff: Math.round(diffCpu),
    },
    hashSortOnlyMs: Math.round(hashSortOnly),
    hashSortOnlyCpuMs: Math.round(hashSortOnlyCpu),
    jsSetScaledCpuMs: Math.round(setTime),
  }),
);
if (!exact || !countsOk) process.exitCode = 1;
