/**
 * `deno task bench`: training speed of the simple-model MLP on the available backends.
 *
 * Each workload trains a fixed number of steps on real Fashion-MNIST inputs after one warm-up
 * step, repeats it, and reports the median seconds per step and the epoch time extrapolated to
 * the default two-class training set (9,600 samples after the validation split). Results go to
 * stdout and `results/bench/bench-<date>.json`.
 *
 * @module
 */
import { initBackend, tf } from "../lib/backend/mod.ts";
import { INPUT_SIZE, loadRunData, type Split } from "../lib/data/mod.ts";
import { crossEntropy } from "../lib/losses/mod.ts";
import { Mlp } from "../lib/models/mod.ts";
import { writeJsonAtomic } from "../lib/results/mod.ts";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { trainModel } from "../lib/training/mod.ts";

interface Workload {
  name: string;
  width: number;
  depth: number;
  batchSize: number;
  steps: number;
}

const WORKLOADS: Workload[] = [
  {
    name: "default MLP (depth 6, width 1024, batch 128)",
    width: 1024,
    depth: 6,
    batchSize: 128,
    steps: 10,
  },
  {
    name: "paper MLP (depth 9, width 2048, batch 16, BN)",
    width: 2048,
    depth: 9,
    batchSize: 16,
    steps: 20,
  },
];
const REPETITIONS = 3;
const TRAIN_SAMPLES = 9600;

function subset(split: Split, count: number): Split {
  return {
    inputs: split.inputs.subarray(0, count * INPUT_SIZE),
    labels: split.labels.subarray(0, count),
    originalLabels: split.originalLabels.subarray(0, count),
    sourceIndex: split.sourceIndex.subarray(0, count),
    count,
  };
}

const backendName = (Deno.args[0] ?? "wasm") as "wasm";
const backend = await initBackend(backendName);
const data = await loadRunData({
  dataset: "fashionmnist",
  data_dir: "~/data",
  classes: 2,
  label_noise: 0,
  val_split_prop: 0.2,
  seed: 6,
});
const empty = subset(data.test, 0);
const rows = [];
for (const workload of WORKLOADS) {
  const model = new Mlp({
    inputSize: INPUT_SIZE,
    width: workload.width,
    depth: workload.depth,
    classes: 2,
    featureDim: 2,
    actFn: "relu",
    useBn: workload.name.includes("BN"),
    bias: true,
  }, 6);
  const timings: number[] = [];
  for (let repetition = 0; repetition <= REPETITIONS; repetition++) {
    const steps = repetition === 0 ? 1 : workload.steps; // repetition 0 warms up
    const history = await trainModel({
      model,
      loss: crossEntropy,
      train: subset(data.train, steps * workload.batchSize),
      validation: empty,
      test: empty,
      config: {
        epochs: 1,
        batch_size: workload.batchSize,
        lr: 0.01,
        weight_decay: 5e-4,
        patience: 40,
        gamma: 0.1,
        seed: 6,
      },
      progress: false,
    });
    if (repetition > 0) timings.push(history[0].seconds / steps);
  }
  model.dispose();
  const median = timings.sort((a, b) => a - b)[Math.floor(timings.length / 2)];
  const epochSeconds = median * Math.ceil(TRAIN_SAMPLES / workload.batchSize);
  rows.push({ ...workload, backend: backend.name, secondsPerStep: median, epochSeconds });
  console.log(
    `${workload.name.padEnd(48)} ${backend.name.padEnd(7)} ${
      (1000 * median).toFixed(1).padStart(8)
    } ms/step` +
      `  ${
        epochSeconds.toFixed(1).padStart(8)
      } s/epoch (extrapolated from ${workload.steps} steps)`,
  );
}
const date = new Date().toISOString();
await writeJsonAtomic(
  `${REPO_ROOT}/results/bench/bench-${date.slice(0, 10)}-${backend.name}.json`,
  {
    date,
    machine: { os: Deno.build.os, arch: Deno.build.arch, cpus: navigator.hardwareConcurrency },
    versions: { deno: Deno.version.deno, tfjs: tf.version_core },
    rows,
  },
);
