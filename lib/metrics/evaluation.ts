/**
 * The whole NC + M-D evaluation of a model, from a model-agnostic source of batches
 * (features, logits, labels) and the classifier (W, b). Two streamed passes per split, all
 * accumulation on the compute backend (`streaming.ts`), measures on the host in float64
 * (`nc.ts`, `collapse.ts`, `memorization.ts`):
 *
 * 1. class moments of the features, of the logits and of the softmax outputs; top-1 / top-k
 *    and the calibration histogram; the M-D group sums (class means, clean and noisy centroids);
 * 2. with those centroids: the M-D distances, and the agreement of the classifier with the
 *    nearest-class-centre rule (centres = the TRAINING class means, also for the test split).
 *
 * Any model works: an MLP, a ResNet checkpoint, or features saved on disk, as long as it can
 * yield batches twice.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { labelDiffersFromOriginal, type NoisyPredicate } from "./statistics.ts";
import {
  type Classifier,
  neuralCollapseMeasures,
  type NeuralCollapseResult,
  type PredictionMeasures,
  predictionMeasures,
} from "./collapse.ts";
import type { PinvOptions } from "./linalg.ts";
import { memorizationDilationMeasures, type MemorizationDilationResult } from "./memorization.ts";
import { neuralCollapse1, type NeuralCollapse1Result } from "./nc.ts";
import {
  noisyFlags,
  StreamingCentroids,
  StreamingClassMoments,
  StreamingDistances,
  StreamingPredictions,
} from "./streaming.ts";

/**
 * One batch from a {@linkcode FeatureSource}. The evaluation disposes `features` and `logits`
 * once it has used them (ownership passes to it).
 */
export interface SourceBatch {
  /** n×d penultimate features (the classifier's input). */
  features: tf.Tensor2D;
  /** n×K classifier outputs. */
  logits: tf.Tensor2D;
  /** Training labels (noisy on the training set; true on the test set). */
  labels: Int32Array;
  /** Original (true) labels; absent means equal to `labels` (every sample clean). */
  originalLabels?: Int32Array;
}

/**
 * Yields a split's batches, afresh on every call (the evaluation makes two passes).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const source: FeatureSource = function* () {
 *   yield { features: tf.tensor2d([[0, 1]]), logits: tf.tensor2d([[1, 0]]), labels: Int32Array.of(0) };
 * };
 * ```
 */
export type FeatureSource = () => Iterable<SourceBatch> | AsyncIterable<SourceBatch>;

/**
 * A source over features and logits held on the host (row-major), uploaded batch by batch.
 *
 * @example
 * ```ts
 * const source = hostFeatureSource({
 *   features: new Float32Array([0, 1, 2, 3]), logits: new Float32Array([1, 0, 0, 1]),
 *   labels: Int32Array.from([0, 1]),
 * }, 1000);
 * ```
 */
export function hostFeatureSource(
  data: {
    features: Float32Array;
    logits: Float32Array;
    labels: Int32Array;
    originalLabels?: Int32Array;
  },
  batchSize = 1000,
): FeatureSource {
  const n = data.labels.length;
  if (n === 0) throw new RangeError("hostFeatureSource: no samples");
  const d = data.features.length / n;
  const k = data.logits.length / n;
  if (!Number.isInteger(d) || !Number.isInteger(k)) {
    throw new RangeError(`features (${data.features.length}) or logits do not divide by ${n}`);
  }
  return function* () {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(start + batchSize, n);
      yield {
        features: tf.tensor2d(data.features.subarray(start * d, end * d), [end - start, d]),
        logits: tf.tensor2d(data.logits.subarray(start * k, end * k), [end - start, k]),
        labels: data.labels.subarray(start, end),
        originalLabels: data.originalLabels?.subarray(start, end),
      };
    }
  };
}

/** Options of {@linkcode evaluateSource} and {@linkcode evaluateSplits}. */
export interface SourceEvaluationOptions extends PinvOptions {
  /** Which samples are noisy (default: label ≠ original; four-class problem: label > 1). */
  isNoisy?: NoisyPredicate;
  /** k of the top-k accuracy; default min(5, K). */
  topK?: number;
  /** Number of equal-width confidence bins of the ECE; default 15. */
  numBins?: number;
}

/** Everything measured on one split. */
export interface SplitMetrics {
  /** Number of samples. */
  numSamples: number;
  /** NC1-NC4 and the modern measures on the features (with the classifier). */
  collapse: NeuralCollapseResult;
  /** NC1 and covariances on the logits: the reference's "NC1 post" (docs/metrics.md#neural-collapse). */
  collapseLogits: NeuralCollapse1Result;
  /** NC1 and covariances on the softmax outputs: memdil's addition, not the reference's NC1 post. */
  collapseSoftmax: NeuralCollapse1Result;
  /** Top-1 / top-k accuracy and calibration. */
  predictions: PredictionMeasures;
  /** Share of samples where the nearest class centre (training means) is the top-1 prediction. */
  nccAgreement: number;
  /** The memorization-dilation measures (docs/metrics.md#memorization-dilation). */
  memorizationDilation: MemorizationDilationResult;
  /**
   * Share of samples whose feature vector is all zero. With ReLU features every unit is then off
   * and the sample gets no gradient: a class collapsed onto the origin cannot move.
   */
  zeroFeatureFraction: number;
}

async function* batchesOf(source: FeatureSource): AsyncGenerator<SourceBatch> {
  yield* source();
}

function checkLabels(labels: Int32Array, numClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] < numClasses)) {
      throw new RangeError(`${what}[${i}] = ${labels[i]} outside [0, ${numClasses})`);
    }
  }
}

function checkBatch(batch: SourceBatch, numClasses: number, dim: number): void {
  const n = batch.labels.length;
  const [rows, columns] = batch.features.shape;
  if (rows !== n || columns !== dim) {
    throw new RangeError(`batch features are ${rows}x${columns}, expected ${n}x${dim}`);
  }
  if (batch.logits.shape[0] !== n || batch.logits.shape[1] !== numClasses) {
    throw new RangeError(
      `batch logits are ${batch.logits.shape.join("x")}, expected ${n}x${numClasses}`,
    );
  }
  checkLabels(batch.labels, numClasses, "labels");
  if (batch.originalLabels !== undefined) {
    if (batch.originalLabels.length !== n) throw new RangeError("originalLabels length != labels");
    checkLabels(batch.originalLabels, numClasses, "originalLabels");
  }
}

/**
 * Evaluate one split from its source: two passes, every metric. `nccMeans` are the centres of the
 * nearest-class-centre rule; default: this split's own class means (pass the training means for
 * the test split, as {@linkcode evaluateSplits} does).
 *
 * @example
 * ```ts
 * import type { Classifier } from "./collapse.ts";
 * declare const source: FeatureSource, classifier: Classifier;
 * const metrics = await evaluateSource(source, classifier);
 * metrics.collapse.nc1; metrics.predictions.ece; metrics.memorizationDilation.dilation;
 * ```
 */
export async function evaluateSource(
  source: FeatureSource,
  classifier: Classifier,
  options: SourceEvaluationOptions & { nccMeans?: readonly (Float64Array | null)[] } = {},
): Promise<SplitMetrics> {
  const { numClasses: K, dim: d } = classifier;
  const isNoisy = options.isNoisy ?? labelDiffersFromOriginal;
  const { rtol, maxRank } = options;
  const pinvOptions = { rtol, maxRank };
  const features = new StreamingClassMoments(K, d);
  const logits = new StreamingClassMoments(K, K);
  const softmax = new StreamingClassMoments(K, K);
  const predictions = new StreamingPredictions(K, { topK: options.topK, numBins: options.numBins });
  const centroidPass = new StreamingCentroids(K, d, { isNoisy });
  let distancePass: StreamingDistances | undefined;
  try {
    let numSamples = 0;
    for await (const batch of batchesOf(source)) {
      try {
        checkBatch(batch, K, d);
        if (batch.labels.length === 0) continue;
        const labels = tf.tensor1d(batch.labels, "int32");
        const probabilities = tf.softmax(batch.logits) as tf.Tensor2D;
        features.add(batch.features, labels);
        logits.add(batch.logits, labels);
        softmax.add(probabilities, labels);
        predictions.add(batch.logits, labels);
        centroidPass.add(
          batch.features,
          batch.labels,
          batch.originalLabels,
          noisyFlags(batch.labels, batch.originalLabels, isNoisy),
        );
        tf.dispose([labels, probabilities]);
        numSamples += batch.labels.length;
      } finally {
        tf.dispose([batch.features, batch.logits]);
      }
    }
    if (numSamples === 0) throw new Error("evaluateSource: the source yielded no samples");
    const featureStats = await features.read();
    const collapse = neuralCollapseMeasures(featureStats, classifier, pinvOptions);
    const centroids = await centroidPass.read();
    distancePass = new StreamingDistances(centroids, options.nccMeans ?? collapse.classMeans);
    for await (const batch of batchesOf(source)) {
      try {
        checkBatch(batch, K, d);
        if (batch.labels.length === 0) continue;
        distancePass.add(batch.features, batch.logits, batch.labels, batch.originalLabels);
      } finally {
        tf.dispose([batch.features, batch.logits]);
      }
    }
    const distances = await distancePass.read();
    return {
      numSamples,
      collapse,
      collapseLogits: neuralCollapse1(await logits.read(), pinvOptions),
      collapseSoftmax: neuralCollapse1(await softmax.read(), pinvOptions),
      predictions: predictionMeasures(await predictions.read()),
      nccAgreement: distances.nccCount > 0 ? distances.nccAgreements / distances.nccCount : NaN,
      memorizationDilation: memorizationDilationMeasures(distances),
      zeroFeatureFraction: distances.zeroFeatureRows / numSamples,
    };
  } finally {
    for (const accumulator of [features, logits, softmax, predictions, centroidPass]) {
      accumulator.dispose();
    }
    distancePass?.dispose();
  }
}

/**
 * Evaluate the training split (labels trained on) and the test split (true labels) of one model
 * state: the test split's nearest-class-centre rule uses the training class means.
 *
 * @example
 * ```ts
 * import type { Classifier } from "./collapse.ts";
 * declare const trainSource: FeatureSource, testSource: FeatureSource;
 * declare const classifier: Classifier;
 * const { train, test } = await evaluateSplits({ train: trainSource, test: testSource }, classifier);
 * console.log(train.collapse.nc1, test.predictions.top1);
 * ```
 */
export async function evaluateSplits(
  sources: { train: FeatureSource; test: FeatureSource },
  classifier: Classifier,
  options: SourceEvaluationOptions = {},
): Promise<{ train: SplitMetrics; test: SplitMetrics }> {
  const train = await evaluateSource(sources.train, classifier, options);
  const test = await evaluateSource(sources.test, classifier, {
    ...options,
    nccMeans: train.collapse.classMeans,
  });
  return { train, test };
}
