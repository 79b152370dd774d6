/**
 * The reference MLP (SPEC section 5) with explicit parameters, so initial weights come from the
 * run's seed on the host and are identical on every backend.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { Random } from "../data/random.ts";

/** Architecture of the MLP. */
export interface MlpConfig {
  inputSize: number;
  width: number;
  /** Number of linear layers before the classifier (the reference's `--depth`). */
  depth: number;
  /** Number of classes K. */
  classes: number;
  /** Penultimate feature dimension P (= K in the paper's experiments). */
  featureDim: number;
  actFn: "relu" | "sigmoid" | "none";
  useBn: boolean;
  /** Classifier bias. */
  bias: boolean;
}

/** A trainable parameter with the name it is saved under. */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

interface Dense {
  weight: tf.Variable; // in x out (tfjs layout; the classifier is exported as K x P)
  bias?: tf.Variable;
}

interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** Batch statistics from a training-mode forward pass, for updating running averages. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  count: number;
}

/** Output of a forward pass. */
export interface ForwardResult {
  /** Penultimate features: the classifier's input, batch x P. */
  features: tf.Tensor2D;
  /** Classifier outputs, batch x K. */
  logits: tf.Tensor2D;
  /** Per batch-norm layer, in order (training mode only). */
  batchStats: BatchStats[];
}

const BN_EPSILON = 1e-5;
const BN_MOMENTUM = 0.1;

/** The reference MLP: hidden blocks, then the feature layer, then a linear classifier. */
export class Mlp {
  readonly config: MlpConfig;
  readonly hidden: Dense[] = [];
  readonly norms: (BatchNorm | undefined)[] = [];
  readonly classifier: Dense;

  /**
   * Build the MLP with PyTorch's default initialisation (weights and biases uniform in
   * +-1/sqrt(fan_in); batch-norm scale 1, shift 0), drawn from `seed`.
   *
   * @example
   * ```ts
   * const model = new Mlp({ inputSize: 3072, width: 64, depth: 3, classes: 2, featureDim: 2,
   *   actFn: "relu", useBn: true, bias: true }, 6);
   * ```
   */
  constructor(config: MlpConfig, seed: number) {
    this.config = config;
    const rng = new Random(seed ^ 0x6d6c70);
    const widths = [config.inputSize, ...Array(config.depth - 1).fill(config.width)];
    widths.push(config.featureDim);
    for (let layer = 0; layer < config.depth; layer++) {
      const isFeatureLayer = layer === config.depth - 1;
      this.hidden.push(dense(widths[layer], widths[layer + 1], true, rng));
      const normalized = config.useBn && (!isFeatureLayer || config.actFn !== "none");
      this.norms.push(normalized ? batchNorm(widths[layer + 1]) : undefined);
    }
    this.classifier = dense(config.featureDim, config.classes, config.bias, rng);
  }

  /** Trainable parameters, in a fixed order. */
  trainable(): NamedVariable[] {
    const out: NamedVariable[] = [];
    this.hidden.forEach((layer, i) => {
      out.push({ name: `fc${i}.weight`, variable: layer.weight });
      if (layer.bias) out.push({ name: `fc${i}.bias`, variable: layer.bias });
      const norm = this.norms[i];
      if (norm) {
        out.push({ name: `bn${i}.weight`, variable: norm.gamma });
        out.push({ name: `bn${i}.bias`, variable: norm.beta });
      }
    });
    out.push({ name: "classifier.weight", variable: this.classifier.weight });
    if (this.classifier.bias) out.push({ name: "classifier.bias", variable: this.classifier.bias });
    return out;
  }

  /** Every saved tensor: trainable parameters and batch-norm running statistics. */
  state(): NamedVariable[] {
    const buffers: NamedVariable[] = [];
    this.norms.forEach((norm, i) => {
      if (!norm) return;
      buffers.push({ name: `bn${i}.running_mean`, variable: norm.runningMean });
      buffers.push({ name: `bn${i}.running_var`, variable: norm.runningVar });
    });
    return [...this.trainable(), ...buffers];
  }

  /** Number of trainable scalars (as PyTorch counts parameters, buffers excluded). */
  parameterCount(): number {
    return this.trainable().reduce((sum, p) => sum + p.variable.size, 0);
  }

  /**
   * Forward pass. Training mode normalizes with batch statistics (returned for
   * {@link updateRunningStats}); evaluation mode uses the running averages.
   */
  forward(inputs: tf.Tensor2D, training: boolean): ForwardResult {
    const batchStats: BatchStats[] = [];
    let h: tf.Tensor2D = inputs;
    this.hidden.forEach((layer, i) => {
      const isFeatureLayer = i === this.hidden.length - 1;
      h = applyDense(layer, h);
      const norm = this.norms[i];
      if (norm) {
        if (training) {
          const { mean, variance } = tf.moments(h, 0);
          batchStats.push({
            mean: mean as tf.Tensor1D,
            variance: variance as tf.Tensor1D,
            count: h.shape[0],
          });
          h = tf.batchNorm2d(
            h,
            mean as tf.Tensor1D,
            variance as tf.Tensor1D,
            norm.beta as tf.Tensor1D,
            norm.gamma as tf.Tensor1D,
            BN_EPSILON,
          );
        } else {
          h = tf.batchNorm2d(
            h,
            norm.runningMean as tf.Tensor1D,
            norm.runningVar as tf.Tensor1D,
            norm.beta as tf.Tensor1D,
            norm.gamma as tf.Tensor1D,
            BN_EPSILON,
          );
        }
      }
      if (!isFeatureLayer || this.config.actFn !== "none") h = activate(h, this.config.actFn);
    });
    return { features: h, logits: applyDense(this.classifier, h), batchStats };
  }

  /** Update batch-norm running averages as PyTorch does (momentum 0.1, unbiased variance). */
  updateRunningStats(stats: BatchStats[]): void {
    const norms = this.norms.filter((n): n is BatchNorm => n !== undefined);
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

  /** Load saved values (from {@link Mlp.state} order and names). */
  load(values: Map<string, Float32Array>): void {
    for (const { name, variable } of this.state()) {
      const value = values.get(name);
      if (!value || value.length !== variable.size) {
        throw new Error(`saved model lacks '${name}' or has the wrong size`);
      }
      variable.assign(tf.tensor(value, variable.shape));
    }
  }

  /** Release every variable. */
  dispose(): void {
    this.state().forEach(({ variable }) => variable.dispose());
  }
}

function uniform(count: number, bound: number, rng: Random): Float32Array {
  return Float32Array.from({ length: count }, () => (2 * rng.uniform() - 1) * bound);
}

function dense(fanIn: number, fanOut: number, bias: boolean, rng: Random): Dense {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    weight: tf.variable(tf.tensor2d(uniform(fanIn * fanOut, bound, rng), [fanIn, fanOut])),
    bias: bias ? tf.variable(tf.tensor1d(uniform(fanOut, bound, rng))) : undefined,
  };
}

function batchNorm(size: number): BatchNorm {
  return {
    gamma: tf.variable(tf.ones([size])),
    beta: tf.variable(tf.zeros([size])),
    runningMean: tf.variable(tf.zeros([size]), false),
    runningVar: tf.variable(tf.ones([size]), false),
  };
}

/**
 * x W with a gradient that transposes explicitly: on the WASM backend a matMul with
 * transposeA/transposeB is 5 to 15 times slower than transposing first and multiplying.
 *
 * @example
 * ```ts
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
        tf.matMul(dy, tf.transpose(saved[1])),
        tf.matMul(tf.transpose(saved[0]), dy),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (x: tf.Tensor2D, weight: tf.Tensor2D) => tf.Tensor2D;

function applyDense(layer: Dense, h: tf.Tensor2D): tf.Tensor2D {
  const product = denseMatMul(h, layer.weight as tf.Tensor2D);
  return layer.bias ? tf.add(product, layer.bias as tf.Tensor1D) as tf.Tensor2D : product;
}

function activate(h: tf.Tensor2D, actFn: MlpConfig["actFn"]): tf.Tensor2D {
  if (actFn === "relu") return tf.relu(h);
  if (actFn === "sigmoid") return tf.sigmoid(h);
  return h;
}
