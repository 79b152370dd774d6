/**
 * Datasets for memdil experiments: load, select classes, corrupt labels, split, preprocess.
 *
 * @module
 */
import { loadFashionMnist, type RawSplit } from "./fashion_mnist.ts";
import { applyLabelNoise, selectClasses, validationSplit } from "./noise.ts";
import { grayscaleToInputs, MNIST_NORMALIZATION } from "./preprocess.ts";
import { Random } from "./random.ts";

export * from "./acquire.ts";
export * from "./fashion_mnist.ts";
export * from "./idx.ts";
export * from "./noise.ts";
export * from "./preprocess.ts";
export * from "./random.ts";

/** Side length of every model input (inputs are 3 x 32 x 32). */
export const IMAGE_SIZE = 32;
/** Flattened input length, 3 * 32 * 32. */
export const INPUT_SIZE = 3 * IMAGE_SIZE * IMAGE_SIZE;

/** A set of preprocessed samples with their labels. */
export interface Split {
  /** Normalized inputs, count x INPUT_SIZE, row-major. */
  inputs: Float32Array;
  /** Labels the model sees: noisy for train and validation, true for test. */
  labels: Int32Array;
  /** True labels of the source dataset. */
  originalLabels: Int32Array;
  /** Index of each sample in the source dataset's split. */
  sourceIndex: Int32Array;
  count: number;
}

/** The data of one run. */
export interface RunData {
  train: Split;
  validation: Split;
  test: Split;
  classes: number;
  /** Directory the dataset files were read from. */
  source: string;
}

/** Data flags that fix a run's samples (a subset of the training configuration). */
export interface DataOptions {
  dataset: string;
  data_dir: string;
  classes: number;
  label_noise: number;
  val_split_prop: number;
  seed: number;
}

/** Which samples a run trained on, with their labels: saved in the run directory. */
export interface TrainingSetRecord {
  split: ("train" | "validation")[];
  sourceIndex: Int32Array;
  labels: Int32Array;
  originalLabels: Int32Array;
}

function makeSplit(raw: RawSplit, sourceIndex: Int32Array, labels: Int32Array): Split {
  const pixels = raw.height * raw.width;
  const images = new Uint8Array(sourceIndex.length * pixels);
  sourceIndex.forEach((source, i) =>
    images.set(raw.images.subarray(source * pixels, (source + 1) * pixels), i * pixels)
  );
  return {
    inputs: grayscaleToInputs(
      images,
      sourceIndex.length,
      raw.height,
      raw.width,
      IMAGE_SIZE,
      MNIST_NORMALIZATION,
    ),
    labels,
    originalLabels: Int32Array.from(sourceIndex, (i) => raw.labels[i]),
    sourceIndex,
    count: sourceIndex.length,
  };
}

function expandHome(path: string): string {
  return path.startsWith("~") ? (Deno.env.get("HOME") ?? "/root") + path.slice(1) : path;
}

/**
 * Draw the training set of a run: class selection, seeded label noise, validation split.
 * Pure in the labels, so it can be recomputed or compared with a saved record.
 *
 * @example
 * ```ts
 * const record = drawTrainingSet(trainLabels, { classes: 2, label_noise: 0.2, ... });
 * ```
 */
export function drawTrainingSet(
  sourceLabels: Uint8Array,
  options: Pick<DataOptions, "classes" | "label_noise" | "val_split_prop" | "seed">,
): TrainingSetRecord {
  const selected = selectClasses(sourceLabels, options.classes);
  const original = Int32Array.from(selected, (i) => sourceLabels[i]);
  const rng = new Random(options.seed);
  const noisy = applyLabelNoise(original, options.classes, options.label_noise, rng);
  const { validation } = validationSplit(selected.length, options.val_split_prop, rng);
  const isValidation = new Uint8Array(selected.length);
  validation.forEach((position) => (isValidation[position] = 1));
  return {
    split: Array.from(isValidation, (v) => (v ? "validation" : "train")),
    sourceIndex: selected,
    labels: noisy,
    originalLabels: original,
  };
}

/**
 * Load the data of a run. With `record` (a run's saved training set) the very same samples and
 * labels are used; otherwise they are drawn from the flags.
 *
 * @example
 * ```ts
 * const data = await loadRunData({ dataset: "fashionmnist", data_dir: "~/data", classes: 2,
 *   label_noise: 0.2, val_split_prop: 0.2, seed: 6 });
 * console.log(data.train.count, data.validation.count, data.test.count);
 * ```
 */
export async function loadRunData(
  options: DataOptions,
  record?: TrainingSetRecord,
): Promise<RunData & { record: TrainingSetRecord }> {
  if (options.dataset !== "fashionmnist") {
    throw new Error(`dataset '${options.dataset}' is not implemented yet; use fashionmnist`);
  }
  const raw = await loadFashionMnist({ dataDir: expandHome(options.data_dir) });
  const trainingSet = record ?? drawTrainingSet(raw.train.labels, options);
  const pick = (which: "train" | "validation") => {
    const positions = trainingSet.split.flatMap((s, i) => (s === which ? [i] : []));
    return makeSplit(
      raw.train,
      Int32Array.from(positions, (p) => trainingSet.sourceIndex[p]),
      Int32Array.from(positions, (p) => trainingSet.labels[p]),
    );
  };
  const testIndex = selectClasses(raw.test.labels, options.classes);
  return {
    train: pick("train"),
    validation: pick("validation"),
    test: makeSplit(raw.test, testIndex, Int32Array.from(testIndex, (i) => raw.test.labels[i])),
    classes: options.classes,
    source: raw.source,
    record: trainingSet,
  };
}
