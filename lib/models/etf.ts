/**
 * The fixed simplex equiangular tight frame (ETF) classifier of docs/reference.md#models.
 *
 * @module
 */

/**
 * W = sqrt(K/(K-1)) (I - 11^T/K), rescaled so that (1/K)||W||_F^2 = 1, padded with zero columns
 * to the feature dimension: a K x featureDim matrix, row-major. Then W W^T is proportional to
 * I - 11^T/K: the rows are unit-norm and pairwise at cosine -1/(K-1).
 *
 * @example
 * ```ts
 * const w = simplexEtf(3, 3); // rows of norm 1, pairwise inner product -1/2
 * ```
 */
export function simplexEtf(classes: number, featureDim: number): Float64Array {
  if (classes < 2) throw new Error(`a simplex ETF needs at least 2 classes, got ${classes}`);
  if (featureDim < classes) {
    throw new Error(
      `a simplex ETF of ${classes} classes needs at least ${classes} features, got ${featureDim}`,
    );
  }
  const k = classes;
  const scale = Math.sqrt(k / (k - 1));
  const square = Array.from(
    { length: k * k },
    (_, i) => scale * ((Math.floor(i / k) === i % k ? 1 : 0) - 1 / k),
  );
  const frobenius = Math.sqrt(square.reduce((s, v) => s + v * v, 0) / k);
  const out = new Float64Array(k * featureDim);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) out[r * featureDim + c] = square[r * k + c] / frobenius;
  }
  return out;
}

/**
 * The start `--classifier_init etf` takes when there are fewer features than classes, where no
 * simplex ETF exists: only for 2 features (the four-class problem's `--fourclass_twofeatures`).
 * ReLU features lie in the positive quadrant, so the K rows are unit vectors at equal angles across
 * it, the row of class k at angle (pi / 2) slot[k] / (K - 1): each class wins one sector of the
 * quadrant from the first step (rows spread over the whole circle would leave the classes pointing
 * away from the quadrant unreachable). `slots` orders the classes over the sectors (default: class
 * k in sector k; {@link FOUR_CLASS_SLOTS} for the four-class problem). A K x 2 matrix, row-major.
 *
 * @example
 * ```ts
 * quadrantFrame(3); // rows (1, 0), (cos 45°, sin 45°), (0, 1)
 * quadrantFrame(4, FOUR_CLASS_SLOTS); // classes 0, 2, 3, 1 at 0, 30, 60, 90 degrees
 * ```
 */
export function quadrantFrame(classes: number, slots?: readonly number[]): Float64Array {
  if (classes < 2) throw new Error(`a classifier start needs at least 2 classes, got ${classes}`);
  const order = slots ?? Array.from({ length: classes }, (_, k) => k);
  if (
    order.length !== classes || [...order].sort((a, b) => a - b).some((slot, k) => slot !== k)
  ) {
    throw new Error(`slots must order the ${classes} classes, got [${order.join(", ")}]`);
  }
  const out = new Float64Array(classes * 2);
  for (let k = 0; k < classes; k++) {
    const angle = (Math.PI / 2) * order[k] / (classes - 1);
    out[2 * k] = Math.cos(angle);
    out[2 * k + 1] = Math.sin(angle);
  }
  return out;
}

/**
 * The sectors of the four-class problem's classes in {@link quadrantFrame}: each original class
 * next to its latent class (c + 2), the original classes on the axes: class 0 at 0 degrees, its
 * latent class 2 at 30, class 3 at 60, class 1 at 90. Each feature unit then starts as the
 * detector of one original class and of its latent class, as the simplex ETF makes it the detector
 * of one class in the two-class problem; with the classes in their natural order (0, 1, 2, 3 at 0,
 * 30, 60, 90 degrees) the latent classes interleave, and a minority class whose sector lies beyond
 * a class of the other original class stays unfitted (docs/appendix_experiments.md).
 */
export const FOUR_CLASS_SLOTS: readonly number[] = [0, 3, 1, 2];
