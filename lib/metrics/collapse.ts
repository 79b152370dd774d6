/**
 * Neural-collapse measures beyond NC1 (docs/metrics.md, with the measures of modern NC work), computed on
 * the host in float64 from accumulated {@linkcode ClassStatistics} and the classifier (W, b), and
 * the accuracy and calibration measures from {@linkcode PredictionStatistics}.
 *
 * Conventions: W is K×d (row c = classifier of class c), H is d×K with columns μ_c - μ_G, the
 * simplex-ETF Gram target is E = (I - 11ᵀ/K)/√(K-1) (unit Frobenius norm). Only classes with
 * samples take part (K' of them, with the matching rows of W); a measure that needs two classes
 * is NaN with fewer. Standard deviations divide by the count (population), as everywhere here.
 *
 * @module
 */
import type { ClassStatistics } from "./statistics.ts";
import type { PinvOptions } from "./linalg.ts";
import { neuralCollapse1, type NeuralCollapse1Result } from "./nc.ts";
import type { PredictionStatistics } from "./streaming.ts";

/**
 * A linear classifier z = W h + b on the host.
 *
 * @example
 * ```ts
 * const classifier: Classifier = {
 *   numClasses: 2,
 *   dim: 2,
 *   weight: Float64Array.from([1, 0, -1, 0]),
 *   bias: null,
 * };
 * ```
 */
export interface Classifier {
  /** Number of classes K (rows of W). */
  numClasses: number;
  /** Feature dimension d (columns of W). */
  dim: number;
  /** W, K×d row-major. */
  weight: Float64Array;
  /** b (K), or `null` without bias (treated as 0). */
  bias: Float64Array | null;
}

/** Everything {@linkcode neuralCollapseMeasures} returns. */
export interface NeuralCollapseResult extends NeuralCollapse1Result {
  /** The classes with samples, in order (the K' classes every measure below uses). */
  presentClasses: number[];
  /** H: d×K' row-major, column j = μ_{c_j} - μ_G. */
  centredMeans: Float64Array;
  /** ‖μ_c - μ_G‖ per class (NaN for empty classes). */
  centredMeanNorms: number[];
  /** E‖h - μ_c‖² over class c: its scatter trace / N_c (NaN for empty classes). */
  classVariances: number[];
  /** NC1 via the class-distance normalized variance: mean over c ≠ c' of `cdnvMatrix`. */
  cdnv: number;
  /** K×K: (V_c + V_c') / (2 ‖μ_c - μ_c'‖²) for c ≠ c' (diagonal and empty classes NaN). */
  cdnvMatrix: Float64Array;
  /** NC2 on the means: ‖HᵀH/‖HᵀH‖_F - E‖_F. */
  nc2Means: number;
  /** Equinorm of the means: std / mean of ‖μ_c - μ_G‖. */
  equinormMeans: number;
  /** Equiangularity of the means: std over pairs c ≠ c' of cos∠(μ_c - μ_G, μ_c' - μ_G). */
  equiangularityMeans: number;
  /** Max-angle deviation of the means: mean over c ≠ c' of |cos∠(μ_c - μ_G, μ_c' - μ_G) + 1/(K'-1)|. */
  maxAngleMeans: number;
  /** NC2 (ETF metric, the reference's): ‖WWᵀ/‖WWᵀ‖_F - E‖_F; NaN without a classifier. */
  nc2: number;
  /** Equinorm of the classifier: std / mean of ‖w_c‖. */
  equinormClassifier: number;
  /** Equiangularity of the classifier: std over pairs of cos∠(w_c, w_c'). */
  equiangularityClassifier: number;
  /** Max-angle deviation of the classifier: mean over pairs of |cos∠(w_c, w_c') + 1/(K'-1)|. */
  maxAngleClassifier: number;
  /** NC3 (W-H relation, the reference's): ‖WH/‖WH‖_F - E‖_F. */
  nc3: number;
  /** NC3 self-duality: ‖Wᵀ/‖W‖_F - H/‖H‖_F‖_F. */
  selfDuality: number;
  /** NC4 as the reference computes it: ‖W μ_G - b‖ (b = 0 without bias). */
  nc4: number;
}

/**
 * ‖G/‖G‖_F - (I - 11ᵀ/K)/√(K-1)‖_F for a K×K Gram-like matrix G: 0 exactly when G is a positive
 * multiple of a simplex ETF's Gram matrix. NaN for K < 2 or G = 0.
 *
 * @example
 * ```ts
 * etfDistance(Float64Array.from([1, -1, -1, 1]), 2); // 0
 * ```
 */
export function etfDistance(gram: Float64Array, k: number): number {
  if (k < 2) return NaN;
  let norm = 0;
  for (const value of gram) norm += value * value;
  norm = Math.sqrt(norm);
  if (!(norm > 0)) return NaN;
  const scale = 1 / Math.sqrt(k - 1);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const target = ((i === j ? 1 : 0) - 1 / k) * scale;
      const diff = gram[i * k + j] / norm - target;
      sum += diff * diff;
    }
  }
  return Math.sqrt(sum);
}

/** Population standard deviation divided by the mean; NaN for no values or mean 0. */
function coefficientOfVariation(values: number[]): number {
  if (values.length === 0) return NaN;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / values.length;
  return mean > 0 ? Math.sqrt(variance) / mean : NaN;
}

/** Vectors given as rows: their Gram matrix, norms and pairwise-cosine statistics. */
function geometry(rows: Float64Array[]) {
  const k = rows.length;
  const gram = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let dot = 0;
      for (let t = 0; t < rows[i].length; t++) dot += rows[i][t] * rows[j][t];
      gram[i * k + j] = dot;
      gram[j * k + i] = dot;
    }
  }
  const norms = rows.map((_, i) => Math.sqrt(gram[i * k + i]));
  const cosines: number[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) cosines.push(gram[i * k + j] / (norms[i] * norms[j]));
  }
  let equiangularity = NaN;
  let maxAngle = NaN;
  if (cosines.length > 0) {
    const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
    equiangularity = Math.sqrt(
      cosines.reduce((a, b) => a + (b - mean) * (b - mean), 0) / cosines.length,
    );
    maxAngle = cosines.reduce((a, b) => a + Math.abs(b + 1 / (k - 1)), 0) / cosines.length;
  }
  return {
    gram,
    norms,
    etf: etfDistance(gram, k),
    equinorm: coefficientOfVariation(norms),
    equiangularity,
    maxAngle,
  };
}

/**
 * Every neural-collapse measure of one split (docs/metrics.md: NC1-NC4 plus CDNV, equinorm, equiangularity,
 * max-angle and self-duality), from class statistics (a backend snapshot, or the tests' host
 * oracle) and optionally the classifier. NC1, Σ_W, Σ_B, μ_c, μ_G come from
 * {@linkcode neuralCollapse1} (same options). Classifier measures are NaN without a classifier.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { StreamingClassMoments } from "./streaming.ts";
 * // Two classes at ±(1, 0), collapsed; W equal to the centred means.
 * const moments = new StreamingClassMoments(2, 2);
 * moments.add(tf.tensor2d([[1, 0], [1, 0], [-1, 0]]), Int32Array.from([0, 0, 1]));
 * const result = neuralCollapseMeasures(await moments.read(), {
 *   numClasses: 2, dim: 2, weight: Float64Array.from([1, 0, -1, 0]), bias: null,
 * });
 * result.cdnv; // 0
 * ```
 */
export function neuralCollapseMeasures(
  stats: ClassStatistics,
  classifier: Classifier | null = null,
  options: PinvOptions = {},
): NeuralCollapseResult {
  const base = neuralCollapse1(stats, options);
  const { dim: d, numClasses: K } = stats;
  if (classifier !== null && (classifier.numClasses !== K || classifier.dim !== d)) {
    throw new RangeError(
      `classifier is ${classifier.numClasses}x${classifier.dim}, the statistics are ${K} classes ` +
        `of dimension ${d}`,
    );
  }
  const present: number[] = [];
  for (let c = 0; c < K; c++) if (base.classMeans[c] !== null) present.push(c);
  const kp = present.length;
  const centred = present.map((c) => base.classMeans[c]!.map((v, k) => v - base.globalMean[k]));
  const centredMeans = new Float64Array(d * kp);
  centred.forEach((column, j) => column.forEach((v, k) => (centredMeans[k * kp + j] = v)));

  const classVariances = Array.from(
    { length: K },
    (_, c) => base.classCounts[c] > 0 ? stats.classScatterTrace(c) / base.classCounts[c] : NaN,
  );
  const cdnvMatrix = new Float64Array(K * K).fill(NaN);
  const cdnvValues: number[] = [];
  for (const c of present) {
    for (const c2 of present) {
      if (c === c2) continue;
      let distance2 = 0;
      for (let k = 0; k < d; k++) {
        const diff = base.classMeans[c]![k] - base.classMeans[c2]![k];
        distance2 += diff * diff;
      }
      const value = (classVariances[c] + classVariances[c2]) / (2 * distance2);
      cdnvMatrix[c * K + c2] = value;
      cdnvValues.push(value);
    }
  }
  const means = geometry(centred);
  const centredMeanNorms = new Array(K).fill(NaN);
  present.forEach((c, j) => (centredMeanNorms[c] = means.norms[j]));

  let nc2 = NaN;
  let equinormClassifier = NaN;
  let equiangularityClassifier = NaN;
  let maxAngleClassifier = NaN;
  let nc3 = NaN;
  let selfDuality = NaN;
  let nc4 = NaN;
  if (classifier !== null) {
    const rows = present.map((c) => classifier.weight.slice(c * d, (c + 1) * d));
    const w = geometry(rows);
    nc2 = w.etf;
    equinormClassifier = w.equinorm;
    equiangularityClassifier = w.equiangularity;
    maxAngleClassifier = w.maxAngle;
    // WH (K'×K'): row i of W against column j of H.
    const wh = new Float64Array(kp * kp);
    for (let i = 0; i < kp; i++) {
      for (let j = 0; j < kp; j++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += rows[i][k] * centred[j][k];
        wh[i * kp + j] = dot;
      }
    }
    nc3 = etfDistance(wh, kp);
    const normW = Math.sqrt(rows.reduce((a, r) => a + r.reduce((s, v) => s + v * v, 0), 0));
    const normH = Math.sqrt(centred.reduce((a, r) => a + r.reduce((s, v) => s + v * v, 0), 0));
    if (kp >= 1 && normW > 0 && normH > 0) {
      let sum = 0;
      for (let j = 0; j < kp; j++) {
        for (let k = 0; k < d; k++) {
          const diff = rows[j][k] / normW - centred[j][k] / normH;
          sum += diff * diff;
        }
      }
      selfDuality = Math.sqrt(sum);
    }
    // The reference's NC4 uses all K rows of W and the bias.
    let sum = 0;
    for (let c = 0; c < K; c++) {
      let value = -(classifier.bias?.[c] ?? 0);
      for (let k = 0; k < d; k++) value += classifier.weight[c * d + k] * base.globalMean[k];
      sum += value * value;
    }
    nc4 = Math.sqrt(sum);
  }
  return {
    ...base,
    presentClasses: present,
    centredMeans,
    centredMeanNorms,
    classVariances,
    cdnv: cdnvValues.length === 0 ? NaN : cdnvValues.reduce((a, b) => a + b, 0) / cdnvValues.length,
    cdnvMatrix,
    nc2Means: means.etf,
    equinormMeans: means.equinorm,
    equiangularityMeans: means.equiangularity,
    maxAngleMeans: means.maxAngle,
    nc2,
    equinormClassifier,
    equiangularityClassifier,
    maxAngleClassifier,
    nc3,
    selfDuality,
    nc4,
  };
}

/** Accuracy and calibration of one split (the result of {@linkcode predictionMeasures}). */
export interface PredictionMeasures {
  /** Number of samples. */
  count: number;
  /** Top-1 accuracy. */
  top1: number;
  /** k of top-k (min(5, K) by default). */
  topK: number;
  /** Top-k accuracy. */
  topKAccuracy: number;
  /** Expected calibration error: Σ_b (n_b/N) |mean confidence_b - accuracy_b|. */
  ece: number;
  /** Per bin: mean confidence (NaN when empty). */
  binConfidence: number[];
  /** Per bin: accuracy (NaN when empty). */
  binAccuracy: number[];
  /** Per bin: number of samples. */
  binCounts: number[];
}

/**
 * Top-1 / top-k accuracy and the expected calibration error from prediction counts. ECE is
 * Σ_b (n_b / N) |conf_b - acc_b| = Σ_b |Σ_{i∈b} conf_i - Σ_{i∈b} correct_i| / N over equal-width
 * bins (b/B, (b+1)/B] of the confidence (max softmax probability). NaN without samples.
 *
 * @example
 * ```ts
 * predictionMeasures({
 *   count: 4, correctTop1: 3, topK: 1, correctTopK: 3, numBins: 2,
 *   binCounts: Float64Array.from([0, 4]), binConfidence: Float64Array.from([0, 3.6]),
 *   binCorrect: Float64Array.from([0, 3]),
 * }).ece; // |3.6 - 3| / 4 = 0.15
 * ```
 */
export function predictionMeasures(stats: PredictionStatistics): PredictionMeasures {
  const N = stats.count;
  let ece = 0;
  for (let b = 0; b < stats.numBins; b++) {
    ece += Math.abs(stats.binConfidence[b] - stats.binCorrect[b]);
  }
  const perBin = (values: Float64Array) =>
    Array.from(values, (v, b) => (stats.binCounts[b] > 0 ? v / stats.binCounts[b] : NaN));
  return {
    count: N,
    top1: N > 0 ? stats.correctTop1 / N : NaN,
    topK: stats.topK,
    topKAccuracy: N > 0 ? stats.correctTopK / N : NaN,
    ece: N > 0 ? ece / N : NaN,
    binConfidence: perBin(stats.binConfidence),
    binAccuracy: perBin(stats.binCorrect),
    binCounts: Array.from(stats.binCounts),
  };
}
