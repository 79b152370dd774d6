/**
 * What ResNet and VGG share: a registry of named parameters, buffers and batch-norm layers (in
 * forward order), image inputs, global average pooling and the (optionally ETF) classifier.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import type { Random } from "../data/random.ts";
import { simplexEtf } from "./etf.ts";
import {
  applyBatchNorm,
  applyConv2d,
  type BatchNorm,
  type BatchStats,
  type Conv2d,
  type ConvInit,
  createBatchNorm,
  createConv2d,
  createDense,
  type Dense,
  type LayerTrace,
  loadNamed,
  type NamedVariable,
  sizeOf,
  traceLayer,
  updateRunningAverages,
} from "./layers.ts";

/** Options every convolutional model takes (the reference's flags). */
export interface ConvNetOptions {
  /** Number of classes K. */
  classes: number;
  /** Classifier bias (`--no-bias` turns it off). */
  bias: boolean;
  /** Frozen simplex-ETF classifier weight (`--ETF_fc`). */
  etfClassifier: boolean;
  /** The last block outputs K channels and the classifier is K x K (`--fixdim`). */
  fixdim: boolean;
}

/** Channels and side of the model input (3 x 32 x 32, flattened channel-major). */
export const IMAGE_CHANNELS = 3;
export const IMAGE_SIDE = 32;

/** The registry and shared layers of a convolutional model. */
export abstract class ConvNet {
  readonly usesBatchNorm: boolean = true;
  /** Set by the subclass once its feature extractor exists (torchvision builds fc last). */
  classifier!: Dense;
  abstract readonly config: { inputSize: number; featureDim: number; classes: number };
  protected readonly rng: Random;
  #parameters: NamedVariable[] = [];
  #buffers: NamedVariable[] = [];
  #norms: BatchNorm[] = [];

  protected constructor(rng: Random) {
    this.rng = rng;
  }

  /** A convolution registered under `name` (its `.weight`, `.bias`). */
  protected conv(
    name: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    stride: number,
    padding: number,
    bias = false,
    init: ConvInit = "kaiming_fan_out",
  ): Conv2d {
    const layer = createConv2d(
      inChannels,
      outChannels,
      kernel,
      stride,
      padding,
      bias,
      this.rng,
      init,
    );
    this.#parameters.push({ name: `${name}.weight`, variable: layer.weight });
    if (layer.bias) this.#parameters.push({ name: `${name}.bias`, variable: layer.bias });
    return layer;
  }

  /** A batch-norm layer registered under `name`; create them in forward order. */
  protected norm(name: string, channels: number): BatchNorm {
    const layer = createBatchNorm(channels);
    this.#parameters.push({ name: `${name}.weight`, variable: layer.gamma });
    this.#parameters.push({ name: `${name}.bias`, variable: layer.beta });
    this.#buffers.push({ name: `${name}.running_mean`, variable: layer.runningMean });
    this.#buffers.push({ name: `${name}.running_var`, variable: layer.runningVar });
    this.#norms.push(layer);
    return layer;
  }

  /** Create and register the classifier (call last, as torchvision builds fc last). */
  protected addClassifier(name: string, featureDim: number, options: ConvNetOptions): void {
    this.classifier = convNetClassifier(featureDim, options, this.rng);
    this.#parameters.push({ name: `${name}.weight`, variable: this.classifier.weight });
    if (this.classifier.bias) {
      this.#parameters.push({ name: `${name}.bias`, variable: this.classifier.bias });
    }
  }

  /** Trainable parameters (a frozen ETF classifier weight is left out). */
  trainable(): NamedVariable[] {
    return this.#parameters.filter(({ variable }) => variable.trainable);
  }

  /** Every saved tensor: parameters (frozen included), then running statistics. */
  state(): NamedVariable[] {
    return [...this.#parameters, ...this.#buffers];
  }

  /** Number of parameter scalars, frozen ones included (PyTorch's count). */
  parameterCount(): number {
    return this.#parameters.reduce((sum, p) => sum + p.variable.size, 0);
  }

  /** Update batch-norm running averages (momentum 0.1, unbiased variance). */
  updateRunningStats(stats: BatchStats[]): void {
    updateRunningAverages(this.#norms, stats);
  }

  /** Load saved values by name. */
  load(values: Map<string, Float32Array>): void {
    loadNamed(this.state(), values);
  }

  /** Release every variable. */
  dispose(): void {
    this.state().forEach(({ variable }) => variable.dispose());
  }
}

/**
 * The classifier of a convolutional model: PyTorch's default linear initialisation, or the
 * frozen simplex ETF padded to the feature dimension (docs/reference.md#models).
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * const rng = new Random(6);
 * const fc = convNetClassifier(512, { classes: 10, bias: true, etfClassifier: true, fixdim: false }, rng);
 * ```
 */
export function convNetClassifier(featureDim: number, options: ConvNetOptions, rng: Random): Dense {
  const layer = createDense(featureDim, options.classes, options.bias, rng);
  if (!options.etfClassifier) return layer;
  const etf = simplexEtf(options.classes, featureDim); // K x featureDim
  const stored = tf.tidy(() =>
    tf.transpose(tf.tensor2d(Float32Array.from(etf), [options.classes, featureDim]))
  );
  layer.weight.dispose();
  layer.weight = tf.variable(stored, false);
  stored.dispose();
  return layer;
}

/**
 * Convolution, batch norm, optional ReLU, each traced.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import type { BatchNorm, BatchStats, Conv2d, LayerTrace } from "./layers.ts";
 * declare const conv: Conv2d, norm: BatchNorm, stats: BatchStats[], trace: LayerTrace[];
 * declare let h: tf.Tensor4D;
 * declare const training: boolean;
 * h = convBnRelu(conv, norm, h, training, stats, trace, true);
 * ```
 */
export function convBnRelu(
  conv: Conv2d,
  norm: BatchNorm | undefined,
  x: tf.Tensor4D,
  training: boolean,
  stats: BatchStats[],
  trace: LayerTrace[] | undefined,
  relu: boolean,
): tf.Tensor4D {
  let h = applyConv2d(conv, x);
  traceLayer(trace, "Conv2d", h, sizeOf(conv.weight, conv.bias));
  if (norm) {
    h = applyBatchNorm(norm, h, training, stats);
    traceLayer(trace, "BatchNorm2d", h, sizeOf(norm.gamma, norm.beta));
  }
  if (relu) {
    h = tf.relu(h);
    traceLayer(trace, "ReLU", h, 0);
  }
  return h;
}
