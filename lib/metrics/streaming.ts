/**
 * Streaming accumulation ON THE COMPUTE BACKEND of everything the NC and M-D measures need:
 * class counts, class sums and second moments (one-hot matrix products), prediction and
 * calibration counts, group sums for the M-D centroids, and distance moments. Nothing leaves the
 * backend until `read()`, which returns small float64 host snapshots for the measures
 * (`nc.ts`, `collapse.ts`, `memorization.ts`). The tests hold a float64 host implementation
 * (tests/metrics_oracle.ts) these are tested against.
 *
 * Precision. Backends compute in float32, so two devices keep the results close to float64:
 * - every running sum is compensated (Kahan): one correction tensor per sum, so rounding does not
 *   grow with the number of batches;
 * - second moments are taken about a per-class shift (the class mean of the first batch that
 *   contains the class), so Σ (h - s)(h - s)ᵀ - N m̃ m̃ᵀ does not cancel catastrophically when the
 *   features have collapsed (m̃ = mean of h - s is then tiny). The host finishes in float64.
 * What remains is float32 rounding within one batch's matrix product: relative errors of order
 * 1e-7 to 1e-6 for batches of a few hundred samples.
 *
 * Memory. Each accumulator allocates its tensors once, in the constructor; `add` replaces them
 * with tensors of the same shapes and frees every intermediate, so `tf.memory()` stays constant
 * across batches: O(K·d + d²) on the backend (plus O(K²·d) for noisy centroids by (label,
 * original class) when K <= `MAX_NOISY_PAIR_CLASSES`), whatever the number of samples.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { gramMatrix } from "../backend/gram_matrix.ts";
import {
  type Centroids,
  type ClassStatistics,
  labelDiffersFromOriginal,
  type NoisyPredicate,
  ScalarMoments,
} from "./statistics.ts";
import type { DistanceStatistics } from "./memorization.ts";

/**
 * Noisy centroids C[c][o] are accumulated per (label, original class) pair only up to this many
 * classes (K² group sums of d floats; for K = 32, d = 512 that is 2 MiB, doubled for the
 * compensation). Above it only the per-label noisy means are kept and C[c][o] is `null`.
 */
export const MAX_NOISY_PAIR_CLASSES = 32;

/**
 * A running sum of same-shape float32 tensors on the backend, with Kahan compensation.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const sum = new CompensatedSum([2]);
 * sum.add(tf.tensor1d([1, 2])).add(tf.tensor1d([3, 4]));
 * await sum.read(); // Float64Array [4, 6]
 * sum.dispose();
 * ```
 */
export class CompensatedSum {
  /** Shape of the summed tensors. */
  readonly shape: number[];
  #sum: tf.Tensor;
  #compensation: tf.Tensor;

  /** A zero sum of tensors of this shape. */
  constructor(shape: number[]) {
    this.shape = shape;
    this.#sum = tf.zeros(shape);
    this.#compensation = tf.zeros(shape);
  }

  /** Adds `x` (not disposed; must have `shape`). */
  add(x: tf.Tensor): this {
    const [sum, compensation] = tf.tidy(() => {
      const y = tf.sub(x, this.#compensation);
      const t = tf.add(this.#sum, y);
      // What t lost of y; subtracted again from the next term.
      return [t, tf.sub(tf.sub(t, this.#sum), y)];
    });
    tf.dispose([this.#sum, this.#compensation]);
    this.#sum = sum;
    this.#compensation = compensation;
    return this;
  }

  /** The sum in float64 on the host (sum minus its pending compensation). */
  async read(): Promise<Float64Array> {
    const [sum, compensation] = await Promise.all([this.#sum.data(), this.#compensation.data()]);
    return Float64Array.from(sum, (value, i) => value - compensation[i]);
  }

  /** Back to zero. */
  reset(): this {
    tf.dispose([this.#sum, this.#compensation]);
    this.#sum = tf.zeros(this.shape);
    this.#compensation = tf.zeros(this.shape);
    return this;
  }

  /** Frees the backend memory. */
  dispose(): void {
    tf.dispose([this.#sum, this.#compensation]);
  }
}

/**
 * A per-group shift fixed lazily on the backend: the first batch that contains a group sets its
 * shift to that batch's group mean; later batches leave it alone. Shifting values by (about)
 * their mean before squaring is what keeps streamed second moments accurate in float32.
 */
class LazyShift {
  readonly numGroups: number;
  readonly width: number;
  /** numGroups × width shift (0 until set). */
  shift: tf.Tensor2D;
  /** 1 where the shift is set. */
  #isSet: tf.Tensor1D;

  constructor(numGroups: number, width: number) {
    this.numGroups = numGroups;
    this.width = width;
    this.shift = tf.zeros([numGroups, width]);
    this.#isSet = tf.zeros([numGroups]);
  }

  /** Sets the shift of the groups first seen in this batch (counts: numGroups; sums: G × w). */
  update(batchCounts: tf.Tensor1D, batchSums: tf.Tensor2D): void {
    const [shift, isSet] = tf.tidy(() => {
      const present = tf.cast(tf.greater(batchCounts, 0), "float32") as tf.Tensor1D;
      const take = tf.mul(present, tf.sub(1, this.#isSet));
      const means = tf.div(batchSums, tf.expandDims(tf.maximum(batchCounts, 1), 1));
      // The shift is still 0 where it is taken, so adding is exact.
      return [
        tf.add(this.shift, tf.mul(means, tf.expandDims(take, 1))) as tf.Tensor2D,
        tf.maximum(this.#isSet, present) as tf.Tensor1D,
      ];
    });
    tf.dispose([this.shift, this.#isSet]);
    this.shift = shift;
    this.#isSet = isSet;
  }

  reset(): void {
    tf.dispose([this.shift, this.#isSet]);
    this.shift = tf.zeros([this.numGroups, this.width]);
    this.#isSet = tf.zeros([this.numGroups]);
  }

  dispose(): void {
    tf.dispose([this.shift, this.#isSet]);
  }
}

/**
 * ‖x_i‖² of every row, as a product with a vector of ones: both the native and the wasm
 * backend compute that several times faster than `tf.sum` over the rows.
 */
function rowSquaredNorms(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    tf.squeeze(tf.matMul(tf.square(x), tf.ones([x.shape[1], 1])), [1]) as tf.Tensor1D
  );
}

/** Labels as an int32 tensor: uploads host arrays; tensors are used as they are. */
function labelTensor(labels: Int32Array | tf.Tensor1D): tf.Tensor1D {
  return labels instanceof Int32Array ? tf.tensor1d(labels, "int32") : labels;
}

/**
 * Host snapshot of {@linkcode StreamingClassMoments}: implements {@linkcode ClassStatistics}
 * from the float64 sums read off the backend (shift s_c, counts N_c, Σ (h - s_c), Σ (h - s)(h - s)ᵀ
 * and Σ ‖h - s_c‖² per class).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const moments = new StreamingClassMoments(2, 2);
 * moments.add(tf.tensor2d([[0, 0], [2, 0], [4, 4]]), Int32Array.from([0, 0, 1]));
 * const stats = await moments.read();
 * stats.classMean(0); // [1, 0]
 * ```
 */
export class ClassMomentsSnapshot implements ClassStatistics {
  readonly numClasses: number;
  readonly dim: number;
  readonly totalCount: number;
  readonly #counts: Float64Array;
  readonly #means: Float64Array;
  readonly #scatter: Float64Array;
  readonly #traces: Float64Array;

  /**
   * From the backend's float64-read sums (K counts; K×d shifts; K×d shifted sums; d×d shifted
   * second moment; K shifted squared norms).
   */
  constructor(
    numClasses: number,
    dim: number,
    sums: {
      counts: Float64Array;
      shift: Float64Array;
      shiftedSums: Float64Array;
      shiftedSecondMoment: Float64Array;
      shiftedSquaredNorms: Float64Array;
    },
  ) {
    const K = numClasses;
    const d = dim;
    this.numClasses = K;
    this.dim = d;
    // Counts are sums of 0/1 in float32 with compensation: exact up to 2^24 per batch; round.
    this.#counts = sums.counts.map(Math.round);
    this.totalCount = this.#counts.reduce((a, b) => a + b, 0);
    this.#means = new Float64Array(K * d);
    this.#scatter = new Float64Array(d * d);
    this.#traces = new Float64Array(K);
    const symmetric = sums.shiftedSecondMoment;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        this.#scatter[i * d + j] = 0.5 * (symmetric[i * d + j] + symmetric[j * d + i]);
      }
    }
    const meanShifted = new Float64Array(d);
    for (let c = 0; c < K; c++) {
      const count = this.#counts[c];
      if (!(count > 0)) continue;
      let squaredNorm = 0;
      for (let k = 0; k < d; k++) {
        meanShifted[k] = sums.shiftedSums[c * d + k] / count;
        this.#means[c * d + k] = sums.shift[c * d + k] + meanShifted[k];
        squaredNorm += meanShifted[k] * meanShifted[k];
      }
      // Σ (h - s)(h - s)ᵀ over class c = scatter_c + N_c m̃ m̃ᵀ.
      for (let i = 0; i < d; i++) {
        const mi = count * meanShifted[i];
        if (mi === 0) continue;
        for (let j = 0; j < d; j++) this.#scatter[i * d + j] -= mi * meanShifted[j];
      }
      this.#traces[c] = Math.max(0, sums.shiftedSquaredNorms[c] - count * squaredNorm);
    }
  }

  classCount(c: number): number {
    return this.#counts[c];
  }

  classMean(c: number): Float64Array | null {
    if (!(this.#counts[c] > 0)) return null;
    return this.#means.slice(c * this.dim, (c + 1) * this.dim);
  }

  withinClassScatter(): Float64Array {
    return this.#scatter.slice();
  }

  classScatterTrace(c: number): number {
    return this.#traces[c];
  }
}

/**
 * Class counts, class means and within-class second moments of features (or logits) on the
 * backend, batch by batch; {@linkcode StreamingClassMoments.read} gives a
 * {@linkcode ClassMomentsSnapshot} for `neuralCollapse1` / `neuralCollapseMeasures`.
 *
 * Per batch (n×d features H, one-hot labels Y, n×K): counts 1ᵀY, sums Yᵀ(H - S_y), second moment
 * (H - S_y)ᵀ(H - S_y), squared norms Yᵀ‖H - S_y‖², where S_y is the row of the per-class shift.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const moments = new StreamingClassMoments(2, 2);
 * moments.add(tf.tensor2d([[0, 0], [2, 0], [4, 4]]), Int32Array.from([0, 0, 1]));
 * (await moments.read()).classScatterTrace(0); // 2
 * moments.dispose();
 * ```
 */
export class StreamingClassMoments {
  readonly numClasses: number;
  readonly dim: number;
  #shift: LazyShift;
  #counts: CompensatedSum;
  #sums: CompensatedSum;
  #secondMoment: CompensatedSum;
  #squaredNorms: CompensatedSum;

  /** Empty moments for `numClasses` classes of `dim`-dimensional rows. */
  constructor(numClasses: number, dim: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
    }
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RangeError(`dim must be a positive integer, got ${dim}`);
    }
    this.numClasses = numClasses;
    this.dim = dim;
    this.#shift = new LazyShift(numClasses, dim);
    this.#counts = new CompensatedSum([numClasses]);
    this.#sums = new CompensatedSum([numClasses, dim]);
    this.#secondMoment = new CompensatedSum([dim, dim]);
    this.#squaredNorms = new CompensatedSum([numClasses]);
  }

  /**
   * Adds one batch: `rows` n×d (not disposed), `labels` in [0, K) (host array or int32 tensor;
   * a tensor is not disposed). Labels are not range-checked on the backend: out-of-range labels
   * would be silently dropped, so check them on the host (the evaluation driver does).
   */
  add(rows: tf.Tensor2D, labels: Int32Array | tf.Tensor1D): this {
    const { numClasses: K, dim: d } = this;
    if (rows.shape[1] !== d) throw new RangeError(`rows have ${rows.shape[1]} columns, not ${d}`);
    const labelsTensor = labelTensor(labels);
    const [counts, rawSums] = tf.tidy(() => {
      const oneHotT = tf.transpose(tf.oneHot(labelsTensor, K).toFloat()) as tf.Tensor2D;
      return [tf.sum(oneHotT, 1) as tf.Tensor1D, tf.matMul(oneHotT, rows)];
    });
    this.#shift.update(counts, rawSums);
    const [sums, secondMoment, squaredNorms] = tf.tidy(() => {
      const oneHotT = tf.transpose(tf.oneHot(labelsTensor, K).toFloat()) as tf.Tensor2D;
      const shifted = tf.sub(rows, tf.gather(this.#shift.shift, labelsTensor)) as tf.Tensor2D;
      return [
        tf.matMul(oneHotT, shifted),
        gramMatrix(shifted),
        tf.squeeze(tf.matMul(oneHotT, tf.expandDims(rowSquaredNorms(shifted), 1)), [1]),
      ];
    });
    this.#counts.add(counts);
    this.#sums.add(sums);
    this.#secondMoment.add(secondMoment);
    this.#squaredNorms.add(squaredNorms);
    tf.dispose([counts, rawSums, sums, secondMoment, squaredNorms]);
    if (labelsTensor !== labels) labelsTensor.dispose();
    return this;
  }

  /** Reads the sums and finishes the statistics in float64 on the host. */
  async read(): Promise<ClassMomentsSnapshot> {
    const [counts, shift, shiftedSums, shiftedSecondMoment, shiftedSquaredNorms] = await Promise
      .all([
        this.#counts.read(),
        this.#shift.shift.data().then((v) => Float64Array.from(v)),
        this.#sums.read(),
        this.#secondMoment.read(),
        this.#squaredNorms.read(),
      ]);
    return new ClassMomentsSnapshot(this.numClasses, this.dim, {
      counts,
      shift,
      shiftedSums,
      shiftedSecondMoment,
      shiftedSquaredNorms,
    });
  }

  /** Forgets everything. */
  reset(): this {
    this.#shift.reset();
    for (const sum of this.#allSums()) sum.reset();
    return this;
  }

  /** Frees the backend memory. */
  dispose(): void {
    this.#shift.dispose();
    for (const sum of this.#allSums()) sum.dispose();
  }

  #allSums(): CompensatedSum[] {
    return [this.#counts, this.#sums, this.#secondMoment, this.#squaredNorms];
  }
}

/** Host snapshot of {@linkcode StreamingPredictions}: counts behind accuracy and calibration. */
export interface PredictionStatistics {
  /** Number of samples. */
  count: number;
  /** Samples whose top-1 prediction (argmax of the softmax) equals the label. */
  correctTop1: number;
  /** k of top-k. */
  topK: number;
  /** Samples whose label is among the k largest logits. */
  correctTopK: number;
  /** Number of equal-width confidence bins over (0, 1]. */
  numBins: number;
  /** Per bin b, samples whose confidence lies in (b/B, (b+1)/B]. */
  binCounts: Float64Array;
  /** Per bin: sum of the confidences (max softmax probability). */
  binConfidence: Float64Array;
  /** Per bin: number of correct top-1 predictions. */
  binCorrect: Float64Array;
}

/**
 * Top-1 and top-k accuracy and the confidence histogram behind the expected calibration error,
 * accumulated on the backend from logits and labels.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const predictions = new StreamingPredictions(2, { topK: 1, numBins: 15 });
 * predictions.add(tf.tensor2d([[2, 0], [0, 1]]), Int32Array.from([0, 0]));
 * (await predictions.read()).correctTop1; // 1
 * predictions.dispose();
 * ```
 */
export class StreamingPredictions {
  readonly numClasses: number;
  readonly topK: number;
  readonly numBins: number;
  #count = 0;
  /** [correct top-1, correct top-k, bin counts (B), bin confidence sums (B), bin correct (B)]. */
  #sums: CompensatedSum;

  /** `topK` defaults to min(5, K) (the reference's top-5), `numBins` to 15. */
  constructor(numClasses: number, options: { topK?: number; numBins?: number } = {}) {
    this.numClasses = numClasses;
    this.topK = Math.min(options.topK ?? 5, numClasses);
    this.numBins = options.numBins ?? 15;
    if (!(this.topK >= 1) || !Number.isInteger(this.numBins) || this.numBins < 1) {
      throw new RangeError(`need topK >= 1 and a positive integer numBins`);
    }
    this.#sums = new CompensatedSum([2 + 3 * this.numBins]);
  }

  /** Adds one batch of n×K logits (not disposed) with their labels. */
  add(logits: tf.Tensor2D, labels: Int32Array | tf.Tensor1D): this {
    const B = this.numBins;
    const labelsTensor = labelTensor(labels);
    const batch = tf.tidy(() => {
      const probabilities = tf.softmax(logits);
      const confidence = tf.max(probabilities, 1);
      const correct = tf.cast(tf.equal(tf.argMax(probabilities, 1), labelsTensor), "float32");
      const { indices } = tf.topk(logits, this.topK);
      const inTopK = tf.cast(
        tf.any(tf.equal(indices, tf.expandDims(labelsTensor, 1)), 1),
        "float32",
      );
      // Bin b holds confidences in (b/B, (b+1)/B], as the reference's gt(lower) * le(upper).
      const bin = tf.cast(
        tf.clipByValue(tf.sub(tf.ceil(tf.mul(confidence, B)), 1), 0, B - 1),
        "int32",
      ) as tf.Tensor1D;
      const binsT = tf.transpose(tf.oneHot(bin, B).toFloat()) as tf.Tensor2D;
      const perBin = tf.matMul(binsT, tf.stack([confidence, correct], 1) as tf.Tensor2D);
      return tf.concat([
        tf.stack([tf.sum(correct), tf.sum(inTopK)]),
        tf.sum(binsT, 1),
        tf.reshape(tf.transpose(perBin), [2 * B]),
      ]);
    });
    this.#sums.add(batch);
    batch.dispose();
    this.#count += logits.shape[0];
    if (labelsTensor !== labels) labelsTensor.dispose();
    return this;
  }

  /** The counts, read to the host. */
  async read(): Promise<PredictionStatistics> {
    const sums = await this.#sums.read();
    const B = this.numBins;
    return {
      count: this.#count,
      correctTop1: Math.round(sums[0]),
      topK: this.topK,
      correctTopK: Math.round(sums[1]),
      numBins: B,
      binCounts: sums.slice(2, 2 + B).map(Math.round),
      binConfidence: sums.slice(2 + B, 2 + 2 * B),
      binCorrect: sums.slice(2 + 2 * B, 2 + 3 * B).map(Math.round),
    };
  }

  /** Forgets everything. */
  reset(): this {
    this.#count = 0;
    this.#sums.reset();
    return this;
  }

  /** Frees the backend memory. */
  dispose(): void {
    this.#sums.dispose();
  }
}

/**
 * Noise flags of a batch on the host, from the training and original labels and the noise rule.
 *
 * @example
 * ```ts
 * noisyFlags(Int32Array.from([0, 1]), Int32Array.from([0, 0])); // Uint8Array [0, 1]
 * ```
 */
export function noisyFlags(
  labels: Int32Array,
  originalLabels: Int32Array | undefined,
  isNoisy: NoisyPredicate = labelDiffersFromOriginal,
): Uint8Array {
  const originals = originalLabels ?? labels;
  return Uint8Array.from(labels, (label, i) => (isNoisy(label, originals[i]) ? 1 : 0));
}

/**
 * First M-D pass on the backend: group sums giving the class means m_c, clean centroids u_c,
 * noisy means and noisy centroids C[c][o] (docs/metrics.md#memorization-dilation). Groups: clean samples of label c are group c;
 * noisy samples are group K + c·K + o (or K + c above {@linkcode MAX_NOISY_PAIR_CLASSES}).
 * `read()` returns {@linkcode Centroids}, as the tests' float64 host oracle does.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const pass1 = new StreamingCentroids(2, 2);
 * pass1.add(tf.tensor2d([[0, 0], [2, 0], [5, 5]]), Int32Array.from([0, 0, 0]), Int32Array.from([0, 0, 1]));
 * (await pass1.read()).cleanCentroids[0]; // [1, 0]
 * pass1.dispose();
 * ```
 */
export class StreamingCentroids {
  readonly numClasses: number;
  readonly dim: number;
  readonly isNoisy: NoisyPredicate;
  /** Whether noisy samples are grouped by (label, original class). */
  readonly pairs: boolean;
  readonly numGroups: number;
  /** Per-group shift: sums are of h - s_g, so nearby means do not lose digits to their offset. */
  #shift: LazyShift;
  #counts: CompensatedSum;
  #sums: CompensatedSum;
  /** Groups seen in an earlier batch (their shift is set): known on the host from the labels. */
  #seen: Uint8Array;

  /** An empty first pass. */
  constructor(numClasses: number, dim: number, options: { isNoisy?: NoisyPredicate } = {}) {
    this.numClasses = numClasses;
    this.dim = dim;
    this.isNoisy = options.isNoisy ?? labelDiffersFromOriginal;
    this.pairs = numClasses <= MAX_NOISY_PAIR_CLASSES;
    this.numGroups = numClasses + (this.pairs ? numClasses * numClasses : numClasses);
    this.#shift = new LazyShift(this.numGroups, dim);
    this.#counts = new CompensatedSum([this.numGroups]);
    this.#sums = new CompensatedSum([this.numGroups, dim]);
    this.#seen = new Uint8Array(this.numGroups);
  }

  /**
   * Adds one batch (features not disposed). `noisy` defaults to the noise rule applied to the
   * labels; pass it when already computed.
   */
  add(
    features: tf.Tensor2D,
    labels: Int32Array,
    originalLabels?: Int32Array,
    noisy: Uint8Array = noisyFlags(labels, originalLabels, this.isNoisy),
  ): this {
    const K = this.numClasses;
    const originals = originalLabels ?? labels;
    const groups = Int32Array.from(
      labels,
      (c, i) => noisy[i] === 0 ? c : K + (this.pairs ? c * K + originals[i] : c),
    );
    const groupTensor = tf.tensor1d(groups, "int32");
    const oneHotT = tf.tidy(() =>
      tf.transpose(tf.oneHot(groupTensor, this.numGroups).toFloat()) as tf.Tensor2D
    );
    const counts = tf.tidy(() => tf.sum(oneHotT, 1) as tf.Tensor1D);
    // Only a batch with a group not seen before sets shifts (and needs the raw sums for them);
    // any other batch leaves every shift as it is, so one product over it suffices.
    if (groups.some((g) => this.#seen[g] === 0)) {
      const rawSums = tf.matMul(oneHotT, features) as tf.Tensor2D;
      this.#shift.update(counts, rawSums);
      rawSums.dispose();
      for (const g of groups) this.#seen[g] = 1;
    }
    const sums = tf.tidy(() =>
      tf.matMul(oneHotT, tf.sub(features, tf.gather(this.#shift.shift, groupTensor)))
    );
    this.#counts.add(counts);
    this.#sums.add(sums);
    tf.dispose([groupTensor, oneHotT, counts, sums]);
    return this;
  }

  /** The centroids, finished on the host in float64. */
  async read(): Promise<Centroids> {
    const K = this.numClasses;
    const d = this.dim;
    const [rawCounts, sums, shift] = await Promise.all([
      this.#counts.read(),
      this.#sums.read(),
      this.#shift.shift.data(),
    ]);
    const counts = rawCounts.map(Math.round);
    // Σ_g (n_g s_g + Σ_{i∈g} (h_i - s_g)) / Σ_g n_g, in float64.
    const mean = (groupsOf: number[]): [number, Float64Array | null] => {
      let count = 0;
      const total = new Float64Array(d);
      for (const g of groupsOf) {
        count += counts[g];
        for (let k = 0; k < d; k++) total[k] += counts[g] * shift[g * d + k] + sums[g * d + k];
      }
      if (count === 0) return [0, null];
      for (let k = 0; k < d; k++) total[k] /= count;
      return [count, total];
    };
    const noisyGroups = (c: number) =>
      this.pairs ? Array.from({ length: K }, (_, o) => K + c * K + o) : [K + c];
    const centroids: Centroids = {
      numClasses: K,
      dim: d,
      isNoisy: this.isNoisy,
      classCounts: [],
      classMeans: [],
      cleanCounts: [],
      cleanCentroids: [],
      noisyCounts: [],
      noisyMeans: [],
      noisyCentroidCounts: [],
      noisyCentroids: [],
    };
    for (let c = 0; c < K; c++) {
      const [classCount, classMean] = mean([c, ...noisyGroups(c)]);
      const [cleanCount, cleanCentroid] = mean([c]);
      const [noisyCount, noisyMean] = mean(noisyGroups(c));
      centroids.classCounts.push(classCount);
      centroids.classMeans.push(classMean);
      centroids.cleanCounts.push(cleanCount);
      centroids.cleanCentroids.push(cleanCentroid);
      centroids.noisyCounts.push(noisyCount);
      centroids.noisyMeans.push(noisyMean);
      const pairCounts: number[] = [];
      const pairMeans: (Float64Array | null)[] = [];
      for (let o = 0; o < K; o++) {
        const [count, centroid] = this.pairs ? mean([K + c * K + o]) : [0, null];
        pairCounts.push(count);
        pairMeans.push(centroid);
      }
      centroids.noisyCentroidCounts.push(pairCounts);
      centroids.noisyCentroids.push(pairMeans);
    }
    return centroids;
  }

  /** Forgets everything. */
  reset(): this {
    this.#shift.reset();
    this.#counts.reset();
    this.#sums.reset();
    this.#seen.fill(0);
    return this;
  }

  /** Frees the backend memory. */
  dispose(): void {
    this.#shift.dispose();
    this.#counts.dispose();
    this.#sums.dispose();
  }
}

/**
 * Count, mean and variance of a scalar per group, on the backend: shifted sums Σ (x - s_g) and
 * Σ (x - s_g)² with a lazy per-group shift, finished on the host into {@linkcode ScalarMoments}.
 */
class StreamingGroupMoments {
  readonly numGroups: number;
  #shift: LazyShift;
  /** [counts (G), Σ (x - s) (G), Σ (x - s)² (G)]. */
  #sums: CompensatedSum;

  constructor(numGroups: number) {
    this.numGroups = numGroups;
    this.#shift = new LazyShift(numGroups, 1);
    this.#sums = new CompensatedSum([3, numGroups]);
  }

  /** values: n; membership: n×G of 0/1 (each row at most one 1). Neither is disposed. */
  add(values: tf.Tensor1D, membership: tf.Tensor2D): void {
    const [counts, rawSums] = tf.tidy(() => {
      const membershipT = tf.transpose(membership) as tf.Tensor2D;
      return [
        tf.sum(membershipT, 1) as tf.Tensor1D,
        tf.matMul(membershipT, tf.expandDims(values, 1)) as tf.Tensor2D,
      ];
    });
    this.#shift.update(counts, rawSums);
    const batch = tf.tidy(() => {
      const membershipT = tf.transpose(membership) as tf.Tensor2D;
      // Each row has at most one group, so membership · shift picks the sample's shift (or 0).
      const shift = tf.squeeze(tf.matMul(membership, this.#shift.shift), [1]);
      const shifted = tf.expandDims(tf.sub(values, shift), 1);
      return tf.stack([
        counts,
        tf.squeeze(tf.matMul(membershipT, shifted), [1]),
        tf.squeeze(tf.matMul(membershipT, tf.square(shifted)), [1]),
      ]);
    });
    this.#sums.add(batch);
    tf.dispose([counts, rawSums, batch]);
  }

  async read(): Promise<ScalarMoments[]> {
    const G = this.numGroups;
    const [sums, shift] = await Promise.all([this.#sums.read(), this.#shift.shift.data()]);
    return Array.from({ length: G }, (_, g) => {
      const moments = new ScalarMoments();
      const count = Math.round(sums[g]);
      if (count === 0) return moments;
      const first = sums[G + g];
      const second = sums[2 * G + g];
      moments.count = count;
      moments.mean = shift[g] + first / count;
      moments.sumSquaredDeviations = Math.max(0, second - (first * first) / count);
      return moments;
    });
  }

  reset(): void {
    this.#shift.reset();
    this.#sums.reset();
  }

  dispose(): void {
    this.#shift.dispose();
    this.#sums.dispose();
  }
}

/** Host snapshot of {@linkcode StreamingDistances}. */
export interface DistanceSnapshot extends DistanceStatistics {
  /** Samples whose nearest class centre (of `nccMeans`) is the classifier's top-1 prediction. */
  nccAgreements: number;
  /** Samples compared for that agreement (all of them; NaN agreement when no centres). */
  nccCount: number;
  /** Samples whose feature vector is all zero (with ReLU features: every unit off). */
  zeroFeatureRows: number;
}

/**
 * Second M-D pass on the backend, given the first pass's centroids: per label, moments of
 * ‖h - m_c‖ and (clean samples) of ‖h - u_c‖; for noisy samples the memorization distance
 * ‖h - u_o‖ to the clean centroid of the original class, grouped by label and by original class.
 * Also counts how often the nearest-class-centre rule (centres `nccMeans`, typically the TRAINING
 * class means) agrees with the classifier's top-1 prediction (NC4), and how many samples have
 * an all-zero feature vector.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const features = tf.tensor2d([[0, 0], [2, 0], [5, 5]]);
 * const labels = Int32Array.from([0, 0, 0]);
 * const originals = Int32Array.from([0, 0, 1]);
 * const pass1 = new StreamingCentroids(2, 2).add(features, labels, originals);
 * const centroids = await pass1.read();
 * const pass2 = new StreamingDistances(centroids, centroids.classMeans);
 * pass2.add(features, tf.tensor2d([[1, 0], [1, 0], [1, 0]]), labels, originals);
 * (await pass2.read()).cleanDistance[0].mean; // 1
 * ```
 */
export class StreamingDistances {
  readonly centroids: Centroids;
  readonly numClasses: number;
  #classMeans: tf.Tensor2D;
  #cleanCentroids: tf.Tensor2D;
  /** NCC centres minus their mean (centring reduces cancellation in ‖h‖² - 2h·μ + ‖μ‖²). */
  #nccCentres: tf.Tensor2D;
  #nccOrigin: tf.Tensor1D;
  /** 0 for present NCC classes, a huge penalty for absent ones. */
  #nccPenalty: tf.Tensor1D;
  readonly #hasNccCentres: boolean;
  /** Groups: [to class mean (K), clean (K), memorization by label (K), by original (K)]. */
  #moments: StreamingGroupMoments;
  #agreements: CompensatedSum;
  #zeroRows: CompensatedSum;
  #count = 0;
  #noisyWithoutCleanCentroid = 0;

  /** An empty second pass. `nccMeans` (K entries, `null` when absent) are the NCC centres. */
  constructor(centroids: Centroids, nccMeans: readonly (Float64Array | null)[]) {
    this.centroids = centroids;
    const K = centroids.numClasses;
    const d = centroids.dim;
    this.numClasses = K;
    const matrix = (rows: readonly (Float64Array | null)[]) => {
      const values = new Float32Array(K * d);
      rows.forEach((row, c) => row && values.set(row, c * d));
      return tf.tensor2d(values, [K, d]);
    };
    this.#classMeans = matrix(centroids.classMeans);
    this.#cleanCentroids = matrix(centroids.cleanCentroids);
    const present = nccMeans.filter((m): m is Float64Array => m !== null);
    this.#hasNccCentres = present.length > 0;
    const origin = new Float64Array(d);
    for (const m of present) for (let k = 0; k < d; k++) origin[k] += m[k] / present.length;
    this.#nccOrigin = tf.tensor1d(Float32Array.from(origin));
    this.#nccCentres = matrix(
      nccMeans.map((m) => (m === null ? null : m.map((v, k) => v - origin[k]))),
    );
    this.#nccPenalty = tf.tensor1d(nccMeans.map((m) => (m === null ? 3e38 : 0)));
    this.#moments = new StreamingGroupMoments(4 * K);
    this.#agreements = new CompensatedSum([1]);
    this.#zeroRows = new CompensatedSum([1]);
  }

  /** Adds one batch: features n×d and logits n×K (neither disposed), host labels. */
  add(
    features: tf.Tensor2D,
    logits: tf.Tensor2D,
    labels: Int32Array,
    originalLabels?: Int32Array,
    noisy: Uint8Array = noisyFlags(labels, originalLabels, this.centroids.isNoisy),
  ): this {
    const K = this.numClasses;
    const { classMeans, cleanCentroids } = this.centroids;
    const originals = originalLabels ?? labels;
    const n = labels.length;
    // Which centroid each sample's distances are taken to, and into which groups they go.
    const memorizationTarget = new Int32Array(n);
    const cleanGroup = new Int32Array(n).fill(-1);
    const byLabelGroup = new Int32Array(n).fill(-1);
    const byOriginalGroup = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      const o = originals[i];
      if (classMeans[c] === null) {
        throw new Error(`second pass saw label ${c}, which the first pass never saw`);
      }
      if (noisy[i] === 0) {
        if (cleanCentroids[c] === null) {
          throw new Error(`second pass saw a clean sample of class ${c}; the first pass did not`);
        }
        memorizationTarget[i] = c;
        cleanGroup[i] = K + c;
      } else if (cleanCentroids[o] === null) {
        this.#noisyWithoutCleanCentroid++;
        memorizationTarget[i] = c;
      } else {
        memorizationTarget[i] = o;
        byLabelGroup[i] = 2 * K + c;
        byOriginalGroup[i] = 3 * K + o;
      }
    }
    const G = 4 * K;
    const [distances, membership, agreements, zeroRows] = tf.tidy(() => {
      const labelsTensor = tf.tensor1d(labels, "int32");
      // Not tf.norm: its pow kernel is slow on tfjs-wasm.
      const rowNorms = (x: tf.Tensor) => tf.sqrt(rowSquaredNorms(x as tf.Tensor2D));
      const toClassMean = rowNorms(tf.sub(features, tf.gather(this.#classMeans, labelsTensor)));
      const toCentroid = rowNorms(
        tf.sub(features, tf.gather(this.#cleanCentroids, tf.tensor1d(memorizationTarget, "int32"))),
      );
      // Sample i contributes ‖h - m_c‖ to group c, and ‖h - u_·‖ to its clean / memorization groups;
      // as one value per (sample, group) row: four stacked copies of the batch.
      const group = (ids: Int32Array) => tf.oneHot(tf.tensor1d(ids, "int32"), G).toFloat();
      const membership = tf.concat([
        group(Int32Array.from(labels)),
        group(cleanGroup),
        group(byLabelGroup),
        group(byOriginalGroup),
      ]) as tf.Tensor2D;
      const distances = tf.concat([toClassMean, toCentroid, toCentroid, toCentroid]) as tf.Tensor1D;
      let agreements: tf.Tensor = tf.zeros([1]);
      if (this.#hasNccCentres) {
        const centred = tf.sub(features, this.#nccOrigin);
        const squared = tf.add(
          tf.sub(
            tf.expandDims(rowSquaredNorms(this.#nccCentres), 0),
            tf.mul(2, tf.matMul(centred, tf.transpose(this.#nccCentres))),
          ),
          this.#nccPenalty,
        );
        const agree = tf.equal(tf.argMin(squared, 1), tf.argMax(logits, 1));
        agreements = tf.reshape(tf.sum(tf.cast(agree, "float32")), [1]);
      }
      const zeroRows = tf.reshape(
        tf.sum(tf.cast(tf.equal(tf.max(tf.abs(features), 1), 0), "float32")),
        [1],
      );
      return [distances, membership, agreements, zeroRows];
    });
    this.#moments.add(distances as tf.Tensor1D, membership as tf.Tensor2D);
    this.#agreements.add(agreements);
    this.#zeroRows.add(zeroRows);
    tf.dispose([distances, membership, agreements, zeroRows]);
    this.#count += n;
    return this;
  }

  /** The distance moments and NCC agreement count, read to the host. */
  async read(): Promise<DistanceSnapshot> {
    const K = this.numClasses;
    const [moments, agreements, zeroRows] = await Promise.all([
      this.#moments.read(),
      this.#agreements.read(),
      this.#zeroRows.read(),
    ]);
    return {
      centroids: this.centroids,
      distanceToClassMean: moments.slice(0, K),
      cleanDistance: moments.slice(K, 2 * K),
      memorizationByLabel: moments.slice(2 * K, 3 * K),
      memorizationByOriginal: moments.slice(3 * K, 4 * K),
      noisyWithoutCleanCentroid: this.#noisyWithoutCleanCentroid,
      nccAgreements: Math.round(agreements[0]),
      nccCount: this.#hasNccCentres ? this.#count : 0,
      zeroFeatureRows: Math.round(zeroRows[0]),
    };
  }

  /** Frees the backend memory. */
  dispose(): void {
    tf.dispose([
      this.#classMeans,
      this.#cleanCentroids,
      this.#nccCentres,
      this.#nccOrigin,
      this.#nccPenalty,
    ]);
    this.#moments.dispose();
    this.#agreements.dispose();
    this.#zeroRows.dispose();
  }
}
