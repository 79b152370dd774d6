/**
 * Evaluation of a trained simple model: features, NC1 and memorization-dilation metrics on the
 * training and test sets, as one flat metrics row plus per-class and feature tables.
 *
 * @module
 */
import type { RunData, Split } from "../data/mod.ts";
import {
  memorizationDilation,
  type MemorizationDilationResult,
  nc1,
  type NeuralCollapse1Result,
} from "../metrics/mod.ts";
import type { Mlp } from "../models/mod.ts";
import { accuracy, predict, type Predictions } from "../training/mod.ts";

/** Everything measured on one split. */
export interface SplitEvaluation {
  split: "train" | "test";
  data: Split;
  predictions: Predictions;
  accuracy: number;
  nc1: NeuralCollapse1Result;
  /** NC1 of the classifier outputs ("NC1 post"). */
  nc1Post: NeuralCollapse1Result;
  memorizationDilation: MemorizationDilationResult;
}

/** Evaluation of both splits. */
export interface Evaluation {
  train: SplitEvaluation;
  test: SplitEvaluation;
}

async function evaluateSplit(
  model: Mlp,
  split: "train" | "test",
  data: Split,
  classes: number,
): Promise<SplitEvaluation> {
  const predictions = await predict(model, data.inputs, data.count);
  const batch = {
    features: predictions.features,
    labels: data.labels,
    originalLabels: data.originalLabels,
  };
  return {
    split,
    data,
    predictions,
    accuracy: accuracy(predictions.logits, data.labels, classes),
    nc1: nc1([batch], classes, { dim: predictions.featureDim }),
    nc1Post: nc1([{ ...batch, features: predictions.logits }], classes, { dim: classes }),
    memorizationDilation: memorizationDilation([batch], classes, { dim: predictions.featureDim }),
  };
}

/**
 * Evaluate a model on a run's training set (noisy labels, what it was trained on) and test set
 * (true labels).
 *
 * @example
 * ```ts
 * const evaluation = await evaluateModel(model, data);
 * console.log(evaluation.train.memorizationDilation.dilation);
 * ```
 */
export async function evaluateModel(model: Mlp, data: RunData): Promise<Evaluation> {
  return {
    train: await evaluateSplit(model, "train", data.train, data.classes),
    test: await evaluateSplit(model, "test", data.test, data.classes),
  };
}

/**
 * The scalar metrics of an evaluation as one flat row (column names documented in the README).
 *
 * @example
 * ```ts
 * const row = metricColumns(evaluation); // { train_acc, test_acc, nc1_train, dilation_train, ... }
 * ```
 */
export function metricColumns(evaluation: Evaluation): Record<string, number> {
  const row: Record<string, number> = {};
  for (const e of [evaluation.train, evaluation.test]) {
    const s = e.split;
    const md = e.memorizationDilation;
    row[`${s}_acc`] = e.accuracy;
    row[`nc1_${s}`] = e.nc1.nc1;
    row[`nc1_post_${s}`] = e.nc1Post.nc1;
    row[`trace_sigma_w_${s}`] = e.nc1.traceSigmaW;
    row[`trace_sigma_b_${s}`] = e.nc1.traceSigmaB;
    row[`dilation_${s}`] = md.dilation;
    row[`clean_mean_square_${s}`] = md.cleanMeanSquare;
    row[`distance_std_${s}`] = md.distanceStd;
    row[`memorization_${s}`] = md.memorizationPerSample;
    row[`memorization_per_class_${s}`] = md.memorizationPerClass;
    row[`memorization_sum_${s}`] = md.memorizationSum;
    row[`corruption_bias_${s}`] = md.corruptionBias;
    row[`noisy_count_${s}`] = md.numNoisy;
    row[`clean_count_${s}`] = md.numClean;
  }
  return row;
}

/**
 * Per-class memorization-dilation measures of both splits, one row per (split, class).
 *
 * @example
 * ```ts
 * const rows = classMetricRows(evaluation);
 * ```
 */
export function classMetricRows(evaluation: Evaluation): Record<string, unknown>[] {
  return [evaluation.train, evaluation.test].flatMap((e) =>
    e.memorizationDilation.classes.map((c) => ({
      split: e.split,
      class: c.label,
      count: c.count,
      clean_count: c.cleanCount,
      noisy_count: c.noisyCount,
      distance_mean: c.distanceMean,
      distance_std: c.distanceStd,
      clean_spread: c.cleanSpread,
      clean_mean_square: c.cleanMeanSquare,
      memorization_mean: c.memorization.mean,
      memorization_sum: c.memorization.sum,
      class_mean: c.classMean ? Array.from(c.classMean) : null,
      clean_centroid: c.cleanCentroid ? Array.from(c.cleanCentroid) : null,
    }))
  );
}

/**
 * The penultimate features and logits of both splits as rows: split, sample index in the source
 * dataset, label seen in training, original label, noisy flag, f0..f{P-1}, logit0..logit{K-1}.
 *
 * @example
 * ```ts
 * const columns = featureColumns(evaluation);
 * ```
 */
export function featureColumns(evaluation: Evaluation): Record<string, unknown[]> {
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
      columns.noisy.push(e.data.labels[i] !== e.data.originalLabels[i]);
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
