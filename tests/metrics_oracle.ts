/**
 * The float64 host computation of the NC1 and M-D statistics: the test oracle of the compute
 * backend's streaming accumulators (lib/metrics/streaming.ts). Accumulation is kept apart from
 * the measures computed on it (lib/metrics/nc.ts, memorization.ts), so features are fed batch by
 * batch; all statistics are float64 whatever the feature dtype, and their memory is O(K·d + d²)
 * (plus O(d) per (label, original) pair of noisy samples actually seen).
 *
 * Every accumulator has `add(batch)`, `merge(other)` and `reset()`; each returns `this`.
 * {@linkcode nc1} and {@linkcode memorizationDilation} run the whole host computation on features
 * already on the host.
 */
import {
  type Centroids,
  type ClassStatistics,
  type FeatureBatch,
  labelDiffersFromOriginal,
  type NoisyPredicate,
  ScalarMoments,
} from "../lib/metrics/statistics.ts";
import {
  memorizationDilationMeasures,
  type MemorizationDilationResult,
} from "../lib/metrics/memorization.ts";
import { neuralCollapse1, type NeuralCollapse1Result } from "../lib/metrics/nc.ts";
import type { PinvOptions } from "../lib/metrics/linalg.ts";

/**
 * The feature dimension of a batch (features.length / labels.length), or `undefined` for an
 * empty batch. Throws when the lengths do not divide.
 *
 * @example
 * ```ts
 * batchDim({ features: new Float32Array(6), labels: new Int32Array(3) }); // 2
 * ```
 */
export function batchDim(batch: FeatureBatch): number | undefined {
  const n = batch.labels.length;
  if (n === 0) {
    if (batch.features.length !== 0) throw new RangeError("batch has features but no labels");
    return undefined;
  }
  const dim = batch.features.length / n;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(
      `features length ${batch.features.length} is not a positive multiple of ${n} labels`,
    );
  }
  return dim;
}

/** Throws unless the batch has shape n×dim and all labels lie in [0, numClasses). */
function validateBatch(batch: FeatureBatch, numClasses: number, dim: number): void {
  const n = batch.labels.length;
  if (batch.features.length !== n * dim) {
    throw new RangeError(
      `features length ${batch.features.length} != ${n} labels x dim ${dim}`,
    );
  }
  checkLabels(batch.labels, numClasses, "labels");
  if (batch.originalLabels !== undefined) {
    if (batch.originalLabels.length !== n) {
      throw new RangeError(
        `originalLabels length ${batch.originalLabels.length} != labels length ${n}`,
      );
    }
    checkLabels(batch.originalLabels, numClasses, "originalLabels");
  }
}

function checkLabels(labels: Int32Array, numClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y < 0 || y >= numClasses) {
      throw new RangeError(`${what}[${i}] = ${y} outside [0, ${numClasses})`);
    }
  }
}

function checkShape(numClasses: number, dim: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`dim must be a positive integer, got ${dim}`);
  }
}

/** Euclidean distance between x[xOffset .. xOffset+dim) and the vector y, in float64. */
function distanceTo(
  x: Float32Array | Float64Array,
  xOffset: number,
  y: Float64Array,
  dim: number,
): number {
  let sum = 0;
  for (let k = 0; k < dim; k++) {
    const diff = x[xOffset + k] - y[k];
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/**
 * Per-class moments of the features for NC1: class counts N_c, class means μ_c and the pooled
 * within-class scatter Σ_c Σ_{y_i = c} (h_i - μ_c)(h_i - μ_c)ᵀ, from which
 * Σ_W = scatter / N, μ_G = Σ_c N_c μ_c / N and Σ_B follow.
 *
 * These carry the same information as (N_c, Σ h, Σ h hᵀ) but are updated with Chan's parallel
 * formula (batch scatter about the batch class mean, plus a between-batch correction) instead of
 * raw second moments: S_c - N_c μ_c μ_cᵀ cancels catastrophically exactly when features are
 * close to collapse, which is the regime NC1 measures. Only the total scatter is kept (not one per
 * class), so memory is O(K·d + d²).
 *
 * @example
 * ```ts
 * const moments = new ClassMoments(2, 2);
 * moments.add({ features: new Float32Array([0, 0, 2, 2, 4, 0, 4, 2]), labels: Int32Array.from([0, 0, 1, 1]) });
 * moments.classMean(1); // [4, 1]
 * ```
 */
export class ClassMoments implements ClassStatistics {
  /** Number of classes K (labels lie in [0, K)). */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  #counts: Float64Array;
  #means: Float64Array;
  /** Upper triangle (i <= j) of the pooled within-class scatter, d×d row-major. */
  #scatter: Float64Array;
  /** Per class: Σ_{y_i = c} ‖h_i - μ_c‖² (Chan-merged like the scatter). */
  #traces: Float64Array;

  /** Creates empty moments for `numClasses` classes of `dim`-dimensional features. */
  constructor(numClasses: number, dim: number) {
    checkShape(numClasses, dim);
    this.numClasses = numClasses;
    this.dim = dim;
    this.#counts = new Float64Array(numClasses);
    this.#means = new Float64Array(numClasses * dim);
    this.#scatter = new Float64Array(dim * dim);
    this.#traces = new Float64Array(numClasses);
  }

  /** Adds the samples of one batch. */
  add(batch: FeatureBatch): this {
    const { numClasses: K, dim: d } = this;
    validateBatch(batch, K, d);
    const { features, labels } = batch;
    const n = labels.length;
    if (n === 0) return this;

    // Batch class means, computed first so that the scatter is taken about them (two-pass).
    const batchCounts = new Float64Array(K);
    const batchMeans = new Float64Array(K * d);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      batchCounts[c]++;
      const row = i * d;
      const meanRow = c * d;
      for (let k = 0; k < d; k++) batchMeans[meanRow + k] += features[row + k];
    }
    for (let c = 0; c < K; c++) {
      if (batchCounts[c] === 0) continue;
      for (let k = 0; k < d; k++) batchMeans[c * d + k] /= batchCounts[c];
    }

    const centered = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const row = i * d;
      const meanRow = labels[i] * d;
      let squaredNorm = 0;
      for (let k = 0; k < d; k++) {
        centered[k] = features[row + k] - batchMeans[meanRow + k];
        squaredNorm += centered[k] * centered[k];
      }
      this.#addOuterUpper(centered, 1);
      this.#traces[labels[i]] += squaredNorm;
    }

    this.#mergeClassMeans(batchCounts, batchMeans);
    return this;
  }

  /** Adds the samples accumulated by `other` (same K and d). */
  merge(other: ClassMoments): this {
    if (other.numClasses !== this.numClasses || other.dim !== this.dim) {
      throw new RangeError("cannot merge ClassMoments of different numClasses or dim");
    }
    const scatter = this.#scatter;
    const otherScatter = other.#scatter;
    for (let k = 0; k < scatter.length; k++) scatter[k] += otherScatter[k];
    addInto(this.#traces, other.#traces);
    this.#mergeClassMeans(other.#counts, other.#means);
    return this;
  }

  /** Forgets everything. */
  reset(): this {
    this.#counts.fill(0);
    this.#means.fill(0);
    this.#scatter.fill(0);
    this.#traces.fill(0);
    return this;
  }

  /** Total number of samples N. */
  get totalCount(): number {
    let total = 0;
    for (const count of this.#counts) total += count;
    return total;
  }

  /** Number of samples N_c labelled `c`. */
  classCount(c: number): number {
    return this.#counts[c];
  }

  /** A copy of the mean μ_c of the samples labelled `c`, or `null` when there are none. */
  classMean(c: number): Float64Array | null {
    if (!(this.#counts[c] > 0)) return null;
    return this.#means.slice(c * this.dim, (c + 1) * this.dim);
  }

  /**
   * The pooled within-class scatter Σ_c Σ_{y_i = c} (h_i - μ_c)(h_i - μ_c)ᵀ as a full symmetric
   * d×d row-major matrix (a copy). Σ_W is this divided by N.
   */
  withinClassScatter(): Float64Array {
    const d = this.dim;
    const out = this.#scatter.slice();
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) out[i * d + j] = out[j * d + i];
    }
    return out;
  }

  /** Σ_{y_i = c} ‖h_i - μ_c‖²: the trace of class c's own scatter. */
  classScatterTrace(c: number): number {
    return this.#traces[c];
  }

  /** scatter += weight * x xᵀ on the upper triangle only (symmetric, so half the work). */
  #addOuterUpper(x: Float64Array, weight: number): void {
    const d = this.dim;
    const scatter = this.#scatter;
    for (let i = 0; i < d; i++) {
      const xi = x[i] * weight;
      if (xi === 0) continue;
      const row = i * d;
      for (let j = i; j < d; j++) scatter[row + j] += xi * x[j];
    }
  }

  /** Chan's merge of per-class (count, mean) pairs into ours, with the scatter correction. */
  #mergeClassMeans(otherCounts: Float64Array, otherMeans: Float64Array): void {
    const d = this.dim;
    const delta = new Float64Array(d);
    for (let c = 0; c < this.numClasses; c++) {
      const nb = otherCounts[c];
      if (nb === 0) continue;
      const na = this.#counts[c];
      const n = na + nb;
      const row = c * d;
      for (let k = 0; k < d; k++) {
        delta[k] = otherMeans[row + k] - this.#means[row + k];
        this.#means[row + k] += delta[k] * (nb / n);
      }
      if (na > 0) {
        this.#addOuterUpper(delta, (na * nb) / n);
        let squaredNorm = 0;
        for (let k = 0; k < d; k++) squaredNorm += delta[k] * delta[k];
        this.#traces[c] += squaredNorm * (na * nb) / n;
      }
      this.#counts[c] = n;
    }
  }
}

/** Options of {@linkcode CentroidAccumulator}. */
export interface CentroidOptions {
  /** Which samples are noisy; default {@linkcode labelDiffersFromOriginal}. */
  isNoisy?: NoisyPredicate;
}

/**
 * First M-D pass: per class, the class mean m_c, the clean centroid u_c, the mean of the noisy
 * samples and the noisy centroids C[c][o]. Means are kept as float64 sums (no cancellation issue
 * for first moments), which makes merging trivial.
 *
 * @example
 * ```ts
 * const pass1 = new CentroidAccumulator(2, 2);
 * pass1.add({
 *   features: new Float32Array([0, 0, 2, 0, 5, 5]),
 *   labels: Int32Array.from([0, 0, 0]),
 *   originalLabels: Int32Array.from([0, 0, 1]),
 * });
 * pass1.centroids().cleanCentroids[0]; // [1, 0]
 * ```
 */
export class CentroidAccumulator {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** The noise rule. */
  readonly isNoisy: NoisyPredicate;
  #classCounts: Float64Array;
  #classSums: Float64Array;
  #cleanCounts: Float64Array;
  #cleanSums: Float64Array;
  #noisyCounts: Float64Array;
  #noisySums: Float64Array;
  /** Keyed by label * K + original; allocated only for pairs that occur. */
  #noisyPairs = new Map<number, { count: number; sum: Float64Array }>();

  /** Creates an empty first-pass accumulator. */
  constructor(numClasses: number, dim: number, options: CentroidOptions = {}) {
    checkShape(numClasses, dim);
    this.numClasses = numClasses;
    this.dim = dim;
    this.isNoisy = options.isNoisy ?? labelDiffersFromOriginal;
    this.#classCounts = new Float64Array(numClasses);
    this.#classSums = new Float64Array(numClasses * dim);
    this.#cleanCounts = new Float64Array(numClasses);
    this.#cleanSums = new Float64Array(numClasses * dim);
    this.#noisyCounts = new Float64Array(numClasses);
    this.#noisySums = new Float64Array(numClasses * dim);
  }

  /** Adds the samples of one batch. */
  add(batch: FeatureBatch): this {
    const { numClasses: K, dim: d } = this;
    validateBatch(batch, K, d);
    const { features, labels } = batch;
    const originals = batch.originalLabels ?? labels;
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i];
      const o = originals[i];
      const row = i * d;
      addRow(this.#classSums, c * d, features, row, d);
      this.#classCounts[c]++;
      if (this.isNoisy(c, o)) {
        addRow(this.#noisySums, c * d, features, row, d);
        this.#noisyCounts[c]++;
        const pair = this.#pair(c * K + o);
        addRow(pair.sum, 0, features, row, d);
        pair.count++;
      } else {
        addRow(this.#cleanSums, c * d, features, row, d);
        this.#cleanCounts[c]++;
      }
    }
    return this;
  }

  /** Adds the samples accumulated by `other` (same K, d and noise rule). */
  merge(other: CentroidAccumulator): this {
    if (
      other.numClasses !== this.numClasses || other.dim !== this.dim ||
      other.isNoisy !== this.isNoisy
    ) {
      throw new RangeError("cannot merge CentroidAccumulators of different shape or noise rule");
    }
    addInto(this.#classCounts, other.#classCounts);
    addInto(this.#classSums, other.#classSums);
    addInto(this.#cleanCounts, other.#cleanCounts);
    addInto(this.#cleanSums, other.#cleanSums);
    addInto(this.#noisyCounts, other.#noisyCounts);
    addInto(this.#noisySums, other.#noisySums);
    for (const [key, value] of other.#noisyPairs) {
      const pair = this.#pair(key);
      pair.count += value.count;
      addInto(pair.sum, value.sum);
    }
    return this;
  }

  /** Forgets everything. */
  reset(): this {
    for (
      const array of [
        this.#classCounts,
        this.#classSums,
        this.#cleanCounts,
        this.#cleanSums,
        this.#noisyCounts,
        this.#noisySums,
      ]
    ) array.fill(0);
    this.#noisyPairs.clear();
    return this;
  }

  /** The centroids of everything added so far (fresh arrays, safe to keep). */
  centroids(): Centroids {
    const { numClasses: K, dim: d } = this;
    const means = (sums: Float64Array, counts: Float64Array) =>
      Array.from({ length: K }, (_, c) => meanOf(sums, c * d, counts[c], d));
    const noisyCentroidCounts: number[][] = [];
    const noisyCentroids: (Float64Array | null)[][] = [];
    for (let c = 0; c < K; c++) {
      noisyCentroidCounts.push(new Array(K).fill(0));
      noisyCentroids.push(new Array(K).fill(null));
    }
    for (const [key, { count, sum }] of this.#noisyPairs) {
      const c = Math.floor(key / K);
      const o = key % K;
      noisyCentroidCounts[c][o] = count;
      noisyCentroids[c][o] = meanOf(sum, 0, count, d);
    }
    return {
      numClasses: K,
      dim: d,
      isNoisy: this.isNoisy,
      classCounts: Array.from(this.#classCounts),
      classMeans: means(this.#classSums, this.#classCounts),
      cleanCounts: Array.from(this.#cleanCounts),
      cleanCentroids: means(this.#cleanSums, this.#cleanCounts),
      noisyCounts: Array.from(this.#noisyCounts),
      noisyMeans: means(this.#noisySums, this.#noisyCounts),
      noisyCentroidCounts,
      noisyCentroids,
    };
  }

  #pair(key: number): { count: number; sum: Float64Array } {
    let pair = this.#noisyPairs.get(key);
    if (pair === undefined) {
      pair = { count: 0, sum: new Float64Array(this.dim) };
      this.#noisyPairs.set(key, pair);
    }
    return pair;
  }
}

function addRow(
  target: Float64Array,
  targetOffset: number,
  source: Float32Array | Float64Array,
  sourceOffset: number,
  dim: number,
): void {
  for (let k = 0; k < dim; k++) target[targetOffset + k] += source[sourceOffset + k];
}

function addInto(target: Float64Array, source: Float64Array): void {
  for (let k = 0; k < target.length; k++) target[k] += source[k];
}

function meanOf(sums: Float64Array, offset: number, count: number, dim: number) {
  if (!(count > 0)) return null;
  const mean = new Float64Array(dim);
  for (let k = 0; k < dim; k++) mean[k] = sums[offset + k] / count;
  return mean;
}

/**
 * Second M-D pass: given the first pass's {@linkcode Centroids}, accumulates distances.
 * Per label c: ‖h - m_c‖ over samples labelled c, and ‖h - u_c‖ over the clean ones (their
 * spread is the dilation). For each noisy sample with original label o: its distance ‖h - u_o‖
 * to the clean centroid of its ORIGINAL class (memorization), grouped both by training label and
 * by original class. A noisy sample whose original class has no clean centroid cannot be
 * measured; it is counted in `noisyWithoutCleanCentroid` and left out of the memorization.
 *
 * Feeding samples the first pass did not see is an error when their class has no class mean
 * (or, for clean samples, no clean centroid).
 *
 * @example
 * ```ts
 * const batch = {
 *   features: new Float32Array([0, 0, 2, 0, 5, 5]),
 *   labels: Int32Array.from([0, 0, 0]),
 *   originalLabels: Int32Array.from([0, 0, 1]),
 * };
 * const pass2 = new DistanceAccumulator(new CentroidAccumulator(2, 2).add(batch).centroids());
 * pass2.add(batch);
 * pass2.cleanDistance[0].mean; // 1
 * ```
 */
export class DistanceAccumulator {
  /** The first pass's centroids that distances are taken to. */
  readonly centroids: Centroids;
  /** Per label c: moments of ‖h - m_c‖ over samples labelled c. */
  readonly distanceToClassMean: ScalarMoments[];
  /** Per label c: moments of ‖h - u_c‖ over clean samples labelled c (std = dilation). */
  readonly cleanDistance: ScalarMoments[];
  /** Per label c: moments of ‖h - u_o‖ over noisy samples labelled c (o = original label). */
  readonly memorizationByLabel: ScalarMoments[];
  /** Per original class o: moments of ‖h - u_o‖ over noisy samples whose original label is o. */
  readonly memorizationByOriginal: ScalarMoments[];
  /** Noisy samples whose original class has no clean centroid (left out of memorization). */
  noisyWithoutCleanCentroid = 0;

  /** Creates an empty second-pass accumulator for the given centroids. */
  constructor(centroids: Centroids) {
    this.centroids = centroids;
    const perClass = () => Array.from({ length: centroids.numClasses }, () => new ScalarMoments());
    this.distanceToClassMean = perClass();
    this.cleanDistance = perClass();
    this.memorizationByLabel = perClass();
    this.memorizationByOriginal = perClass();
  }

  /** Adds the samples of one batch. */
  add(batch: FeatureBatch): this {
    const { numClasses: K, dim: d, isNoisy, classMeans, cleanCentroids } = this.centroids;
    validateBatch(batch, K, d);
    const { features, labels } = batch;
    const originals = batch.originalLabels ?? labels;
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i];
      const o = originals[i];
      const row = i * d;
      const classMean = classMeans[c];
      if (classMean === null) {
        throw new Error(`second pass saw label ${c}, which the first pass never saw`);
      }
      this.distanceToClassMean[c].add(distanceTo(features, row, classMean, d));
      if (isNoisy(c, o)) {
        const originalCentroid = cleanCentroids[o];
        if (originalCentroid === null) {
          this.noisyWithoutCleanCentroid++;
          continue;
        }
        const distance = distanceTo(features, row, originalCentroid, d);
        this.memorizationByLabel[c].add(distance);
        this.memorizationByOriginal[o].add(distance);
      } else {
        const cleanCentroid = cleanCentroids[c];
        if (cleanCentroid === null) {
          throw new Error(`second pass saw a clean sample of class ${c}; the first pass did not`);
        }
        this.cleanDistance[c].add(distanceTo(features, row, cleanCentroid, d));
      }
    }
    return this;
  }

  /** Adds the distances accumulated by `other`, which must share the same centroids object. */
  merge(other: DistanceAccumulator): this {
    if (other.centroids !== this.centroids) {
      throw new RangeError("cannot merge DistanceAccumulators built on different centroids");
    }
    const lists = [
      [this.distanceToClassMean, other.distanceToClassMean],
      [this.cleanDistance, other.cleanDistance],
      [this.memorizationByLabel, other.memorizationByLabel],
      [this.memorizationByOriginal, other.memorizationByOriginal],
    ];
    for (const [mine, theirs] of lists) mine.forEach((moments, c) => moments.merge(theirs[c]));
    this.noisyWithoutCleanCentroid += other.noisyWithoutCleanCentroid;
    return this;
  }

  /** Forgets all distances (keeps the centroids). */
  reset(): this {
    for (
      const list of [
        this.distanceToClassMean,
        this.cleanDistance,
        this.memorizationByLabel,
        this.memorizationByOriginal,
      ]
    ) list.forEach((moments) => moments.reset());
    this.noisyWithoutCleanCentroid = 0;
    return this;
  }
}

/** Options of {@linkcode nc1}: the pseudo-inverse options of {@linkcode neuralCollapse1}, and: */
export interface Nc1Options extends PinvOptions {
  /** Feature dimension; needed only when every batch is empty (it is inferred otherwise). */
  dim?: number;
}

/** Options of {@linkcode memorizationDilation}. */
export interface MemorizationDilationOptions {
  /** Feature dimension; needed only when every batch is empty (it is inferred otherwise). */
  dim?: number;
  /** Which samples are noisy; default `label !== originalLabel`. */
  isNoisy?: NoisyPredicate;
}

function inferDim(batches: Iterable<FeatureBatch>, dim: number | undefined): number {
  if (dim !== undefined) return dim;
  for (const batch of batches) {
    const found = batchDim(batch);
    if (found !== undefined) return found;
  }
  throw new Error("cannot infer the feature dimension: no samples and no `dim` option");
}

/**
 * NC1 (and Σ_W, Σ_B, class and global means) over batches of features with their training
 * labels, in one pass. See {@linkcode neuralCollapse1} for the definitions and the handling of
 * empty classes (excluded from K). Use it on logits for "NC1 post".
 *
 * @example
 * ```ts
 * const result = nc1([{
 *   features: new Float32Array([0, 0, 2, 2, 4, 0, 4, 1, 4, 2]),
 *   labels: Int32Array.from([0, 0, 1, 1, 1]),
 * }], 2);
 * result.nc1; // 10/117
 * ```
 */
export function nc1(
  batches: readonly FeatureBatch[],
  numClasses: number,
  options: Nc1Options = {},
): NeuralCollapse1Result {
  const moments = new ClassMoments(numClasses, inferDim(batches, options.dim));
  for (const batch of batches) moments.add(batch);
  const { dim: _dim, ...pinvOptions } = options;
  return neuralCollapse1(moments, pinvOptions);
}

/**
 * The memorization-dilation measures over batches of features with training and original labels:
 * runs the centroid pass, then the distance pass, then {@linkcode memorizationDilationMeasures}.
 *
 * @example
 * ```ts
 * const result = memorizationDilation([{
 *   features: new Float32Array([0, 0, 2, 0, 6, 0, 6, 6, 7, 3]),
 *   labels: Int32Array.from([0, 0, 1, 1, 0]),
 *   originalLabels: Int32Array.from([0, 0, 1, 1, 1]),
 * }], 2);
 * result.dilation; // 0: both clean clusters are two points at equal distance from their centroid
 * result.memorizationPerSample; // 1: (7, 3) is 1 away from u_1 = (6, 3)
 * ```
 */
export function memorizationDilation(
  batches: readonly FeatureBatch[],
  numClasses: number,
  options: MemorizationDilationOptions = {},
): MemorizationDilationResult {
  const dim = inferDim(batches, options.dim);
  const centroidPass = new CentroidAccumulator(numClasses, dim, { isNoisy: options.isNoisy });
  for (const batch of batches) centroidPass.add(batch);
  const distancePass = new DistanceAccumulator(centroidPass.centroids());
  for (const batch of batches) distancePass.add(batch);
  return memorizationDilationMeasures(distancePass);
}
