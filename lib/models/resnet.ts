/**
 * torchvision-style ResNet-18/34/50 (BasicBlock / Bottleneck, widths 64-128-256-512) on
 * 3 x 32 x 32 inputs, with the ImageNet stem (7x7 stride-2 convolution, 3x3 stride-2 max-pool)
 * or, with `sota`, the CIFAR stem (3x3 stride-1 convolution, no max-pool). Convolutions are
 * Kaiming-normal (fan-out), batch norm starts at weight 1 and bias 0, the classifier has
 * PyTorch's default linear initialisation. Names follow torchvision's state dict.
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

/** ResNet depths and their blocks per stage. */
export const RESNET_LAYERS = {
  18: { block: "basic", counts: [2, 2, 2, 2] },
  34: { block: "basic", counts: [3, 4, 6, 3] },
  50: { block: "bottleneck", counts: [3, 4, 6, 3] },
} as const;

/** Architecture of a ResNet. */
export interface ResNetConfig extends ConvNetOptions {
  depth: keyof typeof RESNET_LAYERS;
  /** CIFAR stem (the reference's `--SOTA`). */
  sota: boolean;
}

interface Block {
  kind: "basic" | "bottleneck";
  convs: Conv2d[];
  norms: BatchNorm[];
  downsample?: { conv: Conv2d; norm: BatchNorm };
}

/** A ResNet whose features are the pooled output of the last stage. */
export class ResNet extends ConvNet implements Model {
  readonly config: { inputSize: number; featureDim: number; classes: number } & ResNetConfig;
  readonly stem: { conv: Conv2d; norm: BatchNorm };
  readonly stages: Block[][] = [];

  /**
   * Build the network with weights drawn from `seed`.
   *
   * @example
   * ```ts
   * const model = new ResNet({ depth: 18, classes: 10, bias: true, sota: false,
   *   etfClassifier: false, fixdim: false }, 6);
   * model.parameterCount(); // 11,181,642
   * ```
   */
  constructor(config: ResNetConfig, seed: number) {
    const spec = RESNET_LAYERS[config.depth];
    if (!spec) throw new Error(`unknown ResNet depth ${config.depth}: use 18, 34 or 50`);
    const expansion = spec.block === "bottleneck" ? 4 : 1;
    const featureDim = config.fixdim ? config.classes : 512 * expansion;
    const rng = new Random(seed ^ 0x7265736e);
    super(rng);
    this.config = { ...config, inputSize: IMAGE_CHANNELS * IMAGE_SIDE * IMAGE_SIDE, featureDim };
    this.stem = config.sota
      ? { conv: this.conv("conv1", 3, 64, 3, 1, 1), norm: this.norm("bn1", 64) }
      : { conv: this.conv("conv1", 3, 64, 7, 2, 3), norm: this.norm("bn1", 64) };
    let inChannels = 64;
    [64, 128, 256, 512].forEach((planes, stage) => {
      const blocks: Block[] = [];
      const count = spec.counts[stage];
      for (let b = 0; b < count; b++) {
        const stride = stage > 0 && b === 0 ? 2 : 1;
        const last = stage === 3 && b === count - 1;
        const outChannels = last && config.fixdim ? config.classes : planes * expansion;
        const name = `layer${stage + 1}.${b}`;
        const block: Block = { kind: spec.block, convs: [], norms: [] };
        if (spec.block === "basic") {
          block.convs.push(this.conv(`${name}.conv1`, inChannels, planes, 3, stride, 1));
          block.norms.push(this.norm(`${name}.bn1`, planes));
          block.convs.push(this.conv(`${name}.conv2`, planes, outChannels, 3, 1, 1));
          block.norms.push(this.norm(`${name}.bn2`, outChannels));
        } else {
          // torchvision v1.5: the stride sits on the 3x3 convolution.
          block.convs.push(this.conv(`${name}.conv1`, inChannels, planes, 1, 1, 0));
          block.norms.push(this.norm(`${name}.bn1`, planes));
          block.convs.push(this.conv(`${name}.conv2`, planes, planes, 3, stride, 1));
          block.norms.push(this.norm(`${name}.bn2`, planes));
          block.convs.push(this.conv(`${name}.conv3`, planes, outChannels, 1, 1, 0));
          block.norms.push(this.norm(`${name}.bn3`, outChannels));
        }
        if (stride !== 1 || inChannels !== outChannels) {
          block.downsample = {
            conv: this.conv(`${name}.downsample.0`, inChannels, outChannels, 1, stride, 0),
            norm: this.norm(`${name}.downsample.1`, outChannels),
          };
        }
        blocks.push(block);
        inChannels = outChannels;
      }
      this.stages.push(blocks);
    });
    this.addClassifier("fc", featureDim, config);
  }

  /** Forward pass (training mode uses and returns batch statistics). */
  forward(inputs: tf.Tensor2D, training: boolean, trace?: LayerTrace[]): ForwardResult {
    const stats: BatchStats[] = [];
    let h = rowsToImages(inputs, IMAGE_CHANNELS, IMAGE_SIDE);
    h = convBnRelu(this.stem.conv, this.stem.norm, h, training, stats, trace, true);
    if (!this.config.sota) {
      h = maxPool(h, 3, 2, 1);
      traceLayer(trace, "MaxPool2d", h, 0);
    }
    for (const blocks of this.stages) {
      for (const block of blocks) {
        const identity = h;
        let out = h;
        block.convs.forEach((conv, i) => {
          const last = i === block.convs.length - 1;
          out = convBnRelu(conv, block.norms[i], out, training, stats, trace, !last);
        });
        const shortcut = block.downsample
          ? convBnRelu(
            block.downsample.conv,
            block.downsample.norm,
            identity,
            training,
            stats,
            trace,
            false,
          )
          : identity;
        h = tf.relu(tf.add(out, shortcut));
        traceLayer(trace, "ReLU", h, 0);
        traceLayer(trace, block.kind === "basic" ? "BasicBlock" : "Bottleneck", h, 0);
      }
    }
    const features = tf.mean(h, [1, 2]) as tf.Tensor2D;
    traceLayer(trace, "AdaptiveAvgPool2d", features, 0);
    const logits = applyDense(this.classifier, features);
    traceLayer(trace, "Linear", logits, sizeOf(this.classifier.weight, this.classifier.bias));
    return { features, logits, batchStats: stats };
  }
}
