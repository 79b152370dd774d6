/**
 * Evaluation of a trained simple model: every NC, calibration and memorization-dilation metric
 * (docs/metrics.md, with the modern NC measures) on the training and test sets, streamed through
 * `lib/metrics/evaluation.ts`, as flat metric rows, per-class rows, matrices and feature tables;
 * and the per-epoch log behind `epoch_metrics.parquet`.
 *
 * The model enters only through a {@linkcode FeatureSource} and its classifier (W, b), so the same
 * code evaluates any model state (an MLP during training, a large-scale checkpoint).
 *
 * @module
 */
import type { RunData, Split } from "../data/mod.ts";
import {
  type Classifier,
  evaluateSplits,
  hostFeatureSource,
  type MemorizationDilationResult,
  type NeuralCollapse1Result,
  type NeuralCollapseResult,
  type SourceEvaluationOptions,
  type SplitMetrics,
} from "../metrics/mod.ts";
import type { Model } from "../models/mod.ts";
import {
  type DataFrame,
  pl,
  rowsToFrame,
  writeJsonAtomic,
  writeParquetAtomic,
} from "../results/mod.ts";
import { exists, RUN_FILES } from "../runs/mod.ts";
import { predict, type Predictions } from "../training/mod.ts";
import { classifierOf, EVAL_BATCH, type Measurement, scalarMetrics, splitsOf } from "./measure.ts";

export {
  classifierOf,
  type Measurement,
  measureModel,
  metricsData,
  modelSource,
  scalarMetrics,
} from "./measure.ts";

/** Everything measured on one split. */
export interface SplitEvaluation {
  split: "train" | "test";
  data: Split;
  /** Features and logits on the host (for the feature table and scatter plots). */
  predictions: Predictions;
  /** Top-1 accuracy (training labels on train, true labels on test). */
  accuracy: number;
  /** NC measures of the features (NC1 and everything else). */
  nc1: NeuralCollapseResult;
  /** NC1 of the logits, the classifier's outputs before softmax ("NC1 post", as the reference). */
  nc1Post: NeuralCollapse1Result;
  memorizationDilation: MemorizationDilationResult;
  /** All metrics of the split. */
  metrics: SplitMetrics;
}

/** Evaluation of both splits. */
export interface Evaluation {
  train: SplitEvaluation;
  test: SplitEvaluation;
  /** The classifier the metrics were measured with. */
  classifier: Classifier;
}

/**
 * Evaluate a model on a run's training set (noisy labels, what it was trained on) and test set
 * (true labels), keeping the features and logits on the host for the tables and plots.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * import type { RunData } from "../data/mod.ts";
 * declare const model: Model, data: RunData;
 * const evaluation = await evaluateModel(model, data);
 * console.log(evaluation.train.memorizationDilation.dilation);
 * ```
 */
export async function evaluateModel(
  model: Model,
  data: RunData,
  options: SourceEvaluationOptions = {},
): Promise<Evaluation> {
  const classifier = await classifierOf(model);
  const trainPredictions = await predict(model, data.train.inputs, data.train.count);
  const testPredictions = await predict(model, data.test.inputs, data.test.count);
  const source = (split: Split, predictions: Predictions) =>
    hostFeatureSource({
      features: predictions.features,
      logits: predictions.logits,
      labels: split.labels,
      originalLabels: split.originalLabels,
    }, EVAL_BATCH);
  const measured = await evaluateSplits(
    {
      train: source(data.train, trainPredictions),
      test: source(data.test, testPredictions),
    },
    classifier,
    { isNoisy: data.isNoisy, ...options },
  );
  const splitEvaluation = (
    split: "train" | "test",
    splitData: Split,
    predictions: Predictions,
    metrics: SplitMetrics,
  ): SplitEvaluation => ({
    split,
    data: splitData,
    predictions,
    accuracy: metrics.predictions.top1,
    nc1: metrics.collapse,
    nc1Post: metrics.collapseLogits,
    memorizationDilation: metrics.memorizationDilation,
    metrics,
  });
  return {
    train: splitEvaluation("train", data.train, trainPredictions, measured.train),
    test: splitEvaluation("test", data.test, testPredictions, measured.test),
    classifier,
  };
}

/**
 * The scalar metrics of an evaluation as one flat row (alias of {@linkcode scalarMetrics}).
 *
 * @example
 * ```ts
 * declare const evaluation: Evaluation;
 * const row = metricColumns(evaluation); // { train_acc, test_acc, nc1_train, dilation_train, ... }
 * ```
 */
export function metricColumns(evaluation: Evaluation | Measurement): Record<string, number> {
  return scalarMetrics(evaluation);
}

const listOf = (vector: Float64Array | null) => (vector ? Array.from(vector) : null);

/**
 * Per-class measures of both splits, one row per (split, class): counts, M-D distances and
 * memorization, class variance (CDNV numerator), norms of the centred mean and classifier row,
 * corruption biases, CDNV row, class mean, clean centroid and noisy mean.
 *
 * @example
 * ```ts
 * declare const evaluation: Evaluation;
 * const rows = classMetricRows(evaluation);
 * ```
 */
export function classMetricRows(source: Evaluation | Measurement): Record<string, unknown>[] {
  const { classifier } = source;
  const d = classifier.dim;
  const K = classifier.numClasses;
  return splitsOf(source).flatMap(([split, m]) =>
    m.memorizationDilation.classes.map((c) => ({
      split,
      class: c.label,
      count: c.count,
      clean_count: c.cleanCount,
      noisy_count: c.noisyCount,
      distance_mean: c.distanceMean,
      distance_variance: c.distanceVariance,
      distance_std: c.distanceStd,
      clean_distance_mean: c.cleanDistanceMean,
      clean_spread: c.cleanSpread,
      clean_mean_square: c.cleanMeanSquare,
      memorization_count: c.memorization.count,
      memorization_mean: c.memorization.mean,
      memorization_std: c.memorization.std,
      memorization_sum: c.memorization.sum,
      memorization_of_original_mean: c.memorizationOfOriginalClass.mean,
      memorization_of_original_sum: c.memorizationOfOriginalClass.sum,
      class_variance: m.collapse.classVariances[c.label],
      centred_mean_norm: m.collapse.centredMeanNorms[c.label],
      classifier_norm: Math.hypot(...classifier.weight.subarray(c.label * d, (c.label + 1) * d)),
      corruption_bias: c.corruptionBias,
      cdnv: Array.from(m.collapse.cdnvMatrix.subarray(c.label * K, (c.label + 1) * K)),
      class_mean: listOf(c.classMean),
      clean_centroid: listOf(c.cleanCentroid),
      noisy_mean: listOf(c.noisyMean),
    }))
  );
}

/** One matrix (or vector) of an evaluation, flattened row-major. */
export interface MatrixRow extends Record<string, unknown> {
  /** `train`, `test`, or `model` for the classifier's W and b. */
  split: string;
  name: string;
  rows: number;
  cols: number;
  values: number[];
}

/**
 * The matrices of an evaluation (docs/metrics.md#neural-collapse): Σ_W, Σ_B (features and logits), H (d×K', present
 * classes), μ_G, the CDNV matrix, noisy centroids C[c][o] (K²×d, row c·K + o, NaN where none),
 * the calibration bins (3×B: mean confidence, accuracy, count), and the classifier's W (K×d), b.
 *
 * @example
 * ```ts
 * declare const evaluation: Evaluation;
 * const sigmaW = matrixRows(evaluation).find((m) => m.split === "train" && m.name === "sigma_w");
 * ```
 */
export function matrixRows(source: Evaluation | Measurement): MatrixRow[] {
  const { classifier } = source;
  const d = classifier.dim;
  const K = classifier.numClasses;
  const out: MatrixRow[] = [
    { split: "model", name: "W", rows: K, cols: d, values: Array.from(classifier.weight) },
    {
      split: "model",
      name: "b",
      rows: K,
      cols: 1,
      values: Array.from(classifier.bias ?? new Float64Array(K)),
    },
  ];
  for (const [split, m] of splitsOf(source)) {
    const nc = m.collapse;
    const kp = nc.presentClasses.length;
    const noisy = new Array(K * K * d).fill(NaN);
    m.memorizationDilation.classes.forEach((c) =>
      c.noisyCentroids.forEach((centroid, o) => {
        if (centroid) {
          for (let k = 0; k < d; k++) noisy[(c.label * K + o) * d + k] = centroid[k];
        }
      })
    );
    const p = m.predictions;
    const bins = p.binCounts.length;
    const add = (name: string, rows: number, cols: number, values: ArrayLike<number>) =>
      out.push({ split, name, rows, cols, values: Array.from(values) });
    add("sigma_w", d, d, nc.sigmaW);
    add("sigma_b", d, d, nc.sigmaB);
    add("sigma_w_post", K, K, m.collapseLogits.sigmaW);
    add("sigma_b_post", K, K, m.collapseLogits.sigmaB);
    add("H", d, kp, nc.centredMeans);
    add("mu_G", d, 1, nc.globalMean);
    add("mu_G_post", K, 1, m.collapseLogits.globalMean);
    add("cdnv", K, K, nc.cdnvMatrix);
    add("noisy_centroids", K * K, d, noisy);
    add("calibration", 3, bins, [...p.binConfidence, ...p.binAccuracy, ...p.binCounts]);
  }
  return out;
}

/**
 * The penultimate features and logits of both splits as rows: split, sample index in the source
 * dataset, label seen in training, original label, noisy flag (by the data's noise rule), f0..f{P-1},
 * logit0..logit{K-1}.
 *
 * @example
 * ```ts
 * import type { RunData } from "../data/mod.ts";
 * declare const evaluation: Evaluation, data: RunData;
 * const columns = featureColumns(evaluation, data.isNoisy);
 * ```
 */
export function featureColumns(
  evaluation: Evaluation,
  isNoisy: RunData["isNoisy"],
): Record<string, unknown[]> {
  const columns: Record<string, unknown[]> = {
    split: [],
    index: [],
    label: [],
    original_label: [],
    noisy: [],
  };
  const { featureDim, classes } = evaluation.train.predictions;
  for (let j = 0; j < featureDim; j++) columns[`f${j}`] = [];
  for (let k = 0; k < classes; k++) columns[`logit${k}`] = [];
  for (const e of [evaluation.train, evaluation.test]) {
    for (let i = 0; i < e.data.count; i++) {
      columns.split.push(e.split);
      columns.index.push(e.data.sourceIndex[i]);
      columns.label.push(e.data.labels[i]);
      columns.original_label.push(e.data.originalLabels[i]);
      columns.noisy.push(isNoisy(e.data.labels[i], e.data.originalLabels[i]));
      for (let j = 0; j < featureDim; j++) {
        columns[`f${j}`].push(e.predictions.features[i * featureDim + j]);
      }
      for (let k = 0; k < classes; k++) {
        columns[`logit${k}`].push(e.predictions.logits[i * classes + k]);
      }
    }
  }
  return columns;
}

/** File names of the per-epoch tables in a run directory. */
export const EPOCH_FILES = {
  metrics: RUN_FILES.epochMetrics,
  classMetrics: RUN_FILES.epochClassMetrics,
  matrices: RUN_FILES.epochMatrices,
  summary: RUN_FILES.epochSummary,
} as const;

/**
 * The per-epoch evaluation record of a run: one scalar row per evaluated epoch, per-class rows
 * and matrices tagged with the epoch; written as `epoch_metrics.parquet`,
 * `epoch_class_metrics.parquet`, `epoch_matrices.parquet` and the JSON summary
 * `epoch_metrics.json` (evaluated epochs and the last row).
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * import type { RunData } from "../data/mod.ts";
 * declare const model: Model, data: RunData, runDir: string;
 * const log = new EpochMetricsLog();
 * log.add(5, await measureModel(model, data));
 * await log.write(runDir);
 * ```
 */
export class EpochMetricsLog {
  /** One scalar row per evaluated epoch, in the order added. */
  readonly rows: Record<string, number>[] = [];
  #classRows: Record<string, unknown>[] = [];
  #matrixRows: Record<string, unknown>[] = [];

  /** Records the metrics of `epoch` (replacing an earlier record of it); returns its row. */
  add(epoch: number, source: Evaluation | Measurement): Record<string, number> {
    const keep = (row: Record<string, unknown>) => row.epoch !== epoch;
    const rows = this.rows.filter(keep);
    this.rows.splice(0, this.rows.length, ...rows);
    this.#classRows = this.#classRows.filter(keep);
    this.#matrixRows = this.#matrixRows.filter(keep);
    const row = { epoch, ...scalarMetrics(source) };
    this.rows.push(row);
    this.#classRows.push(...classMetricRows(source).map((r) => ({ epoch, ...r })));
    this.#matrixRows.push(...matrixRows(source).map((r) => ({ epoch, ...r })));
    return row;
  }

  /**
   * Writes the tables into `dir`. With `merge`, rows already there for epochs not recorded here
   * are kept (re-evaluating a finished run replaces only its final epoch); otherwise the tables
   * are replaced.
   */
  async write(dir: string, options: { merge?: boolean } = {}): Promise<void> {
    const epochs = new Set(this.rows.map((row) => row.epoch));
    const tables: [string, Record<string, unknown>[]][] = [
      [EPOCH_FILES.metrics, this.rows],
      [EPOCH_FILES.classMetrics, this.#classRows],
      [EPOCH_FILES.matrices, this.#matrixRows],
    ];
    let metrics: DataFrame | undefined;
    for (const [file, rows] of tables) {
      const path = `${dir}/${file}`;
      let frame = rowsToFrame(rows).withColumns(pl.col("epoch").cast(pl.Int32));
      if (options.merge && exists(path)) {
        const old = pl.readParquet(path);
        const kept = old.filter(pl.col("epoch").isIn([...epochs]).not());
        frame = pl.concat([kept, frame], { how: "diagonal" });
      }
      frame = frame.sort("epoch");
      await writeParquetAtomic(frame, path);
      if (file === EPOCH_FILES.metrics) metrics = frame;
    }
    const records = metrics!.toRecords();
    await writeJsonAtomic(`${dir}/${EPOCH_FILES.summary}`, {
      evaluated_epochs: records.map((row) => row.epoch),
      last: records[records.length - 1],
    });
  }
}
