/**
 * The benchmark workloads of `deno task bench`, run on the one tfjs backend of this process:
 * (a) the paper MLP, (b) a small MLP, (c) ResNet-18 training steps, (d) NC + M-D evaluation.
 * One call is one measurement: a warm-up, then one timed run; `bench.ts` repeats it in fresh
 * processes, interleaved with PyTorch's.
 *
 * @module
 */
import { tf } from "../lib/backend/mod.ts";
import { INPUT_SIZE, loadRunData, type Split } from "../lib/data/mod.ts";
import { Random } from "../lib/data/random.ts";
import { crossEntropy } from "../lib/losses/mod.ts";
import { evaluateSource } from "../lib/metrics/mod.ts";
import { buildModel, Mlp } from "../lib/models/mod.ts";
import { Sgd } from "../lib/optim/mod.ts";
import { trainModel } from "../lib/training/mod.ts";
import { randomSource } from "./metrics_bench.ts";

/** Workload keys: a paper MLP, b small MLP, c ResNet-18, d NC + M-D evaluation. */
export const WORKLOAD_KEYS = ["a", "b", "c", "d"] as const;
export type WorkloadKey = typeof WORKLOAD_KEYS[number];

/** Samples of one epoch of the default two-class training set (after the 20% validation split). */
export const EPOCH_SAMPLES = 9600;

/** Samples of workload d's evaluation (the sizes the bench reports its seconds for). */
export const EVALUATION_SAMPLES = 60_000;

/** One measurement's length: timed training steps (a-c) or evaluated samples (d). */
export interface WorkloadSize {
  steps: number;
}

/** One measurement of one workload, after a warm-up, in this process. */
export interface Measurement {
  workload: WorkloadKey;
  /** Timed training steps (a-c) or evaluated samples (d). */
  steps: number;
  /** Seconds per training step (a-c) or for the whole evaluation of `steps` samples (d). */
  seconds: number;
  /** Where the training inputs came from. */
  inputs: string;
}

/** Workload titles (shared with the PyTorch reference's rows). */
export const WORKLOAD_NAMES: Record<WorkloadKey, string> = {
  a: "paper MLP (depth 9, width 2048, BN, batch 16)",
  b: "small MLP (depth 4, width 256, batch 128)",
  c: "ResNet-18 (32x32, batch 128, 10 classes)",
  d: "NC + M-D evaluation (512-d, 10 classes)",
};

/**
 * Default length of one measurement. `slow` backends (the plain-JS cpu backend, a software
 * WebGPU adapter) are 10-50 times slower than wasm, so they time fewer steps and samples.
 *
 * @example
 * ```ts
 * const size = defaultSize("b", false); // { steps: 50 }
 * ```
 */
export function defaultSize(key: WorkloadKey, slow: boolean): WorkloadSize {
  const steps = slow
    ? { a: 2, b: 5, c: 1, d: 10_000 }[key]
    : { a: 20, b: 50, c: 3, d: EVALUATION_SAMPLES }[key];
  return { steps };
}

function subset(split: Split, count: number): Split {
  return {
    inputs: split.inputs.subarray(0, count * INPUT_SIZE),
    labels: split.labels.subarray(0, count),
    originalLabels: split.originalLabels.subarray(0, count),
    sourceIndex: split.sourceIndex.subarray(0, count),
    count,
  };
}

/** Random inputs of the MLP's shape, for hosts without Fashion-MNIST (timing is the same). */
function randomSplit(count: number): Split {
  const rng = new Random(3);
  const labels = Int32Array.from({ length: count }, () => rng.integer(2));
  return {
    inputs: Float32Array.from({ length: count * INPUT_SIZE }, () => rng.normal()),
    labels,
    originalLabels: labels,
    sourceIndex: Int32Array.from({ length: count }, (_, i) => i),
    count,
  };
}

/**
 * The two-class Fashion-MNIST training split (reference defaults), or random inputs of the same
 * shape when the dataset is not on this host.
 */
async function mlpInputs(count: number): Promise<{ split: Split; inputs: string }> {
  try {
    const data = await loadRunData({
      dataset: "fashionmnist",
      data_dir: Deno.env.get("MEMDIL_BENCH_DATA") ?? "~/data",
      classes: 2,
      label_noise: 0,
      val_split_prop: 0.2,
      seed: 6,
    });
    if (data.train.count >= count) {
      return { split: subset(data.train, count), inputs: "Fashion-MNIST classes 0-1" };
    }
  } catch {
    // Not downloaded here: random inputs time the same.
  }
  return { split: randomSplit(count), inputs: "random (Fashion-MNIST not found)" };
}

/** Train `size.steps` steps of the paper MLP (a) or the small MLP (b), after one warm-up step. */
async function mlpWorkload(key: "a" | "b", size: WorkloadSize): Promise<Measurement> {
  const shape = key === "a"
    ? { width: 2048, depth: 9, batch: 16, bn: true }
    : { width: 256, depth: 4, batch: 128, bn: false };
  const { split, inputs } = await mlpInputs(size.steps * shape.batch);
  const empty = subset(split, 0);
  const model = new Mlp({
    inputSize: INPUT_SIZE,
    width: shape.width,
    depth: shape.depth,
    classes: 2,
    featureDim: 2,
    actFn: "relu",
    useBn: shape.bn,
    bias: true,
  }, 6);
  const train = async (steps: number) => {
    const history = await trainModel({
      model,
      loss: crossEntropy,
      train: subset(split, steps * shape.batch),
      validation: empty,
      test: empty,
      config: {
        epochs: 1,
        batch_size: shape.batch,
        lr: 0.01,
        weight_decay: 5e-4,
        patience: 40,
        gamma: 0.1,
        seed: 6,
      },
      progress: false,
    });
    return history[0].seconds / steps;
  };
  try {
    await train(1);
    return { workload: key, steps: size.steps, seconds: await train(size.steps), inputs };
  } finally {
    model.dispose();
  }
}

/** ResNet-18 training steps on one random CIFAR-sized batch (SGD, momentum, weight decay). */
async function resnetWorkload(size: WorkloadSize): Promise<Measurement> {
  const batch = 128;
  const rng = new Random(1);
  const model = buildModel({
    model: "resnet18",
    classes: 10,
    bias: true,
    seed: 6,
  });
  const variables = model.trainable().map((p) => p.variable);
  const sgd = new Sgd(5e-4);
  const x = tf.tensor2d(
    Float32Array.from({ length: batch * INPUT_SIZE }, () => rng.normal()),
    [batch, INPUT_SIZE],
  );
  const y = tf.tensor1d(Int32Array.from({ length: batch }, () => rng.integer(10)), "int32");
  const run = async (steps: number) => {
    const started = performance.now();
    let loss: tf.Scalar | undefined;
    for (let s = 0; s < steps; s++) {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(x, true);
        return crossEntropy(out.logits, y);
      }, variables);
      sgd.step(new Map(variables.map((v) => [v, grads[v.name]])), 0.01);
      tf.dispose([loss, ...Object.values(grads)]);
      loss = value;
    }
    await loss!.data(); // one read-back: the queued work has finished
    loss!.dispose();
    return (performance.now() - started) / 1000 / steps;
  };
  try {
    await run(1);
    return { workload: "c", steps: size.steps, seconds: await run(size.steps), inputs: "random" };
  } finally {
    tf.dispose([x, y]);
    sgd.dispose();
    model.dispose();
  }
}

/** The streamed NC + M-D evaluation (both passes, every metric) of `size.steps` samples. */
async function metricsWorkload(size: WorkloadSize): Promise<Measurement> {
  const classifier = {
    numClasses: 10,
    dim: 512,
    weight: Float64Array.from({ length: 10 * 512 }, (_, i) => Math.sin(i)),
    bias: new Float64Array(10),
  };
  await evaluateSource(randomSource(2000, 1), classifier); // warm-up
  const started = performance.now();
  await evaluateSource(randomSource(size.steps, 7), classifier);
  return {
    workload: "d",
    steps: size.steps,
    seconds: (performance.now() - started) / 1000,
    inputs: "random features (generated on the backend, included in the time)",
  };
}

/**
 * Measure one workload on the active backend: a warm-up, then one timed run of `size.steps`.
 *
 * @example
 * ```ts
 * const measurement = await runWorkload("b", { steps: 3 });
 * console.log(measurement.seconds); // seconds per step
 * ```
 */
export function runWorkload(key: WorkloadKey, size: WorkloadSize): Promise<Measurement> {
  if (key === "a" || key === "b") return mlpWorkload(key, size);
  if (key === "c") return resnetWorkload(size);
  return metricsWorkload(size);
}
