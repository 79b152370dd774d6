/**
 * The training loop: SGD with momentum and coupled weight decay, step learning-rate decay, the
 * training set resident on the backend, and per-epoch loss and accuracies.
 *
 * @module
 */
import cliProgress from "cli-progress";
import { tf } from "../backend/mod.ts";
import { Random } from "../data/random.ts";
import type { Split } from "../data/mod.ts";
import type { LossFunction } from "../losses/mod.ts";
import type { Mlp } from "../models/mod.ts";

/** Optimisation settings (the reference's flag names). */
export interface OptimConfig {
  epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  patience: number;
  gamma: number;
  seed: number;
}

/** One row of the training history. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  lr: number;
  /** Mean training loss over the epoch's batches (training mode, noisy labels). */
  train_loss: number;
  /** Training accuracy against the noisy labels, from the same forward passes. */
  train_acc: number;
  /** Validation accuracy (noisy labels), null without a validation split. */
  val_acc: number | null;
  /** Test accuracy against the true labels. */
  test_acc: number;
  seconds: number;
}

/**
 * Step decay: lr * gamma^floor(epoch / patience), epoch counted from 0.
 *
 * @example
 * ```ts
 * stepDecayLr({ lr: 0.1, gamma: 0.1, patience: 40 }, 45); // 0.01
 * ```
 */
export function stepDecayLr(
  config: Pick<OptimConfig, "lr" | "gamma" | "patience">,
  epoch: number,
): number {
  return config.lr * config.gamma ** Math.floor(epoch / config.patience);
}

/** SGD with momentum 0.9 and weight decay added to the gradient, as torch.optim.SGD. */
export class Sgd {
  readonly momentum = 0.9;
  #velocity = new Map<tf.Variable, tf.Variable>();
  constructor(readonly weightDecay: number) {}

  /**
   * Apply one update: v = momentum v + (g + wd theta); theta -= lr v.
   *
   * @example
   * ```ts
   * const sgd = new Sgd(5e-4);
   * sgd.step(new Map([[weight, gradient]]), 0.1);
   * ```
   */
  step(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void {
    tf.tidy(() => {
      for (const [variable, gradient] of gradients) {
        const decayed = this.weightDecay
          ? tf.add(gradient, tf.mul(variable, this.weightDecay))
          : gradient;
        let velocity = this.#velocity.get(variable);
        if (!velocity) {
          // torch initialises the buffer with the first gradient.
          velocity = tf.variable(decayed, false);
          this.#velocity.set(variable, velocity);
        } else {
          velocity.assign(tf.add(tf.mul(velocity, this.momentum), decayed));
        }
        variable.assign(tf.sub(variable, tf.mul(velocity, lr)));
      }
    });
  }

  /** Release the momentum buffers. */
  dispose(): void {
    this.#velocity.forEach((v) => v.dispose());
    this.#velocity.clear();
  }
}

/** Features and logits of a split, computed in evaluation mode. */
export interface Predictions {
  features: Float32Array;
  logits: Float32Array;
  featureDim: number;
  classes: number;
}

const EVAL_BATCH = 1000;

/**
 * Forward a whole split in evaluation mode, in chunks, returning host arrays.
 *
 * @example
 * ```ts
 * const { features, logits } = await predict(model, data.test.inputs, data.test.count);
 * ```
 */
export async function predict(
  model: Mlp,
  inputs: Float32Array,
  count: number,
): Promise<Predictions> {
  const { featureDim, classes, inputSize } = model.config;
  const features = new Float32Array(count * featureDim);
  const logits = new Float32Array(count * classes);
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const end = Math.min(start + EVAL_BATCH, count);
    const [f, l] = tf.tidy(() => {
      const x = tf.tensor2d(inputs.subarray(start * inputSize, end * inputSize), [
        end - start,
        inputSize,
      ]);
      const out = model.forward(x, false);
      return [out.features, out.logits];
    });
    features.set(await f.data() as Float32Array, start * featureDim);
    logits.set(await l.data() as Float32Array, start * classes);
    tf.dispose([f, l]);
  }
  return { features, logits, featureDim, classes };
}

/**
 * Top-1 accuracy of logits (count x K) against labels.
 *
 * @example
 * ```ts
 * accuracy(new Float32Array([2, 0, 0, 1]), Int32Array.from([0, 0]), 2); // 0.5
 * ```
 */
export function accuracy(logits: Float32Array, labels: Int32Array, classes: number): number {
  if (labels.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    }
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Inputs of {@link trainModel}. */
export interface TrainInputs {
  model: Mlp;
  loss: LossFunction;
  train: Split;
  validation: Split;
  test: Split;
  config: OptimConfig;
  /** Called after each epoch (e.g. to evaluate metrics every N epochs). */
  onEpoch?: (record: EpochRecord) => Promise<void> | void;
  /** Draw a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** Print one line per epoch (default: when no progress bar is drawn). */
  log?: (line: string) => void;
}

/**
 * Train the model. Batches are shuffled per epoch from the seed; the training set lives on the
 * backend and batches are gathered there; loss and accuracy are read back once per epoch.
 * With batch norm, a final batch of one sample is skipped (PyTorch cannot normalize it).
 *
 * @example
 * ```ts
 * const history = await trainModel({ model, loss, train, validation, test, config });
 * ```
 */
export async function trainModel(inputs: TrainInputs): Promise<EpochRecord[]> {
  const { model, train, config } = inputs;
  const inputSize = model.config.inputSize;
  const xTrain = tf.tensor2d(train.inputs, [train.count, inputSize]);
  const yTrain = tf.tensor1d(train.labels, "int32");
  const sgd = new Sgd(config.weight_decay);
  const rng = new Random(config.seed ^ 0x5eed);
  const variables = model.trainable().map((p) => p.variable);
  const history: EpochRecord[] = [];
  const showBar = inputs.progress ?? Deno.stderr.isTerminal();
  const bar = showBar
    ? new cliProgress.SingleBar({
      format: "epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | {info}",
      hideCursor: true,
    }, cliProgress.Presets.shades_classic)
    : undefined;
  const batches = Math.ceil(train.count / config.batch_size);
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const started = performance.now();
      const lr = stepDecayLr(config, epoch);
      const order = rng.permutation(train.count);
      let lossSum: tf.Tensor = tf.scalar(0);
      let correct: tf.Tensor = tf.scalar(0, "int32");
      let seen = 0;
      bar?.start(batches, 0, { epoch: epoch + 1, epochs: config.epochs, info: "" });
      for (let b = 0; b < batches; b++) {
        const index = order.subarray(b * config.batch_size, (b + 1) * config.batch_size);
        if (index.length < 2 && model.config.useBn) continue;
        const indexTensor = tf.tensor1d(index, "int32");
        const x = tf.gather(xTrain, indexTensor) as tf.Tensor2D;
        const y = tf.gather(yTrain, indexTensor) as tf.Tensor1D;
        let stats: ReturnType<Mlp["forward"]>["batchStats"] = [];
        let logits: tf.Tensor2D | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(x, true);
          stats = out.batchStats.map((s) => ({
            mean: tf.keep(s.mean),
            variance: tf.keep(s.variance),
            count: s.count,
          }));
          logits = tf.keep(out.logits);
          return inputs.loss(out.logits, y);
        }, variables);
        sgd.step(new Map(variables.map((v) => [v, grads[v.name]])), lr);
        model.updateRunningStats(stats);
        const newLoss = tf.tidy(() => tf.add(lossSum, tf.mul(value, index.length)));
        const newCorrect = tf.tidy(() =>
          tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(logits!, 1), y), "int32")))
        );
        tf.dispose([lossSum, correct, value, x, y, indexTensor, logits!, ...Object.values(grads)]);
        stats.forEach((s) => tf.dispose([s.mean, s.variance]));
        lossSum = newLoss;
        correct = newCorrect;
        seen += index.length;
        bar?.update(b + 1);
      }
      const trainLoss = (await lossSum.data())[0] / seen;
      const trainAcc = (await correct.data())[0] / seen;
      tf.dispose([lossSum, correct]);
      const valAcc = inputs.validation.count > 0
        ? await splitAccuracy(model, inputs.validation)
        : null;
      const testAcc = await splitAccuracy(model, inputs.test);
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: trainLoss,
        train_acc: trainAcc,
        val_acc: valAcc,
        test_acc: testAcc,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(record);
      const summary = `loss ${trainLoss.toFixed(4)} train ${(100 * trainAcc).toFixed(1)}% ` +
        (valAcc === null ? "" : `val ${(100 * valAcc).toFixed(1)}% `) +
        `test ${(100 * testAcc).toFixed(1)}% lr ${lr} ${record.seconds.toFixed(1)}s`;
      if (bar) {
        bar.update(batches, { info: summary });
        bar.stop();
      } else {
        inputs.log?.(`epoch ${epoch + 1}/${config.epochs}: ${summary}`);
      }
      if (!Number.isFinite(trainLoss)) {
        throw new Error(
          `training diverged at epoch ${epoch + 1} (loss ${trainLoss}); lower --lr`,
        );
      }
      await inputs.onEpoch?.(record);
    }
  } finally {
    bar?.stop();
    tf.dispose([xTrain, yTrain]);
    sgd.dispose();
  }
  return history;
}

async function splitAccuracy(model: Mlp, split: Split): Promise<number> {
  const { logits, classes } = await predict(model, split.inputs, split.count);
  return accuracy(logits, split.labels, classes);
}
