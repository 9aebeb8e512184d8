// Jensen–Shannon distance. simple-statistics has no divergence measures, so it is written here as
// scipy.spatial.distance.jensenshannon defines it: p and q normalised, m = (p+q)/2,
// JS = sqrt((KL(p‖m) + KL(q‖m)) / 2), with terms 0·log(0/x) = 0 (scipy.special.rel_entr).
import { DriftInputError } from '../errors.js';

/** Jensen–Shannon distance between two (not necessarily normalised) distributions over the same categories. */
export function jensenShannonDistance(
  p: readonly number[],
  q: readonly number[],
  base: number = 2,
): number {
  if (p.length !== q.length || p.length === 0) {
    throw new DriftInputError(
      'jensenShannonDistance needs two vectors of the same non-zero length',
      {
        p: p.length,
        q: q.length,
      },
    );
  }
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! >= 0) || !(q[i]! >= 0)) {
      throw new DriftInputError('jensenShannonDistance: weights must be finite and >= 0', {
        index: i,
      });
    }
    sp += p[i]!;
    sq += q[i]!;
  }
  if (!(sp > 0) || !(sq > 0))
    throw new DriftInputError('jensenShannonDistance: a distribution sums to 0', { sp, sq });
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const mi = (pi + qi) / 2;
    if (pi > 0) js += pi * Math.log(pi / mi);
    if (qi > 0) js += qi * Math.log(qi / mi);
  }
  js /= Math.log(base);
  return Math.sqrt(Math.max(0, js) / 2);
}
