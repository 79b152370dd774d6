/**
 * Neural-collapse (NC1-NC4, CDNV, equinorm, equiangularity, self-duality), calibration and
 * memorization-dilation (M-D) metrics, streaming over batches (docs/metrics.md).
 *
 * Statistics are accumulated on the compute backend (`streaming.ts`) apart from the measures
 * computed on them (`nc.ts`, `collapse.ts`, `memorization.ts`), which run on the host in float64
 * on the snapshots the accumulators read back (`statistics.ts`). `evaluation.ts` drives a whole
 * evaluation from a model-agnostic source of (features, logits, labels) batches and the
 * classifier. The tests hold a float64 host implementation of the accumulators as their oracle.
 *
 * @example
 * ```ts
 * import { evaluateSource, hostFeatureSource } from "./mod.ts";
 * const source = hostFeatureSource({
 *   features: new Float32Array([0, 0, 2, 0, 6, 0, 6, 6, 6, 3]),
 *   logits: new Float32Array([1, 0, 1, 0, 0, 1, 0, 1, 1, 0]),
 *   labels: Int32Array.from([0, 0, 1, 1, 0]),
 *   originalLabels: Int32Array.from([0, 0, 1, 1, 1]),
 * }, 2);
 * const classifier = { numClasses: 2, dim: 2, weight: Float64Array.from([1, 0, 0, 1]), bias: null };
 * const metrics = await evaluateSource(source, classifier);
 * metrics.memorizationDilation.dilation;
 * ```
 *
 * @module
 */

export {
  type Centroids,
  type ClassStatistics,
  type FeatureBatch,
  labelDiffersFromOriginal,
  type NoisyPredicate,
  ScalarMoments,
} from "./statistics.ts";
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
