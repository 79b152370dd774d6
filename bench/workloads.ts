/**
 * The benchmark workloads of `deno task bench`, run on the one tfjs backend of this process:
 * (a) the paper MLP, (b) a small MLP, (c) ResNet-18 training steps, (d) NC + M-D evaluation.
 * Each is timed as the median of several repetitions after a warm-up.
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

/** How long to measure: steps (or samples for d) per repetition, and repetitions. */
export interface WorkloadSize {
  steps: number;
  repetitions: number;
}

/** One measured workload. */
export interface WorkloadResult {
  workload: WorkloadKey;
  name: string;
  /** Training steps per repetition (a-c) or samples evaluated per repetition (d). */
  steps: number;
  repetitions: number;
  /** Every repetition's seconds per step (a-c) or seconds per pass over the samples (d). */
  seconds: number[];
  /** Median seconds per step (a-c). */
  seconds_per_step?: number;
  /** The paper MLP's epoch (a): median seconds per step times the steps of 9,600 samples. */
  epoch_seconds_extrapolated?: number;
  /** Evaluation throughput (d). */
  samples_per_second?: number;
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
 * Default sizes per backend; `quick` is for tests (a single short repetition). The cpu backend
 * is 10-50 times slower than wasm, so its runs are short (and so are a software WebGPU
 * adapter's, which `bench.ts` passes as `cpu`).
 *
 * @example
 * ```ts
 * const size = workloadSize("b", "wasm", false); // { steps: 50, repetitions: 3 }
 * ```
 */
export function workloadSize(key: WorkloadKey, backend: string, quick: boolean): WorkloadSize {
  if (quick) {
    return {
      a: { steps: 2, repetitions: 1 },
      b: { steps: 3, repetitions: 1 },
      c: { steps: 1, repetitions: 1 },
      d: { steps: 4000, repetitions: 1 },
    }[key];
  }
  if (backend === "cpu") {
    return {
      a: { steps: 2, repetitions: 3 },
      b: { steps: 5, repetitions: 3 },
      c: { steps: 1, repetitions: 1 },
      d: { steps: 10_000, repetitions: 3 },
    }[key];
  }
  return {
    a: { steps: 20, repetitions: 3 },
    b: { steps: 50, repetitions: 3 },
    c: { steps: 3, repetitions: 3 },
    d: { steps: 60_000, repetitions: 3 },
  }[key];
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
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

async function mlpWorkload(key: "a" | "b", size: WorkloadSize): Promise<WorkloadResult> {
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
  const seconds: number[] = [];
  try {
    for (let repetition = 0; repetition <= size.repetitions; repetition++) {
      const steps = repetition === 0 ? 1 : size.steps; // repetition 0 warms up
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
      if (repetition > 0) seconds.push(history[0].seconds / steps);
    }
  } finally {
    model.dispose();
  }
  const perStep = median(seconds);
  return {
    workload: key,
    name: WORKLOAD_NAMES[key],
    steps: size.steps,
    repetitions: size.repetitions,
    seconds,
    seconds_per_step: perStep,
    epoch_seconds_extrapolated: key === "a"
      ? perStep * Math.ceil(EPOCH_SAMPLES / shape.batch)
      : undefined,
    inputs,
  };
}

/** ResNet-18 training steps on one random CIFAR-sized batch (SGD, momentum, weight decay). */
async function resnetWorkload(size: WorkloadSize): Promise<WorkloadResult> {
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
  const seconds: number[] = [];
  try {
    await run(1);
    for (let r = 0; r < size.repetitions; r++) seconds.push(await run(size.steps));
  } finally {
    tf.dispose([x, y]);
    sgd.dispose();
    model.dispose();
  }
  return {
    workload: "c",
    name: WORKLOAD_NAMES.c,
    steps: size.steps,
    repetitions: size.repetitions,
    seconds,
    seconds_per_step: median(seconds),
    inputs: "random",
  };
}

/** The streamed NC + M-D evaluation (both passes, every metric) of `size.steps` samples. */
async function metricsWorkload(size: WorkloadSize): Promise<WorkloadResult> {
  const classifier = {
    numClasses: 10,
    dim: 512,
    weight: Float64Array.from({ length: 10 * 512 }, (_, i) => Math.sin(i)),
    bias: new Float64Array(10),
  };
  await evaluateSource(randomSource(2000, 1), classifier); // warm-up
  const seconds: number[] = [];
  for (let r = 0; r < size.repetitions; r++) {
    const started = performance.now();
    await evaluateSource(randomSource(size.steps, 7 + r), classifier);
    seconds.push((performance.now() - started) / 1000);
  }
  return {
    workload: "d",
    name: WORKLOAD_NAMES.d,
    steps: size.steps,
    repetitions: size.repetitions,
    seconds,
    samples_per_second: size.steps / median(seconds),
    inputs: "random features (generated on the backend, included in the time)",
  };
}

/**
 * Run one workload on the active backend.
 *
 * @example
 * ```ts
 * const result = await runWorkload("b", { steps: 3, repetitions: 1 });
 * ```
 */
export function runWorkload(key: WorkloadKey, size: WorkloadSize): Promise<WorkloadResult> {
  if (key === "a" || key === "b") return mlpWorkload(key, size);
  if (key === "c") return resnetWorkload(size);
  return metricsWorkload(size);
}
