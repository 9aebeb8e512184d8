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
export { chiSquare } from './compare/chisquare.js';
export type { ChiSquareResult } from './compare/chisquare.js';
export { jensenShannonDistance } from './compare/jensen-shannon.js';
export { compareCategories, OTHER_CATEGORY, CATEGORY_SMOOTHING } from './compare/categories.js';
export type { CategoryComparison, CategoryShift, CompareCategoriesOptions } from './compare/categories.js';
export {
  gammaQ,
  chiSquareSf,
  smirnovSf,
  kolmogorovSf,
  kolmogorovDurbinCdf,
  kolmogorovPelzGoodCdf,
} from './compare/special.js';
