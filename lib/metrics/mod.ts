/**
 * Neural-collapse (NC1-NC4, CDNV, equinorm, equiangularity, self-duality), calibration and
 * memorization-dilation (M-D) metrics, streaming over batches (docs/metrics.md).
 *
 * Statistics are accumulated apart from the measures computed on them: on the compute backend
 * (`streaming.ts`, what evaluations use) or on the host in float64 (`accumulate.ts`, the reference
 * implementation); the measures (`nc.ts`, `collapse.ts`, `memorization.ts`) run on the host in
 * float64 on either. `evaluation.ts` drives a whole evaluation from a model-agnostic source of
 * (features, logits, labels) batches and the classifier. For features already on the host,
 * {@linkcode nc1} and {@linkcode memorizationDilation} do the host computation in one call.
 *
 * @example
 * ```ts
 * import { memorizationDilation, nc1 } from "./mod.ts";
 * const batches = [{
 *   features: new Float32Array([0, 0, 2, 0, 6, 0, 6, 6, 6, 3]),
 *   labels: Int32Array.from([0, 0, 1, 1, 0]),
 *   originalLabels: Int32Array.from([0, 0, 1, 1, 1]),
 * }];
 * nc1(batches, 2).nc1;
 * memorizationDilation(batches, 2).dilation;
 * ```
 *
 * @module
 */

import {
  batchDim,
  CentroidAccumulator,
  ClassMoments,
  DistanceAccumulator,
  type FeatureBatch,
  type NoisyPredicate,
} from "./accumulate.ts";
import { memorizationDilationMeasures, type MemorizationDilationResult } from "./memorization.ts";
import { neuralCollapse1, type NeuralCollapse1Result } from "./nc.ts";
import type { PinvOptions } from "./linalg.ts";

export {
  batchDim,
  CentroidAccumulator,
  type CentroidOptions,
  type Centroids,
  ClassMoments,
  type ClassStatistics,
  DistanceAccumulator,
  type FeatureBatch,
  labelDiffersFromOriginal,
  type NoisyPredicate,
  ScalarMoments,
} from "./accumulate.ts";
export { neuralCollapse1, type NeuralCollapse1Result } from "./nc.ts";
export {
  type Classifier,
  etfDistance,
  neuralCollapseMeasures,
  type NeuralCollapseResult,
  type PredictionMeasures,
  predictionMeasures,
} from "./collapse.ts";
export {
  ClassMomentsSnapshot,
  CompensatedSum,
  type DistanceSnapshot,
  MAX_NOISY_PAIR_CLASSES,
  noisyFlags,
  type PredictionStatistics,
  StreamingCentroids,
  StreamingClassMoments,
  StreamingDistances,
  StreamingPredictions,
} from "./streaming.ts";
export {
  evaluateSource,
  evaluateSplits,
  type FeatureSource,
  hostFeatureSource,
  type SourceBatch,
  type SourceEvaluationOptions,
  type SplitMetrics,
} from "./evaluation.ts";
export {
  type ClassMemorizationDilation,
  type DistanceStatistics,
  memorizationDilationMeasures,
  type MemorizationDilationResult,
  type MemorizationStats,
} from "./memorization.ts";
export {
  identity,
  matMul,
  pinvCutoff,
  type PinvOptions,
  pinvSymmetric,
  type SymmetricEigen,
  symmetricEigen,
  trace,
  traceOfProduct,
  transpose,
} from "./linalg.ts";

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
