/**
 * Measuring one model state: its classifier, its features streamed split by split, and every
 * scalar NC and memorization-dilation metric as one flat row. Nothing here touches Parquet or the
 * run directory, so a process without the table libraries (the GPU check of `bench/`) measures a
 * model exactly as a run does.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import type { TrainConfig } from "../config/schema.ts";
import { concatSplits, type RunData, type Split } from "../data/mod.ts";
import {
  type Classifier,
  evaluateSplits,
  type FeatureSource,
  type SourceEvaluationOptions,
  type SplitMetrics,
} from "../metrics/mod.ts";
import type { Model } from "../models/mod.ts";

/** The metrics of both splits of one model state, without host copies of the features. */
export interface Measurement {
  train: SplitMetrics;
  test: SplitMetrics;
  classifier: Classifier;
}

/** Samples per forward pass when a split is streamed through a model. */
export const EVAL_BATCH = 1000;

/**
 * The classifier of a model (MLP, ResNet, VGG) as the reference stores it: W is K×P (tfjs keeps P×K), b or null.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * declare const model: Model;
 * const { weight, bias } = await classifierOf(model);
 * ```
 */
export async function classifierOf(model: Model): Promise<Classifier> {
  const { featureDim: d, classes: K } = model.config;
  // Asynchronous reads: WebGPU under Deno has no synchronous read-back.
  const stored = await model.classifier.weight.data(); // P×K row-major
  const weight = new Float64Array(K * d);
  for (let p = 0; p < d; p++) for (let k = 0; k < K; k++) weight[k * d + p] = stored[p * K + k];
  const bias = model.classifier.bias ? Float64Array.from(await model.classifier.bias.data()) : null;
  return { numClasses: K, dim: d, weight, bias };
}

/**
 * A source that forwards a split through the model in evaluation mode, batch by batch, keeping
 * nothing on the host: for per-epoch evaluation and models whose features do not fit in memory.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * import type { RunData } from "../data/mod.ts";
 * declare const model: Model, data: RunData;
 * import { evaluateSource } from "../metrics/mod.ts";
 * const metrics = await evaluateSource(modelSource(model, data.test), await classifierOf(model));
 * ```
 */
export function modelSource(model: Model, split: Split, batchSize = EVAL_BATCH): FeatureSource {
  const inputSize = model.config.inputSize;
  return function* () {
    for (let start = 0; start < split.count; start += batchSize) {
      const end = Math.min(start + batchSize, split.count);
      const { features, logits } = tf.tidy(() => {
        const x = tf.tensor2d(split.inputs.subarray(start * inputSize, end * inputSize), [
          end - start,
          inputSize,
        ]);
        const out = model.forward(x, false);
        return { features: out.features, logits: out.logits };
      });
      yield {
        features,
        logits,
        labels: split.labels.subarray(start, end),
        originalLabels: split.originalLabels.subarray(start, end),
      };
    }
  };
}

/**
 * Measure one model state on a run's training set (labels trained on) and test set (true
 * labels), streaming forward passes: what `--eval_every` records each evaluated epoch.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * import type { RunData } from "../data/mod.ts";
 * declare const model: Model, data: RunData;
 * const row = scalarMetrics(await measureModel(model, data));
 * ```
 */
export async function measureModel(
  model: Model,
  data: RunData,
  options: SourceEvaluationOptions = {},
): Promise<Measurement> {
  const classifier = await classifierOf(model);
  return evaluateSplits(
    { train: modelSource(model, data.train), test: modelSource(model, data.test) },
    classifier,
    // The data carries its noisy-sample rule (the latent classes in the four-class problem).
    { isNoisy: data.isNoisy, ...options },
  ).then((splits) => ({ ...splits, classifier }));
}

/**
 * The data the metrics are measured on: the run's splits, with `train` extended by the
 * validation part when `--train_metrics_on all` (the reference's choice).
 *
 * @example
 * ```ts
 * import type { RunData } from "../data/mod.ts";
 * declare const data: RunData;
 * const measured = metricsData(data, { train_metrics_on: "all" }); // train + validation
 * ```
 */
export function metricsData(data: RunData, config: Pick<TrainConfig, "train_metrics_on">): RunData {
  return config.train_metrics_on === "all"
    ? { ...data, train: concatSplits(data.train, data.validation) }
    : data;
}

/** A split as an evaluation holds it: its metrics, bare or inside a fuller record. */
export type MeasuredSplit = SplitMetrics | { metrics: SplitMetrics };

/** Both splits of a measured model state (a {@linkcode Measurement}, or a fuller evaluation). */
export interface MeasuredSplits {
  train: MeasuredSplit;
  test: MeasuredSplit;
}

/**
 * Both splits' metrics, train first, from a {@linkcode Measurement} or a fuller evaluation.
 *
 * @example
 * ```ts
 * declare const measurement: Measurement;
 * for (const [split, metrics] of splitsOf(measurement)) console.log(split, metrics.collapse.nc1);
 * ```
 */
export function splitsOf(source: MeasuredSplits): [string, SplitMetrics][] {
  const metricsOf = (split: MeasuredSplit) => "metrics" in split ? split.metrics : split;
  return [["train", metricsOf(source.train)], ["test", metricsOf(source.test)]];
}

/**
 * The scalar metrics of both splits as one flat row; column names are documented in
 * docs/metrics.md
 * (suffix `_train` / `_test`; classifier-only measures have no suffix).
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * import type { RunData } from "../data/mod.ts";
 * declare const model: Model, data: RunData;
 * const row = scalarMetrics(await measureModel(model, data)); // { train_acc, nc1_train, ... }
 * ```
 */
export function scalarMetrics(source: MeasuredSplits): Record<string, number> {
  const row: Record<string, number> = {};
  const splits = splitsOf(source);
  for (const [s, m] of splits) {
    const nc = m.collapse;
    const md = m.memorizationDilation;
    row[`${s}_acc`] = m.predictions.top1;
    row[`topk_acc_${s}`] = m.predictions.topKAccuracy;
    row[`ece_${s}`] = m.predictions.ece;
    row[`nc1_${s}`] = nc.nc1;
    row[`nc1_post_${s}`] = m.collapseLogits.nc1;
    row[`nc1_softmax_${s}`] = m.collapseSoftmax.nc1;
    row[`cdnv_${s}`] = nc.cdnv;
    row[`nc2_means_${s}`] = nc.nc2Means;
    row[`equinorm_means_${s}`] = nc.equinormMeans;
    row[`equiangularity_means_${s}`] = nc.equiangularityMeans;
    row[`max_angle_means_${s}`] = nc.maxAngleMeans;
    row[`nc3_${s}`] = nc.nc3;
    row[`self_duality_${s}`] = nc.selfDuality;
    row[`nc4_${s}`] = nc.nc4;
    row[`ncc_agreement_${s}`] = m.nccAgreement;
    row[`trace_sigma_w_${s}`] = nc.traceSigmaW;
    row[`trace_sigma_b_${s}`] = nc.traceSigmaB;
    row[`trace_sigma_w_post_${s}`] = m.collapseLogits.traceSigmaW;
    row[`trace_sigma_b_post_${s}`] = m.collapseLogits.traceSigmaB;
    row[`dilation_${s}`] = md.dilation;
    row[`clean_mean_square_${s}`] = md.cleanMeanSquare;
    row[`distance_mean_${s}`] = md.distanceMean;
    row[`distance_variance_${s}`] = md.distanceVariance;
    row[`distance_std_${s}`] = md.distanceStd;
    row[`memorization_${s}`] = md.memorizationPerSample;
    row[`memorization_per_class_${s}`] = md.memorizationPerClass;
    row[`memorization_sum_${s}`] = md.memorizationSum;
    row[`clean_centroid_distance_${s}`] = md.cleanCentroidDistance;
    row[`corruption_bias_${s}`] = md.corruptionBias;
    row[`noisy_count_${s}`] = md.numNoisy;
    row[`clean_count_${s}`] = md.numClean;
    row[`noisy_unmeasured_count_${s}`] = md.numNoisyWithoutCleanCentroid;
    row[`zero_features_${s}`] = m.zeroFeatureFraction;
  }
  const train = splits[0][1];
  row.topk = train.predictions.topK;
  row.nc2 = train.collapse.nc2;
  row.equinorm_classifier = train.collapse.equinormClassifier;
  row.equiangularity_classifier = train.collapse.equiangularityClassifier;
  row.max_angle_classifier = train.collapse.maxAngleClassifier;
  return row;
}
