/**
 * A run's data: its training, validation and test splits as model inputs, with labels, original
 * labels and where each sample came from; built from the prepared dataset and the run's training
 * set (`loadRunData`).
 *
 * @module
 */
import type { LoadOptions } from "./acquire.ts";
import {
  loadPrepared,
  type PreparedDataset,
  type PreparedSplit,
  type PrepareOptions,
} from "./cache.ts";
import { selectClasses } from "./noise.ts";
import { type Normalization, normalizePixels } from "./preprocess.ts";
import { expandHome } from "./registry.ts";
import {
  checkRecordAgainst,
  drawTrainingSet,
  type TrainingSetOptions,
  type TrainingSetRecord,
} from "./training_set.ts";

/** Side length of every model input (inputs are 3 x 32 x 32). */
export const IMAGE_SIZE = 32;
/** Flattened input length, 3 * 32 * 32. */
export const INPUT_SIZE = 3 * IMAGE_SIZE * IMAGE_SIZE;

/**
 * A set of samples with their labels. `pixels` holds them as bytes (n x channels x 32 x 32);
 * `inputs`, the normalized floats, is computed on first use and kept: code that batches from
 * `pixels` with {@link gatherInputs} never pays for the float copy (600 MB for CIFAR-10's
 * training set).
 */
export interface Split {
  /** Normalized inputs, count x INPUT_SIZE, row-major. */
  readonly inputs: Float32Array;
  /** The images as bytes, count x channels x 32 x 32 (absent in splits built from floats). */
  pixels?: Uint8Array;
  /** 1 (grayscale: replicated to 3 channels when normalized) or 3; with `pixels`. */
  channels?: number;
  /** Applied to `pixels` to make `inputs`; with `pixels`. */
  normalization?: Normalization;
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
  /** Classes of the model: K, or 4 in the four-class problem. */
  classes: number;
  /** Directory the dataset files were read from. */
  source: string;
  /** Which training samples count as noisy (four-class problem: label > 1). */
  isNoisy: (label: number, originalLabel: number) => boolean;
}

/** Data flags that fix a run's samples (a subset of the training configuration). */
export interface DataOptions extends TrainingSetOptions {
  dataset: string;
  data_dir: string;
}

/**
 * A split of selected samples. `inputs` is a lazily computed, cached property.
 *
 * @example
 * ```ts
 * import { MNIST_NORMALIZATION } from "./preprocess.ts";
 * import type { PreparedDataset } from "./cache.ts";
 * declare const prepared: PreparedDataset, labels: Int32Array;
 * const split = makeSplit(prepared.test, Int32Array.from([0, 1]), labels, MNIST_NORMALIZATION);
 * split.inputs.length; // 2 * 3072
 * ```
 */
export function makeSplit(
  prepared: PreparedSplit,
  sourceIndex: Int32Array,
  labels: Int32Array,
  normalization: Normalization,
): Split {
  const rowLength = prepared.channels * IMAGE_SIZE * IMAGE_SIZE;
  const pixels = new Uint8Array(sourceIndex.length * rowLength);
  sourceIndex.forEach((source, i) =>
    pixels.set(
      prepared.pixels.subarray(source * rowLength, (source + 1) * rowLength),
      i * rowLength,
    )
  );
  let inputs: Float32Array | undefined;
  return {
    get inputs() {
      inputs ??= normalizePixels(
        pixels,
        sourceIndex.length,
        prepared.channels,
        IMAGE_SIZE,
        normalization,
      );
      return inputs;
    },
    pixels,
    channels: prepared.channels,
    normalization,
    labels,
    originalLabels: Int32Array.from(sourceIndex, (i) => prepared.labels[i]),
    sourceIndex,
    count: sourceIndex.length,
  };
}

/**
 * The normalized inputs of some samples of a split (rows `index`), from its bytes: what a
 * training loop gathers per batch when it does not hold the whole float set.
 *
 * @example
 * ```ts
 * declare const data: RunData;
 * const batch = gatherInputs(data.train, Int32Array.from([5, 2, 9])); // 3 * 3072 floats
 * ```
 */
export function gatherInputs(split: Split, index: ArrayLike<number>): Float32Array {
  if (!split.pixels || !split.channels || !split.normalization) {
    // A split built from floats: copy its rows.
    const out = new Float32Array(index.length * INPUT_SIZE);
    for (let i = 0; i < index.length; i++) {
      out.set(
        split.inputs.subarray(index[i] * INPUT_SIZE, (index[i] + 1) * INPUT_SIZE),
        i * INPUT_SIZE,
      );
    }
    return out;
  }
  const rowLength = split.channels * IMAGE_SIZE * IMAGE_SIZE;
  const rows = new Uint8Array(index.length * rowLength);
  for (let i = 0; i < index.length; i++) {
    rows.set(
      split.pixels.subarray(index[i] * rowLength, (index[i] + 1) * rowLength),
      i * rowLength,
    );
  }
  return normalizePixels(rows, index.length, split.channels, IMAGE_SIZE, split.normalization);
}

/**
 * Two splits as one (`first`'s samples, then `second`'s), e.g. the trained samples and the
 * validation part: every saved training sample, as the reference measures its training metrics.
 *
 * @example
 * ```ts
 * declare const data: RunData;
 * const all = concatSplits(data.train, data.validation);
 * all.count === data.train.count + data.validation.count; // true
 * ```
 */
export function concatSplits(first: Split, second: Split): Split {
  const join = <T extends Int32Array | Float32Array>(a: T, b: T, make: (n: number) => T): T => {
    const out = make(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const int = (n: number) => new Int32Array(n);
  let inputs: Float32Array | undefined;
  return {
    get inputs() {
      inputs ??= join(first.inputs, second.inputs, (n) => new Float32Array(n));
      return inputs;
    },
    labels: join(first.labels, second.labels, int),
    originalLabels: join(first.originalLabels, second.originalLabels, int),
    sourceIndex: join(first.sourceIndex, second.sourceIndex, int),
    count: first.count + second.count,
  };
}

/** A sample is noisy when its label differs from the dataset's. */
const labelDiffers = (label: number, originalLabel: number) => label !== originalLabel;
/** Four-class problem: a sample is noisy when it carries a latent class (label > 1). */
const latentClass = (label: number) => label > 1;

/**
 * Build a run's splits from a prepared dataset and a training-set record.
 *
 * @example
 * ```ts
 * import type { PreparedDataset } from "./cache.ts";
 * import type { TrainingSetRecord } from "./training_set.ts";
 * declare const prepared: PreparedDataset, record: TrainingSetRecord;
 * declare const options: Pick<DataOptions, "classes" | "fourclass_problem">;
 * const data = runDataFrom(prepared, record, options);
 * ```
 */
export function runDataFrom(
  prepared: PreparedDataset,
  record: TrainingSetRecord,
  options: Pick<DataOptions, "classes" | "fourclass_problem">,
): RunData {
  const normalization = prepared.info.normalization;
  const pick = (which: "train" | "validation") => {
    const positions = record.split.flatMap((s, i) => (s === which ? [i] : []));
    return makeSplit(
      prepared.train,
      Int32Array.from(positions, (p) => record.sourceIndex[p]),
      Int32Array.from(positions, (p) => record.labels[p]),
      normalization,
    );
  };
  // The test set keeps the selected classes and true labels, also in the four-class problem.
  const testIndex = selectClasses(prepared.test.labels, options.classes);
  return {
    train: pick("train"),
    validation: pick("validation"),
    test: makeSplit(
      prepared.test,
      testIndex,
      Int32Array.from(testIndex, (i) => prepared.test.labels[i]),
      normalization,
    ),
    classes: record.classes,
    source: prepared.source,
    isNoisy: options.fourclass_problem ? latentClass : labelDiffers,
  };
}

/**
 * Load the data of a run. With `record` (a run's saved training set) the very same samples and
 * labels are used (checked against the dataset); otherwise they are drawn from the flags.
 * `load` passes loader options (cache directory, system directories, download, verify).
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
  load: Partial<PrepareOptions> = {},
): Promise<RunData & { record: TrainingSetRecord; prepared: PreparedDataset }> {
  const prepared = await loadPrepared(options.dataset, {
    ...load,
    dataDir: expandHome(load.dataDir ?? options.data_dir),
  } as LoadOptions);
  if (record) checkRecordAgainst(record, prepared.train.labels, "the saved training set");
  const trainingSet = record ?? drawTrainingSet(prepared.train.labels, options);
  return { ...runDataFrom(prepared, trainingSet, options), record: trainingSet, prepared };
}
