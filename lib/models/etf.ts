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
