/**
 * The reference MLP: hidden linear blocks (with optional batch norm and LayerNorm), the feature
 * layer, then a linear (or fixed simplex-ETF) classifier.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import type { SettingParams } from "../config/schema.ts";
import { Random } from "../data/random.ts";
import { FOUR_CLASS_SLOTS, quadrantFrame, simplexEtf } from "./etf.ts";
import {
  applyBatchNorm,
  applyDense,
  type BatchNorm,
  type BatchStats,
  BN_EPSILON,
  createBatchNorm,
  createDense,
  type Dense,
  type ForwardResult,
  type LayerTrace,
  loadNamed,
  type Model,
  type NamedVariable,
  sizeOf,
  traceLayer,
  updateRunningAverages,
} from "./layers.ts";

/**
 * Architecture of the MLP: the model settings it takes (`width`, `depth` (linear layers before
 * the classifier), `act_fn`, `use_bn`, classifier `bias`, `use_layer_norm` (after batch norm when
 * both are on), `classifier_init`), typed from the schema by their camelCase names, and its
 * shape: input size, K classes and P penultimate features (K in the paper's experiments, 2 with
 * four-class two-feature runs), and a fixed simplex-ETF classifier (not trained; the bias, if
 * any, still is).
 *
 * `classifierInit` is the classifier's starting weight: PyTorch's default, or the simplex ETF
 * (then trained). With ReLU features of width K = 2 and the default start, one class often
 * collapses onto the origin, where both feature units are off and its samples get no gradient;
 * starting at the ETF makes each unit one class's detector from the first step. With 2 features
 * for more classes (four-class problem) no ETF exists: the rows start spread over the quadrant
 * ({@link quadrantFrame}).
 */
export type MlpConfig =
  & Pick<SettingParams, "width" | "depth" | "actFn" | "useBn" | "bias">
  & Partial<Pick<SettingParams, "useLayerNorm" | "classifierInit">>
  & {
    inputSize: number;
    /** Number of classes K. */
    classes: number;
    /** Penultimate feature dimension P. */
    featureDim: number;
    etfClassifier?: boolean;
  };

/** LayerNorm over the features of each sample, with an elementwise affine transform. */
interface LayerNorm {
  weight: tf.Variable;
  bias: tf.Variable;
}

/** The reference MLP: hidden blocks, then the feature layer, then a linear classifier. */
export class Mlp implements Model {
  readonly config: MlpConfig;
  readonly hidden: Dense[] = [];
  readonly norms: (BatchNorm | undefined)[] = [];
  readonly layerNorms: (LayerNorm | undefined)[] = [];
  readonly classifier: Dense;

  /**
   * Build the MLP with PyTorch's default initialisation (weights and biases uniform in
   * +-1/sqrt(fan_in); normalization scale 1, shift 0), drawn from `seed`. With
   * `etfClassifier`, the classifier weight is the simplex ETF and frozen; with
   * `classifierInit: "etf"` it starts there and is trained.
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
      this.hidden.push(createDense(widths[layer], widths[layer + 1], true, rng));
      const normalized = !isFeatureLayer || config.actFn !== "none";
      this.norms.push(normalized && config.useBn ? createBatchNorm(widths[layer + 1]) : undefined);
      this.layerNorms.push(
        normalized && config.useLayerNorm
          ? {
            weight: tf.variable(tf.ones([widths[layer + 1]])),
            bias: tf.variable(tf.zeros([widths[layer + 1]])),
          }
          : undefined,
      );
    }
    this.classifier = createDense(config.featureDim, config.classes, config.bias, rng);
    if (config.etfClassifier || config.classifierInit === "etf") {
      // Two features for more classes (four-class problem): no ETF exists; spread the rows over
      // the quadrant instead. A fixed classifier (--ETF_fc) needs the ETF itself.
      const etf = !config.etfClassifier && config.featureDim === 2 && config.classes > 2
        ? quadrantFrame(config.classes, config.classes === 4 ? FOUR_CLASS_SLOTS : undefined)
        : simplexEtf(config.classes, config.featureDim); // K x P
      const stored = tf.tidy(() =>
        tf.transpose(tf.tensor2d(Float32Array.from(etf), [config.classes, config.featureDim]))
      );
      this.classifier.weight.dispose();
      this.classifier.weight = tf.variable(stored, !config.etfClassifier);
      stored.dispose();
    }
  }

  /** Whether training normalizes with batch statistics. */
  get usesBatchNorm(): boolean {
    return this.config.useBn;
  }

  /** Every parameter, frozen ones included, in a fixed order. */
  #parameters(): NamedVariable[] {
    const out: NamedVariable[] = [];
    this.hidden.forEach((layer, i) => {
      out.push({ name: `fc${i}.weight`, variable: layer.weight });
      if (layer.bias) out.push({ name: `fc${i}.bias`, variable: layer.bias });
      const norm = this.norms[i];
      if (norm) {
        out.push({ name: `bn${i}.weight`, variable: norm.gamma });
        out.push({ name: `bn${i}.bias`, variable: norm.beta });
      }
      const layerNorm = this.layerNorms[i];
      if (layerNorm) {
        out.push({ name: `ln${i}.weight`, variable: layerNorm.weight });
        out.push({ name: `ln${i}.bias`, variable: layerNorm.bias });
      }
    });
    out.push({ name: "classifier.weight", variable: this.classifier.weight });
    if (this.classifier.bias) out.push({ name: "classifier.bias", variable: this.classifier.bias });
    return out;
  }

  /** Trainable parameters, in a fixed order (a frozen ETF classifier weight is left out). */
  trainable(): NamedVariable[] {
    return this.#parameters().filter(({ variable }) => variable.trainable);
  }

  /** Every saved tensor: parameters (frozen included) and batch-norm running statistics. */
  state(): NamedVariable[] {
    const buffers: NamedVariable[] = [];
    this.norms.forEach((norm, i) => {
      if (!norm) return;
      buffers.push({ name: `bn${i}.running_mean`, variable: norm.runningMean });
      buffers.push({ name: `bn${i}.running_var`, variable: norm.runningVar });
    });
    return [...this.#parameters(), ...buffers];
  }

  /** Number of parameter scalars, frozen ones included (as PyTorch counts; buffers excluded). */
  parameterCount(): number {
    return this.#parameters().reduce((sum, p) => sum + p.variable.size, 0);
  }

  /**
   * Forward pass. Training mode normalizes with batch statistics (returned for
   * {@link updateRunningStats}); evaluation mode uses the running averages. With `trace`,
   * each layer's output shape and parameter count are recorded (for the model summary).
   */
  forward(inputs: tf.Tensor2D, training: boolean, trace?: LayerTrace[]): ForwardResult {
    const batchStats: BatchStats[] = [];
    let h: tf.Tensor2D = inputs;
    this.hidden.forEach((layer, i) => {
      const isFeatureLayer = i === this.hidden.length - 1;
      h = applyDense(layer, h);
      traceLayer(trace, "Linear", h, sizeOf(layer.weight, layer.bias));
      const norm = this.norms[i];
      if (norm) {
        h = applyBatchNorm(norm, h, training, batchStats);
        traceLayer(trace, "BatchNorm1d", h, sizeOf(norm.gamma, norm.beta));
      }
      const layerNorm = this.layerNorms[i];
      if (layerNorm) {
        // PyTorch's LayerNorm: biased variance over the features, eps 1e-5.
        const { mean, variance } = tf.moments(h, 1, true);
        const normalized = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, BN_EPSILON)));
        h = tf.add(tf.mul(normalized, layerNorm.weight), layerNorm.bias) as tf.Tensor2D;
        traceLayer(trace, "LayerNorm", h, sizeOf(layerNorm.weight, layerNorm.bias));
      }
      if (!isFeatureLayer || this.config.actFn !== "none") {
        h = activate(h, this.config.actFn);
        if (this.config.actFn !== "none") {
          traceLayer(trace, this.config.actFn === "relu" ? "ReLU" : "Sigmoid", h, 0);
        }
      }
    });
    const logits = applyDense(this.classifier, h);
    traceLayer(trace, "Linear", logits, sizeOf(this.classifier.weight, this.classifier.bias));
    return { features: h, logits, batchStats };
  }

  /** Update batch-norm running averages as PyTorch does (momentum 0.1, unbiased variance). */
  updateRunningStats(stats: BatchStats[]): void {
    updateRunningAverages(this.norms.filter((n): n is BatchNorm => n !== undefined), stats);
  }

  /** Load saved values (from {@link Mlp.state} order and names). */
  load(values: Map<string, Float32Array>): void {
    loadNamed(this.state(), values);
  }

  /** Release every variable. */
  dispose(): void {
    this.state().forEach(({ variable }) => variable.dispose());
  }
}

function activate(h: tf.Tensor2D, actFn: MlpConfig["actFn"]): tf.Tensor2D {
  if (actFn === "relu") return tf.relu(h);
  if (actFn === "sigmoid") return tf.sigmoid(h);
  return h;
}
