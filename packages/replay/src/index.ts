// @tidemark/replay: the in-process host behind `tidemark replay` and `tidemark contracts backtest` — the Kafka
// services' compositions run on event time over a JSONL file, with deterministic outputs.
export { replay, drive, metricKinds } from './replay.js';
export type {
  ReplayOptions,
  ReplayResult,
  ReplayProgress,
  DriveTarget,
  DriveHooks,
} from './replay.js';
export { backtest } from './backtest.js';
export { formatBacktest } from './backtest-format.js';
export type {
  BacktestOptions,
  BacktestProgress,
  BacktestResult,
  BacktestAlertRow,
  BacktestRouted,
  BacktestRow,
  BacktestSample,
} from './backtest.js';
export { ReplayHost, DEFAULT_TICK_MS, DEFAULT_COMMIT_EVERY } from './host.js';
export type { ReplayHostOptions, ReplayService, HostStats, OutputSink } from './host.js';
export { replayServices, REPLAY_SERVICE_ORDER } from './services.js';
export type { ReplayServicesOptions } from './services.js';
export { parseLine, readLines, keyForEvent } from './input.js';
export type { ReplayInput, ReplayRecord, InvalidLine, ParsedLine } from './input.js';
export { directoryOutput, memoryOutput, REPLAY_FILES } from './output.js';
export type { ReplayOutput, MemoryOutput, ReplayFile } from './output.js';
export { MemoryMetrics } from './metrics.js';
export type { MemorySeries, HistogramSummary } from './metrics.js';
export { createPartitioner, DEFAULT_PARTITIONS } from './partitioner.js';
export type { Partitioner } from './partitioner.js';
export { SummaryBuilder } from './summary.js';
export type { ReplaySummary, StatusCounts } from './summary.js';
export { RangeBoundError, parseRangeBound, rangeLines } from './kafka-input.js';
export type { RangeBound, RangeRecord } from './kafka-input.js';
