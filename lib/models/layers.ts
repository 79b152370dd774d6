/**
 * Building blocks of the convolutional models: the shared model interface, a 2-D convolution
 * whose gradient works (and is fast) on tfjs-wasm, batch normalization with PyTorch's running
 * statistics, linear layers, and PyTorch's initialisations drawn on the host from a seed.
 *
 * Tensors are NHWC inside the models (tfjs' native layout); inputs arrive as flattened
 * channel-major 3 x 32 x 32 rows, as PyTorch stores them. Convolution kernels are stored as
 * [kh, kw, in, out] and linear weights as [in, out] (tfjs layout); the names are torchvision's.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { hasNativeKernels } from "../backend/blas_backend.ts";
import { batchNormTraining } from "../backend/batch_norm.ts";
import type { Random } from "../data/random.ts";

/** A parameter or buffer with the name it is saved under (torchvision's names). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** Batch statistics from a training-mode forward pass, for updating running averages. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel the statistics were computed from (batch, or batch x H x W). */
  count: number;
}

/** Output of a forward pass. */
export interface ForwardResult {
  /** Penultimate features: the classifier's input, batch x P. */
  features: tf.Tensor2D;
  /** Classifier outputs, batch x K. */
  logits: tf.Tensor2D;
  /** Per normalization layer with running statistics, in order (training mode only). */
  batchStats: BatchStats[];
}

/** One row of a model summary: a layer, its output shape (PyTorch order) and parameters. */
export interface LayerTrace {
  layer: string;
  /** Output shape with the batch dimension first, channels before height and width. */
  shape: number[];
  params: number;
}

/** A linear classifier z = h W + b (W stored P x K). */
export interface Dense {
  weight: tf.Variable;
  bias?: tf.Variable;
}

/**
 * What the training loop, prediction, checkpoints and evaluation need from a model.
 * {@link Mlp}, {@link ResNet} and {@link Vgg} implement it.
 */
export interface Model {
  readonly config: { inputSize: number; featureDim: number; classes: number };
  /** Whether training normalizes with batch statistics (a batch of one cannot be normalized). */
  readonly usesBatchNorm: boolean;
  /** The final linear layer (its weight is frozen with an ETF classifier). */
  readonly classifier: Dense;
  /** Parameters the optimizer updates, in a fixed order. */
  trainable(): NamedVariable[];
  /** Every saved tensor: all parameters (frozen ones included) and running statistics. */
  state(): NamedVariable[];
  /** Number of parameters, frozen ones included (PyTorch's sum of numel). */
  parameterCount(): number;
  forward(inputs: tf.Tensor2D, training: boolean, trace?: LayerTrace[]): ForwardResult;
  updateRunningStats(stats: BatchStats[]): void;
  load(values: Map<string, Float32Array>): void;
  dispose(): void;
}

/** PyTorch's batch-norm epsilon and running-average momentum. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

/** Batch normalization parameters and running statistics. */
export interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/**
 * A batch-norm layer with weight 1, bias 0, running mean 0 and running variance 1.
 *
 * @example
 * ```ts
 * const norm = createBatchNorm(64);
 * ```
 */
export function createBatchNorm(size: number): BatchNorm {
  return {
    gamma: tf.variable(tf.ones([size])),
    beta: tf.variable(tf.zeros([size])),
    runningMean: tf.variable(tf.zeros([size]), false),
    runningVar: tf.variable(tf.ones([size]), false),
  };
}

/**
 * Normalize over every axis but the last (channels): with the batch statistics in training
 * mode (pushed to `stats`), with the running averages otherwise. On the native CPU backend
 * training mode runs as one fused kernel (and one for its gradient).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const norm: BatchNorm, x: tf.Tensor2D, stats: BatchStats[];
 * const y = applyBatchNorm(norm, x, true, stats);
 * ```
 */
export function applyBatchNorm<T extends tf.Tensor>(
  norm: BatchNorm,
  x: T,
  training: boolean,
  stats: BatchStats[],
): T {
  const beta = norm.beta as tf.Tensor1D;
  const gamma = norm.gamma as tf.Tensor1D;
  const count = x.size / x.shape[x.shape.length - 1];
  if (training && hasNativeKernels() && x.dtype === "float32") {
    // The native CPU backend's fused kernels: statistics and normalization in two passes.
    const { y, mean, variance } = batchNormTraining(x, gamma, beta, BN_EPSILON);
    stats.push({ mean, variance, count });
    return y;
  }
  let mean = norm.runningMean as tf.Tensor1D;
  let variance = norm.runningVar as tf.Tensor1D;
  if (training) {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const moments = tf.moments(x, axes);
    mean = moments.mean as tf.Tensor1D;
    variance = moments.variance as tf.Tensor1D;
    stats.push({ mean, variance, count });
  }
  return tf.batchNorm(x, mean, variance, beta, gamma, BN_EPSILON) as T;
}

/**
 * Blend batch statistics into running averages as PyTorch does (momentum 0.1, unbiased
 * variance); `norms` and `stats` in the same (forward) order.
 *
 * @example
 * ```ts
 * declare const norms: BatchNorm[], stats: BatchStats[];
 * updateRunningAverages(norms, stats);
 * ```
 */
export function updateRunningAverages(norms: BatchNorm[], stats: BatchStats[]): void {
  if (stats.length === 0) return; // an evaluation-mode pass
  if (stats.length !== norms.length) {
    throw new Error(`expected ${norms.length} batch statistics, got ${stats.length}`);
  }
  tf.tidy(() => {
    stats.forEach((s, i) => {
      const unbiased = s.count > 1 ? tf.mul(s.variance, s.count / (s.count - 1)) : s.variance;
      const blend = (running: tf.Variable, batch: tf.Tensor) =>
        running.assign(tf.add(tf.mul(running, 1 - BN_MOMENTUM), tf.mul(batch, BN_MOMENTUM)));
      blend(norms[i].runningMean, s.mean);
      blend(norms[i].runningVar, unbiased);
    });
  });
}

/** A 2-D convolution with PyTorch's symmetric zero padding. */
export interface Conv2d {
  /** [kernel, kernel, in, out]. */
  weight: tf.Variable;
  bias?: tf.Variable;
  stride: number;
  padding: number;
}

/** How convolution weights are drawn. */
export type ConvInit = "kaiming_fan_out" | "pytorch_default";

/**
 * A convolution. `kaiming_fan_out` (torchvision's ResNet): weights N(0, 2 / (out k k)), bias 0.
 * `pytorch_default` (nn.Conv2d's own reset_parameters): weights and bias uniform in
 * +-1/sqrt(in k k).
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * const conv = createConv2d(3, 64, 3, 1, 1, false, new Random(1));
 * ```
 */
export function createConv2d(
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  padding: number,
  bias: boolean,
  rng: Random,
  init: ConvInit = "kaiming_fan_out",
): Conv2d {
  const count = kernel * kernel * inChannels * outChannels;
  const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
  const values = init === "kaiming_fan_out"
    ? normalArray(count, Math.sqrt(2 / (outChannels * kernel * kernel)), rng)
    : uniformArray(count, bound, rng);
  const biasValues = init === "kaiming_fan_out"
    ? new Float32Array(outChannels)
    : uniformArray(outChannels, bound, rng);
  return {
    weight: tf.variable(tf.tensor4d(values, [kernel, kernel, inChannels, outChannels])),
    bias: bias ? tf.variable(tf.tensor1d(biasValues)) : undefined,
    stride,
    padding,
  };
}

/**
 * Apply a convolution layer (NHWC).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const conv: Conv2d, x: tf.Tensor4D;
 * const y = applyConv2d(conv, x); // x: batch x H x W x in
 * ```
 */
export function applyConv2d(layer: Conv2d, x: tf.Tensor4D): tf.Tensor4D {
  const y = conv2d(x, layer.weight as tf.Tensor4D, layer.stride, layer.padding);
  return layer.bias ? tf.add(y, layer.bias) as tf.Tensor4D : y;
}

/**
 * Gradient of a convolution with respect to its input: the convolution of the (zero-dilated)
 * output gradient with the flipped, in/out-swapped kernel. tfjs-wasm's Conv2DBackpropInput
 * kernel is about 10 times slower than its forward convolution, which this reuses.
 */
function conv2dInputGrad(
  dy: tf.Tensor4D,
  weight: tf.Tensor4D,
  inputShape: number[],
  stride: number,
  padding: number,
): tf.Tensor4D {
  const [kernel] = weight.shape;
  const [batch, outH, outW, outC] = dy.shape;
  let spread = dy;
  if (stride > 1) {
    // Insert stride - 1 zeros between the gradient's rows and columns.
    const cells = tf.reshape(dy, [batch, outH, 1, outW, 1, outC]);
    const padded = tf.pad(cells, [[0, 0], [0, 0], [0, stride - 1], [0, 0], [0, stride - 1], [
      0,
      0,
    ]]);
    const wide = tf.reshape(padded, [batch, outH * stride, outW * stride, outC]);
    spread = tf.slice(wide, [0, 0, 0, 0], [
      batch,
      (outH - 1) * stride + 1,
      (outW - 1) * stride + 1,
      outC,
    ]) as tf.Tensor4D;
  }
  const flipped = tf.transpose(tf.reverse(weight, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const edge = kernel - 1 - padding;
  // Rows of the input that no output window reached get gradient 0 (bottom/right padding).
  const extraH = (inputShape[1] + 2 * padding - kernel) % stride;
  const extraW = (inputShape[2] + 2 * padding - kernel) % stride;
  return tf.conv2d(spread, flipped, 1, [[0, 0], [edge, edge + extraH], [edge, edge + extraW], [
    0,
    0,
  ]]);
}

/**
 * Gradient of a convolution with respect to its kernel, computed as one convolution of the
 * padded input (channels as batch, batch as channels) with the output gradient (dilated by the
 * stride). tfjs-wasm has no Conv2DBackpropFilter kernel at all; this costs about 2 forward
 * convolutions, against 4 to 6 for an explicit im2col and matMul.
 */
function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernel: number,
  stride: number,
  padding: number,
): tf.Tensor4D {
  const inC = x.shape[3];
  const outC = dy.shape[3];
  const padded = padding > 0
    ? tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    : x;
  const asBatch = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D; // in x Hp x Wp x N
  const asKernel = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // Ho x Wo x N x out
  const full = tf.conv2d(asBatch, asKernel, 1, "valid", "NHWC", stride); // in x k' x k' x out
  const cropped = full.shape[1] === kernel && full.shape[2] === kernel
    ? full
    : tf.slice(full, [0, 0, 0, 0], [inC, kernel, kernel, outC]);
  return tf.transpose(cropped, [1, 2, 0, 3]) as tf.Tensor4D;
}

/**
 * 2-D convolution (NHWC input, [k, k, in, out] kernel, PyTorch's symmetric zero padding) with
 * a custom gradient that runs on tfjs-wasm: see {@link conv2dInputGrad} and
 * {@link conv2dFilterGrad}. The native CPU backend has fast gradient kernels of its own, so
 * there tfjs' own gradient is used.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const y = conv2d(tf.ones([1, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 2, 1); // 1 x 4 x 4 x 4
 * ```
 */
export function conv2d(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  stride: number,
  padding: number,
): tf.Tensor4D {
  if (hasNativeKernels()) {
    return tf.conv2d(x, weight, stride, [[0, 0], [padding, padding], [padding, padding], [0, 0]]);
  }
  const op = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((input: tf.Tensor4D, kernel: tf.Tensor4D, save: any) => {
      save([input, kernel]);
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [
        [0, 0],
        [padding, padding],
        [padding, padding],
        [0, 0],
      ];
      return {
        value: tf.conv2d(input, kernel, stride, padding === 0 ? "valid" : pad),
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor4D[]) => [
          conv2dInputGrad(dy, saved[1], saved[0].shape, stride, padding),
          conv2dFilterGrad(saved[0], dy, saved[1].shape[0], stride, padding),
        ],
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  ) as unknown as (input: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;
  return op(x, weight);
}

/**
 * Max pooling with PyTorch's padding semantics (padded cells never win).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const x: tf.Tensor4D;
 * const y = maxPool(x, 3, 2, 1);
 * ```
 */
export function maxPool(
  x: tf.Tensor4D,
  size: number,
  stride: number,
  padding: number,
): tf.Tensor4D {
  return tf.maxPool(x, size, stride, padding, "floor");
}

/**
 * Draw `count` values from N(0, std^2) on the host.
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * const w = normalArray(10, 0.1, new Random(1));
 * ```
 */
export function normalArray(count: number, std: number, rng: Random): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal() * std;
  return out;
}

/**
 * Draw `count` values uniform in [-bound, bound] on the host.
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * const b = uniformArray(10, 0.1, new Random(1));
 * ```
 */
export function uniformArray(count: number, bound: number, rng: Random): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  return out;
}

/**
 * A linear layer with PyTorch's default initialisation (weight and bias uniform in
 * +-1/sqrt(fan_in)); weight stored [in, out].
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * const fc = createDense(512, 10, true, new Random(1));
 * ```
 */
export function createDense(fanIn: number, fanOut: number, bias: boolean, rng: Random): Dense {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    weight: tf.variable(tf.tensor2d(uniformArray(fanIn * fanOut, bound, rng), [fanIn, fanOut])),
    bias: bias ? tf.variable(tf.tensor1d(uniformArray(fanOut, bound, rng))) : undefined,
  };
}

/**
 * x W with a gradient that avoids tfjs-wasm's slow paths: a matMul with transposeA/transposeB
 * is 5 to 15 times slower than transposing first, and a large right-hand operand that changes
 * every step (the weights) is repacked by XNNPACK on each call. So dx = (W dy^T)^T keeps W on the
 * left (only the small dy^T is packed; 3 ms instead of 51 ms for 16 x 2048 by 2048 x 2048), and
 * dW = x^T dy transposes the small x.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const y = denseMatMul(tf.ones([4, 3]), tf.ones([3, 2])); // 4 x 2, all 3
 * ```
 */
export const denseMatMul: (x: tf.Tensor2D, weight: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor2D, weight: tf.Tensor2D, save: any) => {
    save([x, weight]);
    return {
      value: tf.matMul(x, weight),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor2D[]) => [
        tf.transpose(tf.matMul(saved[1], tf.transpose(dy))),
        tf.matMul(tf.transpose(saved[0]), dy),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (x: tf.Tensor2D, weight: tf.Tensor2D) => tf.Tensor2D;

/**
 * Apply a linear layer.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const fc: Dense, h: tf.Tensor2D;
 * const z = applyDense(fc, h);
 * ```
 */
export function applyDense(layer: Dense, h: tf.Tensor2D): tf.Tensor2D {
  // The native CPU backend multiplies transposed operands at full speed: tfjs' own gradient.
  const product = hasNativeKernels()
    ? tf.matMul(h, layer.weight as tf.Tensor2D) as tf.Tensor2D
    : denseMatMul(h, layer.weight as tf.Tensor2D);
  return layer.bias ? tf.add(product, layer.bias as tf.Tensor1D) as tf.Tensor2D : product;
}

/**
 * Load saved values into variables by name, checking every one is present with the right size.
 *
 * @example
 * ```ts
 * declare const model: Model, values: Map<string, Float32Array>;
 * loadNamed(model.state(), values);
 * ```
 */
export function loadNamed(state: NamedVariable[], values: Map<string, Float32Array>): void {
  for (const { name, variable } of state) {
    const value = values.get(name);
    if (!value || value.length !== variable.size) {
      throw new Error(`saved model lacks '${name}' or has the wrong size`);
    }
    variable.assign(tf.tensor(value, variable.shape));
  }
}

/**
 * Turn flattened channel-major rows (batch x C*H*W, PyTorch's layout) into NHWC images.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const x: tf.Tensor2D;
 * const images = rowsToImages(x, 3, 32); // batch x 32 x 32 x 3
 * ```
 */
export function rowsToImages(x: tf.Tensor2D, channels: number, size: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [x.shape[0], channels, size, size]), [0, 2, 3, 1]);
}

/**
 * Record a layer's output in a summary trace (NHWC shapes are reported as PyTorch's NCHW).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const trace: LayerTrace[], conv: Conv2d, y: tf.Tensor4D;
 * traceLayer(trace, "Conv2d", y, conv.weight.size);
 * ```
 */
export function traceLayer(
  trace: LayerTrace[] | undefined,
  layer: string,
  output: tf.Tensor,
  params: number,
): void {
  if (!trace) return;
  const shape = output.shape.length === 4
    ? [-1, output.shape[3], output.shape[1], output.shape[2]]
    : [-1, ...output.shape.slice(1)];
  trace.push({ layer, shape, params });
}

/** Number of scalars in a layer's parameters. */
export function sizeOf(...variables: (tf.Variable | undefined)[]): number {
  return variables.reduce((sum, v) => sum + (v?.size ?? 0), 0);
}
