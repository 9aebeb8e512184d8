// @tidemark/drift — distribution drift statistics and the drift check; see README.md.
export { DriftInputError, DriftStateError } from './errors.js';
export { ks2samp, KS_EXACT_MAX_N, roundHalfEven } from './compare/ks.js';
export type { KsResult, KsOptions, KsMethod } from './compare/ks.js';
export {
  psi,
  psiFromShares,
  quantileEdges,
  quantileSortedLinear,
  binOf,
  uniqueSorted,
  checkBins,
  PSI_EPSILON,
} from './compare/psi.js';
export type { PsiResult, PsiBin, PsiOptions } from './compare/psi.js';
export { chiSquare, chiSquareHomogeneity } from './compare/chisquare.js';
export { moodTest } from './compare/mood.js';
export type { MoodResult, MoodOptions } from './compare/mood.js';
export type { ChiSquareResult } from './compare/chisquare.js';
export { jensenShannonDistance } from './compare/jensen-shannon.js';
export { compareCategories, OTHER_CATEGORY, CATEGORY_SMOOTHING } from './compare/categories.js';
export type {
  CategoryComparison,
  CategoryShift,
  CompareCategoriesOptions,
} from './compare/categories.js';
export {
  gammaQ,
  chiSquareSf,
  smirnovSf,
  kolmogorovSf,
  kolmogorovDurbinCdf,
  kolmogorovPelzGoodCdf,
} from './compare/special.js';
export {
  MAD_SCALE,
  MEAN_AD_SCALE,
  WEEK_MS,
  robustScore,
  selectVolumeBaseline,
} from './compare/volume.js';
export type { RobustScore, VolumeBaseline, VolumeBaselineOptions } from './compare/volume.js';
export { createRng, normal, hashUnit } from './stat/random.js';
export type { Rng } from './stat/random.js';
export {
  DEFAULT_SKETCH_K,
  createQuantileSketch,
  recordValue,
  mergeQuantileSketches,
  sketchRank,
  sketchQuantiles,
  sketchItems,
  sketchSize,
  quantileSketchFromJSON,
} from './stat/sketch.js';
export type { QuantileSketch } from './stat/sketch.js';
export {
  DEFAULT_SAMPLE_SIZE,
  createPrioritySample,
  recordSample,
  mergePrioritySamples,
  sampleValues,
  prioritySampleFromJSON,
  prioritySampleToJSON,
} from './stat/sample.js';
export type { PrioritySample } from './stat/sample.js';
export {
  DEFAULT_CATEGORY_CAPACITY,
  MISSING_CATEGORY,
  MAX_CATEGORY_LENGTH,
  createCategoryCounts,
  recordCategory,
  mergeCategoryCounts,
  categoryTable,
  categoryCountsToJSON,
  categoryCountsFromJSON,
} from './stat/categories.js';
export type { CategoryCounts, CategoryCountsJSON } from './stat/categories.js';
export {
  createAccumulation,
  recordNumeric,
  recordCategorical,
  recordVolume,
  mergeAccumulations,
  mergeAll,
  accumulationToJSON,
  accumulationFromJSON,
  compareNumeric,
  comparePsi,
  compareSamples,
  compareCategorical,
} from './stat/accumulation.js';
export type {
  FeatureKind,
  FeatureAccumulation,
  FeatureAccumulationJSON,
  NumericAccumulation,
  CategoricalAccumulation,
  VolumeAccumulation,
  AccumulationLimits,
  NumericComparison,
} from './stat/accumulation.js';
export {
  DRIFT_DEFAULTS,
  MAX_ROLLING_WINDOWS,
  MAX_VOLUME_HISTORY,
  resolveDriftConfig,
  featureFor,
} from './check/config.js';
export {
  DEFAULT_SIGNIFICANCE,
  judgeNumeric,
  judgeCategorical,
  psiNoiseFloor,
} from './check/verdict.js';
export type { DistributionVerdict } from './check/verdict.js';
export type {
  DriftConfig,
  DriftFeatureConfig,
  DriftThresholds,
  DriftBaselineConfig,
  ResolvedDriftConfig,
  ResolvedFeatureConfig,
} from './check/config.js';
export {
  createPartitionState,
  recordEvent,
  closeWindows,
  seriesKey,
  partialKey,
  readField,
  partitionStateToJSON,
  partitionStateFromJSON,
  partialFromJSON,
} from './check/partition.js';
export type {
  DriftEvent,
  SeriesId,
  DriftPartial,
  DriftPartitionState,
  DriftPartitionStateJSON,
  PartitionSeriesJSON,
} from './check/partition.js';
export {
  MIN_VOLUME_BASELINE,
  MAX_SILENT_WINDOWS,
  createDeciderState,
  mergeAndDecide,
} from './check/decider.js';
export type { DriftDeciderState } from './check/decider.js';
export { deciderStateToJSON, deciderStateFromJSON } from './check/decider-json.js';
export type { DriftDeciderStateJSON, DeciderSeriesJSON } from './check/decider-json.js';
export {
  driftConfigFromContracts,
  driftFeatureFromContract,
  DRIFT_EVENT_TYPES,
} from './contracts.js';
export {
  DRIFT_DETECTOR,
  DRIFT_PARTIALS_TOPIC,
  DRIFT_PARTIAL_TYPE,
  DRIFT_DETECTOR_TOPICS,
  DRIFT_TOPOLOGY,
  driftDetectorTopics,
  DRIFT_METRICS,
  DRIFT_METRIC_NAMES,
  DRIFT_ENV_VARS,
  DEFAULT_IDLE_AFTER_MS,
  createDriftService,
  driftPartialsTopic,
  driftOptionsFromEnv,
} from './service/service.js';
export type {
  DriftServiceOptions,
  DriftDetectorService,
  DriftServiceEvent,
  DriftPartialEvent,
} from './service/service.js';
export { DriftServiceState } from './service/state.js';
