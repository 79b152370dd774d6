/**
 * The training loop: SGD or Adam with coupled weight decay (or L-BFGS), step and multistep
 * learning-rate schedules stepped per epoch, optional separated weight decay, the training set
 * resident on the backend, per-epoch loss and accuracies, and a stop on a non-finite loss.
 *
 * @module
 */
import cliProgress from "cli-progress";
import { formatDuration } from "./duration.ts";
import { accuracy, predict } from "./predict.ts";
import { tf } from "../backend/mod.ts";
import type { TrainConfig } from "../config/schema.ts";
import { Random } from "../data/random.ts";
import { gatherInputs, type Split } from "../data/mod.ts";
import { type LossFunction, separatedDecay } from "../losses/mod.ts";
import type { BatchStats, Model } from "../models/mod.ts";
import { firstOrderOptimizer, Lbfgs, learningRateAt, type Optimizer } from "../optim/mod.ts";

/**
 * Optimisation settings, by the reference's flag names and typed from the schema: `optimizer` SGD
 * (default), Adam or LBFGS; `decay_type` `step` (default) or multistep `step_a_b_...`;
 * `sep_decay`: weight decay only on the classifier, plus feature decay (`feature_decay_rate`), in
 * the loss (docs/reference.md#losses-and-optimization); `history_size`: L-BFGS curvature pairs
 * (default 10); `eval_forward_pass`: training accuracy from a second forward pass of each batch in
 * eval mode after the step, as the reference logs it; default: from the training-mode pass (no
 * extra cost).
 */
export type OptimConfig =
  & Pick<
    TrainConfig,
    "epochs" | "batch_size" | "lr" | "weight_decay" | "patience" | "gamma" | "seed"
  >
  & Partial<
    Pick<
      TrainConfig,
      | "optimizer"
      | "decay_type"
      | "sep_decay"
      | "feature_decay_rate"
      | "history_size"
      | "eval_forward_pass"
    >
  >;

/** Training stopped because the loss or a parameter became NaN or infinite. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  constructor(readonly epoch: number, readonly loss: number) {
    super(
      `training diverged at epoch ${epoch} (mean loss ${loss}${
        Number.isFinite(loss) ? ", but parameters are NaN or infinite" : ""
      }): lower --lr; nothing of that epoch was saved (the last good checkpoint, if any, is kept)`,
    );
  }
}

/**
 * Whether every value of the model's state (parameters and running statistics) is finite: one
 * reduction on the backend and one number read back.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * declare const model: Model;
 * if (!(await stateIsFinite(model))) throw new Error("diverged");
 * ```
 */
export async function stateIsFinite(model: Model): Promise<boolean> {
  const all = tf.tidy(() =>
    tf.stack(model.state().map(({ variable }) => tf.all(tf.isFinite(variable)))).all()
  );
  // An asynchronous read: WebGPU cannot read synchronously in Deno.
  const finite = (await all.data())[0] === 1;
  all.dispose();
  return finite;
}

/** One row of the training history. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  lr: number;
  /** Mean training loss over the epoch's batches (training mode, noisy labels). */
  train_loss: number;
  /** Training accuracy against the noisy labels, from the same forward passes (or, with
   * `eval_forward_pass`, from a second pass in eval mode after each step). */
  train_acc: number;
  /** Validation accuracy (noisy labels), null without a validation split. */
  val_acc: number | null;
  /** Test accuracy against the true labels. */
  test_acc: number;
  seconds: number;
}

/** Inputs of {@link trainModel}. */
export interface TrainInputs {
  model: Model;
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
  /**
   * The SGD or Adam optimizer to step (e.g. with state restored from a checkpoint); default: a
   * new one from `config.optimizer`. The caller disposes an optimizer it passes.
   */
  optimizer?: Optimizer;
  /** Epochs already trained (resuming): the batch orders of those epochs are skipped. */
  startEpoch?: number;
}

/**
 * The optimizer a configuration asks for (SGD by default); with `sep_decay` it applies no
 * weight decay, the loss carries it instead.
 *
 * @example
 * ```ts
 * const optimizer = optimizerFor({ optimizer: "Adam", weight_decay: 5e-4 });
 * ```
 */
export function optimizerFor(
  config: Pick<OptimConfig, "optimizer" | "weight_decay" | "sep_decay">,
): Optimizer {
  return firstOrderOptimizer(config.optimizer ?? "SGD", config.sep_decay ? 0 : config.weight_decay);
}

/**
 * The training objective of one batch: the loss, plus the separated decay terms with
 * `sep_decay`.
 */
function objective(
  inputs: TrainInputs,
  out: { features: tf.Tensor2D; logits: tf.Tensor2D },
  labels: tf.Tensor1D,
): tf.Scalar {
  const loss = inputs.loss(out.logits, labels);
  if (!inputs.config.sep_decay) return loss;
  const penalty = separatedDecay(
    out.features,
    inputs.model.classifier,
    inputs.config.weight_decay,
    inputs.config.feature_decay_rate ?? 0,
  );
  return tf.add(loss, penalty) as tf.Scalar;
}

/**
 * One L-BFGS step (up to 20 iterations) on a batch: the objective adds (wd/2)||theta||^2 over
 * the trainable parameters (coupled weight decay, as the reference's second-order trainer), or
 * the separated decay terms. Batch-norm running averages are updated on every evaluation, as a
 * training-mode forward pass in torch's closure does. Returns the loss and logits at the start.
 */
function lbfgsStep(
  inputs: TrainInputs,
  lbfgs: Lbfgs,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
): { value: tf.Scalar; logits: tf.Tensor2D } {
  const variables = inputs.model.trainable().map((p) => p.variable);
  const flat = new Float32Array(variables.reduce((sum, v) => sum + v.size, 0));
  let offset = 0;
  for (const v of variables) {
    flat.set(v.dataSync() as Float32Array, offset);
    offset += v.size;
  }
  let first: { value: tf.Scalar; logits: tf.Tensor2D } | undefined;
  const evaluate = (point: Float32Array) => {
    let at = 0;
    for (const v of variables) {
      v.assign(tf.tensor(point.subarray(at, at + v.size), v.shape));
      at += v.size;
    }
    let stats: BatchStats[] = [];
    let logits: tf.Tensor2D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = inputs.model.forward(x, true);
      stats = out.batchStats.map((s) => ({
        ...s,
        mean: tf.keep(s.mean),
        variance: tf.keep(s.variance),
      }));
      logits = tf.keep(out.logits);
      let loss = objective(inputs, out, y);
      if (!inputs.config.sep_decay && inputs.config.weight_decay) {
        const squares = tf.addN(variables.map((v) => tf.sum(tf.square(v))));
        loss = tf.add(loss, tf.mul(squares, inputs.config.weight_decay / 2));
      }
      return loss;
    }, variables);
    inputs.model.updateRunningStats(stats);
    stats.forEach((s) => tf.dispose([s.mean, s.variance]));
    const gradient = new Float32Array(point.length);
    at = 0;
    for (const v of variables) {
      gradient.set(grads[v.name].dataSync() as Float32Array, at);
      at += v.size;
    }
    const loss = value.dataSync()[0];
    tf.dispose(Object.values(grads));
    if (first) tf.dispose([value, logits!]);
    else first = { value, logits: logits! };
    return { loss, gradient };
  };
  lbfgs.step(flat, evaluate);
  let at = 0;
  for (const v of variables) {
    v.assign(tf.tensor(flat.subarray(at, at + v.size), v.shape));
    at += v.size;
  }
  return first!;
}

/**
 * Train the model. Batches are shuffled per epoch from the seed; the training set lives on the
 * backend and batches are gathered there; loss and accuracy are read back once per epoch.
 * With batch norm, a final batch of one sample is skipped (PyTorch cannot normalize it).
 *
 * @example
 * ```ts
 * declare const inputs: TrainInputs;
 * const { model, loss, train, validation, test, config } = inputs;
 * const history = await trainModel({ model, loss, train, validation, test, config });
 * ```
 */
export async function trainModel(inputs: TrainInputs): Promise<EpochRecord[]> {
  const { model, train, config } = inputs;
  const inputSize = model.config.inputSize;
  // A small training set lives on the backend and batches are gathered there; a large one
  // (CIFAR-sized) stays as bytes on the host and each batch is normalized on its own.
  const resident = train.count * inputSize <= RESIDENT_FLOATS;
  const xTrain = resident ? tf.tensor2d(train.inputs, [train.count, inputSize]) : undefined;
  const yTrain = tf.tensor1d(train.labels, "int32");
  const isLbfgs = config.optimizer === "LBFGS";
  if (isLbfgs && tf.getBackend() === "webgpu") {
    // Its line search reads the loss synchronously, which WebGPU under Deno cannot do.
    throw new Error(
      "--optimizer LBFGS does not run on the webgpu backend (its line search needs synchronous " +
        "read-backs, which WebGPU in Deno lacks): use --backend openblas, wasm or cpu",
    );
  }
  const optimizer = isLbfgs ? undefined : inputs.optimizer ?? optimizerFor(config);
  const lbfgs = isLbfgs
    ? new Lbfgs({ lr: config.lr, historySize: config.history_size ?? 10 })
    : undefined;
  const rng = new Random(config.seed ^ 0x5eed);
  const startEpoch = inputs.startEpoch ?? 0;
  // Replay the batch orders of the epochs already trained, so a resumed run draws the same
  // batches as an uninterrupted one.
  for (let epoch = 0; epoch < startEpoch; epoch++) rng.permutation(train.count);
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
  const runStarted = performance.now();
  let lastEpoch = "";
  try {
    for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
      const started = performance.now();
      const lr = learningRateAt(config, epoch);
      const order = rng.permutation(train.count);
      let lossSum: tf.Tensor = tf.scalar(0);
      let correct: tf.Tensor = tf.scalar(0, "int32");
      let seen = 0;
      bar?.start(batches, 0, { epoch: epoch + 1, epochs: config.epochs, info: lastEpoch });
      for (let b = 0; b < batches; b++) {
        const index = order.subarray(b * config.batch_size, (b + 1) * config.batch_size);
        if (index.length < 2 && model.usesBatchNorm) continue;
        const indexTensor = tf.tensor1d(index, "int32");
        const x = xTrain
          ? tf.gather(xTrain, indexTensor) as tf.Tensor2D
          : tf.tensor2d(hostBatch(train, index, inputSize), [index.length, inputSize]);
        const y = tf.gather(yTrain, indexTensor) as tf.Tensor1D;
        let stats: BatchStats[] = [];
        let logits: tf.Tensor2D | undefined;
        let value: tf.Scalar;
        let grads: tf.NamedTensorMap = {};
        if (lbfgs) {
          lbfgs.lr = lr;
          ({ value, logits } = lbfgsStep(inputs, lbfgs, x, y));
        } else {
          ({ value, grads } = tf.variableGrads(() => {
            const out = model.forward(x, true);
            stats = out.batchStats.map((s) => ({
              ...s,
              mean: tf.keep(s.mean),
              variance: tf.keep(s.variance),
            }));
            logits = tf.keep(out.logits);
            return objective(inputs, out, y);
          }, variables));
          optimizer!.step(new Map(variables.map((v) => [v, grads[v.name]])), lr);
          model.updateRunningStats(stats);
        }
        if (config.eval_forward_pass) {
          const trainingLogits = logits!;
          logits = tf.tidy(() => model.forward(x, false).logits);
          trainingLogits.dispose();
        }
        const newLoss = tf.tidy(() => tf.add(lossSum, tf.mul(value, index.length)));
        const newCorrect = tf.tidy(() =>
          tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(logits!, 1), y), "int32")))
        );
        tf.dispose([lossSum, correct, value, x, y, indexTensor, logits!, ...Object.values(grads)]);
        stats.forEach((s) => tf.dispose([s.mean, s.variance]));
        lossSum = newLoss;
        correct = newCorrect;
        seen += index.length;
        if (bar) {
          const done = (epoch - startEpoch) * batches + b + 1;
          const left = (config.epochs - epoch) * batches - (b + 1);
          const eta = formatDuration(((performance.now() - runStarted) / 1000 / done) * left);
          bar.update(b + 1, { info: `${lastEpoch}${lastEpoch ? " | " : ""}ETA ${eta}` });
        }
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
        `test ${(100 * testAcc).toFixed(1)}% lr ${lr} ${record.seconds.toFixed(1)}s` +
        etaText(history, config.epochs - (epoch + 1));
      if (bar) {
        bar.update(batches, { info: summary });
        bar.stop();
        lastEpoch = `last: loss ${trainLoss.toFixed(4)} train ${(100 * trainAcc).toFixed(1)}%` +
          (valAcc === null ? "" : ` val ${(100 * valAcc).toFixed(1)}%`) +
          ` test ${(100 * testAcc).toFixed(1)}%`;
      } else {
        inputs.log?.(`epoch ${epoch + 1}/${config.epochs}: ${summary}`);
      }
      // The loss is measured before each step: the last step of the epoch can still diverge.
      if (!Number.isFinite(trainLoss) || !(await stateIsFinite(model))) {
        throw new TrainingDivergedError(epoch + 1, trainLoss);
      }
      await inputs.onEpoch?.(record);
    }
  } finally {
    bar?.stop();
    tf.dispose([xTrain, yTrain]);
    if (!inputs.optimizer) optimizer?.dispose();
  }
  return history;
}

/** ` ETA 3m 07s` for the epochs left, from the mean time of the epochs trained now. */
function etaText(history: EpochRecord[], left: number): string {
  if (left <= 0 || history.length === 0) return "";
  const mean = history.reduce((sum, record) => sum + record.seconds, 0) / history.length;
  return `, ETA ${formatDuration(mean * left)}`;
}

/** Largest training set (in floats) kept on the backend: 64 Mi floats, 256 MB. */
const RESIDENT_FLOATS = 64 * 2 ** 20;

/** The normalized rows `index` of a split, from its bytes when it has them. */
function hostBatch(split: Split, index: Int32Array, inputSize: number): Float32Array {
  if (split.pixels) return gatherInputs(split, index);
  const rows = new Float32Array(index.length * inputSize);
  index.forEach((row, i) =>
    rows.set(split.inputs.subarray(row * inputSize, (row + 1) * inputSize), i * inputSize)
  );
  return rows;
}

async function splitAccuracy(model: Model, split: Split): Promise<number> {
  const { logits, classes } = await predict(model, split.inputs, split.count);
  return accuracy(logits, split.labels, classes);
}
