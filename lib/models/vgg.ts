/**
 * VGG-11/13/16/19 for 3 x 32 x 32 inputs as the reference builds it (after kuangliu's
 * pytorch-cifar): 3x3 convolutions with bias, each followed by batch norm (unless turned off)
 * and ReLU, 2x2 max-pools, a global average pool to the 512 features, one linear classifier.
 * Layers keep PyTorch's default initialisation, as the reference's VGG does not re-initialise.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { Random } from "../data/random.ts";
import { convBnRelu, ConvNet, type ConvNetOptions, IMAGE_CHANNELS, IMAGE_SIDE } from "./convnet.ts";
import {
  applyDense,
  type BatchNorm,
  type BatchStats,
  type Conv2d,
  type ForwardResult,
  type LayerTrace,
  maxPool,
  type Model,
  rowsToImages,
  sizeOf,
  traceLayer,
} from "./layers.ts";

/** Channels of each convolution; "M" is a 2x2 max-pool. */
export const VGG_LAYERS: Record<11 | 13 | 16 | 19, (number | "M")[]> = {
  11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
  19: [
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
  ],
};

/** Architecture of a VGG. */
export interface VggConfig extends ConvNetOptions {
  depth: keyof typeof VGG_LAYERS;
  /** Batch norm after every convolution (the reference always has it). */
  batchNorm: boolean;
}

type Stage = { kind: "conv"; conv: Conv2d; norm?: BatchNorm } | { kind: "pool" };

/** A VGG whose features are the globally pooled output of the last convolution. */
export class Vgg extends ConvNet implements Model {
  override readonly usesBatchNorm: boolean;
  readonly config: { inputSize: number; featureDim: number; classes: number } & VggConfig;
  readonly layers: Stage[] = [];

  /**
   * Build the network with weights drawn from `seed`.
   *
   * @example
   * ```ts
   * const model = new Vgg({ depth: 11, batchNorm: true, classes: 10, bias: true,
   *   etfClassifier: false, fixdim: false }, 6);
   * model.parameterCount(); // 9,231,114
   * ```
   */
  constructor(config: VggConfig, seed: number) {
    const plan = VGG_LAYERS[config.depth];
    if (!plan) throw new Error(`unknown VGG depth ${config.depth}: use 11, 13, 16 or 19`);
    super(new Random(seed ^ 0x76676700));
    this.usesBatchNorm = config.batchNorm;
    const featureDim = config.fixdim ? config.classes : 512;
    this.config = { ...config, inputSize: IMAGE_CHANNELS * IMAGE_SIDE * IMAGE_SIDE, featureDim };
    let inChannels = IMAGE_CHANNELS;
    let index = 0; // position in the reference's nn.Sequential, for torch-style names
    plan.forEach((entry, i) => {
      if (entry === "M") {
        this.layers.push({ kind: "pool" });
        index += 1;
        return;
      }
      // With fixdim the last convolution outputs K channels (the last entry is a pool).
      const out = config.fixdim && i === plan.length - 2 ? config.classes : entry;
      const conv = this.conv(
        `features.${index}`,
        inChannels,
        out,
        3,
        1,
        1,
        true,
        "pytorch_default",
      );
      const norm = config.batchNorm ? this.norm(`features.${index + 1}`, out) : undefined;
      this.layers.push({ kind: "conv", conv, norm });
      index += config.batchNorm ? 3 : 2;
      inChannels = out;
    });
    this.addClassifier("classifier", featureDim, config);
  }

  /** Forward pass (training mode uses and returns batch statistics). */
  forward(inputs: tf.Tensor2D, training: boolean, trace?: LayerTrace[]): ForwardResult {
    const stats: BatchStats[] = [];
    let h = rowsToImages(inputs, IMAGE_CHANNELS, IMAGE_SIDE);
    for (const layer of this.layers) {
      if (layer.kind === "pool") {
        h = maxPool(h, 2, 2, 0);
        traceLayer(trace, "MaxPool2d", h, 0);
      } else {
        h = convBnRelu(layer.conv, layer.norm, h, training, stats, trace, true);
      }
    }
    const features = tf.mean(h, [1, 2]) as tf.Tensor2D;
    traceLayer(trace, "AdaptiveAvgPool2d", features, 0);
    const logits = applyDense(this.classifier, features);
    traceLayer(trace, "Linear", logits, sizeOf(this.classifier.weight, this.classifier.bias));
    return { features, logits, batchStats: stats };
  }
}
