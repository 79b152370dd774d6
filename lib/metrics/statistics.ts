/**
 * The statistics the NC and M-D measures read (`nc.ts`, `collapse.ts`, `memorization.ts`), as the
 * compute backend's streaming accumulators (`streaming.ts`) hand them over: batches of features
 * with their labels, the noise rule, per-class statistics, centroids, and scalar moments.
 *
 * @module
 */

/**
 * One batch of penultimate-layer features (or logits) with their labels.
 *
 * @example
 * ```ts
 * const batch: FeatureBatch = {
 *   features: new Float32Array([0, 0, 1, 1]), // 2 samples, d = 2
 *   labels: Int32Array.from([0, 1]),
 * };
 * ```
 */
export interface FeatureBatch {
  /** n×d features, row-major (sample i at `[i * d, (i + 1) * d)`). */
  features: Float32Array | Float64Array;
  /** The training labels (noisy labels: what the model was trained on), in [0, K). */
  labels: Int32Array;
  /**
   * The original (true) labels, in [0, K). When absent, every sample's original label is its
   * training label, i.e. every sample is clean under the default noise rule.
   */
  originalLabels?: Int32Array;
}

/**
 * Decides whether a sample is noisy from its training label and original label.
 * The default {@linkcode labelDiffersFromOriginal} says `label !== original`; the four-class
 * problem of the paper instead calls a sample noisy when `label > 1`.
 */
export type NoisyPredicate = (label: number, originalLabel: number) => boolean;

/**
 * The default noise rule: a sample is noisy when its training label differs from its original.
 *
 * @example
 * ```ts
 * labelDiffersFromOriginal(1, 0); // true
 * ```
 */
export const labelDiffersFromOriginal: NoisyPredicate = (label, originalLabel) =>
  label !== originalLabel;

/**
 * Streaming count, mean and variance of a scalar (Welford's update, Chan's merge). Used for the
 * M-D distances instead of raw sums of squares because E[x²] - E[x]² cancels badly when the
 * spread is small next to the mean, which is the neural-collapse regime.
 *
 * @example
 * ```ts
 * const m = new ScalarMoments();
 * [1, 2, 3].forEach((x) => m.add(x));
 * m.mean; // 2
 * m.variance; // 2/3 (population)
 * ```
 */
export class ScalarMoments {
  /** Number of values seen. */
  count = 0;
  /** Mean of the values seen (0 when none). */
  mean = 0;
  /** Sum of squared deviations from the mean. */
  sumSquaredDeviations = 0;

  /** Adds one value. */
  add(x: number): this {
    this.count++;
    const delta = x - this.mean;
    this.mean += delta / this.count;
    this.sumSquaredDeviations += delta * (x - this.mean);
    return this;
  }

  /** Adds all values seen by `other`. */
  merge(other: ScalarMoments): this {
    if (other.count === 0) return this;
    const count = this.count + other.count;
    const delta = other.mean - this.mean;
    this.sumSquaredDeviations += other.sumSquaredDeviations +
      delta * delta * (this.count * other.count) / count;
    this.mean += delta * other.count / count;
    this.count = count;
    return this;
  }

  /** Forgets everything. */
  reset(): this {
    this.count = 0;
    this.mean = 0;
    this.sumSquaredDeviations = 0;
    return this;
  }

  /** Sum of the values. */
  get sum(): number {
    return this.mean * this.count;
  }

  /** Population variance (divides by count); NaN when empty. */
  get variance(): number {
    return this.count === 0 ? NaN : this.sumSquaredDeviations / this.count;
  }

  /** Population standard deviation; NaN when empty. */
  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** Sum of the squared values. */
  get sumOfSquares(): number {
    return this.sumSquaredDeviations + this.count * this.mean * this.mean;
  }

  /** Mean of the squared values; NaN when empty. */
  get meanSquare(): number {
    return this.count === 0 ? NaN : this.variance + this.mean * this.mean;
  }
}

/**
 * What the neural-collapse measures need from one pass over the data: class counts, class means,
 * the pooled within-class scatter and each class's scatter trace. The snapshots read from the
 * compute backend's streaming accumulators (`streaming.ts`) implement it, and so does the tests'
 * float64 host oracle, so every measure works on both.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { StreamingClassMoments } from "./streaming.ts";
 * const moments = new StreamingClassMoments(2, 2);
 * moments.add(tf.tensor2d([[0, 0], [2, 0], [4, 4]]), Int32Array.from([0, 0, 1]));
 * const stats: ClassStatistics = await moments.read();
 * stats.classScatterTrace(0); // 2: (0,0) and (2,0) are each 1 away from (1,0)
 * ```
 */
export interface ClassStatistics {
  /** Number of classes K (labels lie in [0, K)). */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** Total number of samples N. */
  readonly totalCount: number;
  /** Number of samples N_c labelled `c`. */
  classCount(c: number): number;
  /** The mean μ_c of the samples labelled `c` (a fresh array), or `null` when there are none. */
  classMean(c: number): Float64Array | null;
  /** Σ_c Σ_{y_i = c} (h_i - μ_c)(h_i - μ_c)ᵀ as a full symmetric d×d row-major matrix (a copy). */
  withinClassScatter(): Float64Array;
  /** Σ_{y_i = c} ‖h_i - μ_c‖², the trace of class c's own scatter (0 for an empty class). */
  classScatterTrace(c: number): number;
}

/**
 * The centroids found by the first M-D pass (`StreamingCentroids.read` in `streaming.ts`).
 * Arrays are indexed by class; a centroid is `null` when it has no samples.
 */
export interface Centroids {
  /** Number of classes K. */
  numClasses: number;
  /** Feature dimension d. */
  dim: number;
  /** The noise rule used; the second pass must use the same one. */
  isNoisy: NoisyPredicate;
  /** Number of samples labelled c. */
  classCounts: number[];
  /** m_c: mean of the samples labelled c. */
  classMeans: (Float64Array | null)[];
  /** Number of clean samples labelled c. */
  cleanCounts: number[];
  /** u_c: mean of the clean samples labelled c. */
  cleanCentroids: (Float64Array | null)[];
  /** Number of noisy samples labelled c. */
  noisyCounts: number[];
  /** Mean of the noisy samples labelled c. */
  noisyMeans: (Float64Array | null)[];
  /** noisyCentroidCounts[c][o]: number of noisy samples labelled c with original label o. */
  noisyCentroidCounts: number[][];
  /** noisyCentroids[c][o] = C[c][o]: mean of the noisy samples labelled c with original label o. */
  noisyCentroids: (Float64Array | null)[][];
}
