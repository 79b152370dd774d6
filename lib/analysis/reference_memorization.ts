/**
 * The reference's memorization measure, the x-axis of the paper's dilation-against-memorization
 * comparison: for each class i, the distances of the noisy training samples whose original class
 * is i to the clean centroid of i (the mean of the training samples labelled i whose label was
 * not changed), summed; then the mean of these sums over the classes. It is 0 without noise and
 * grows with the number of memorized samples. memdil's runs save the total over classes as
 * `memorization_sum_train`, K times this value.
 *
 * @module
 */

/** Training features with their labels, as a run's `features.parquet` holds them. */
export interface LabelledFeatures {
  /** One feature vector per sample. */
  features: ArrayLike<number>[];
  /** The label trained on (possibly flipped). */
  labels: ArrayLike<number>;
  /** The label before noise. */
  originalLabels: ArrayLike<number>;
  /** Number of classes K. */
  numClasses: number;
}

/**
 * The reference's memorization, computed directly from features: per original class i, the sum
 * over noisy samples (label != original label) of original class i of their distance to the
 * clean centroid of i; the mean of the K sums. A class with noisy samples but no clean sample
 * has no centroid to measure against: the result is then NaN.
 *
 * @example
 * ```ts
 * referenceMemorization({
 *   features: [[0, 0], [2, 0], [3, 4], [6, 0], [6, 2]],
 *   labels: [0, 0, 1, 1, 1],
 *   originalLabels: [0, 0, 0, 1, 1],
 *   numClasses: 2,
 * }); // class 0: centroid (1, 0), noisy (3, 4) at distance sqrt(20); class 1: none. sqrt(20) / 2
 * ```
 */
export function referenceMemorization(data: LabelledFeatures): number {
  const { features, labels, originalLabels, numClasses: K } = data;
  const dim = features[0]?.length ?? 0;
  const centroids = Array.from({ length: K }, () => new Float64Array(dim));
  const cleanCounts = new Array<number>(K).fill(0);
  for (let s = 0; s < features.length; s++) {
    if (labels[s] !== originalLabels[s]) continue;
    const c = labels[s];
    cleanCounts[c]++;
    for (let k = 0; k < dim; k++) centroids[c][k] += features[s][k];
  }
  centroids.forEach((u, c) => u.forEach((_, k) => u[k] /= cleanCounts[c]));
  const sums = new Array<number>(K).fill(0);
  for (let s = 0; s < features.length; s++) {
    if (labels[s] === originalLabels[s]) continue;
    const i = originalLabels[s];
    if (cleanCounts[i] === 0) return NaN;
    let square = 0;
    for (let k = 0; k < dim; k++) square += (features[s][k] - centroids[i][k]) ** 2;
    sums[i] += Math.sqrt(square);
  }
  return sums.reduce((a, b) => a + b, 0) / K;
}

/**
 * The reference's memorization from memdil's saved total over classes
 * (`memorization_sum_train`): the total divided by the number of classes.
 *
 * @example
 * ```ts
 * memorizationFromSum(447.43, 2); // 223.715
 * ```
 */
export function memorizationFromSum(memorizationSum: number, numClasses: number): number {
  return memorizationSum / numClasses;
}
