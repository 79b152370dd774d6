/**
 * A run's training set, drawn from the data flags with the reference's semantics (docs/reference.md#data)
 * and saved in the run directory so evaluation and reruns see the very same samples.
 *
 * Order of operations: class selection (labels 0..K-1); label noise (scalar, or per class followed
 * by class balancing); the four-class problem's latent classes; `sample_size` (first n samples of
 * each label); the validation split (the first floor(p N) positions of a seeded shuffle). In the
 * four-class problem `sample_size` comes before the move to the latent classes (n of each of the
 * two labels, then each moves with probability `fc_noise_degree`): after it, every one of the four
 * labels would be cut to the same n and every degree would train on half latent samples. Every
 * random draw comes from one generator seeded with `seed`.
 *
 * @module
 */
import {
  applyLabelNoise,
  balanceClasses,
  firstPerLabel,
  moveToLatentClasses,
  selectClasses,
  validationSplit,
} from "./noise.ts";
import { Random } from "./random.ts";

/** The data flags that fix a run's training set (the reference's names). */
export interface TrainingSetOptions {
  classes: number;
  /** Scalar rate, or one rate per class. */
  label_noise: number | readonly number[];
  val_split_prop: number;
  seed: number;
  /**
   * Keep the first sample_size samples of each (noisy) label; null or absent: all. In the
   * four-class problem: of each of the two labels, before the move to the latent classes.
   */
  sample_size?: number | null;
  fourclass_problem?: boolean;
  fc_noise_degree?: number;
}

/** Which samples a run trained on, with their labels: saved in the run directory. */
export interface TrainingSetRecord {
  split: ("train" | "validation")[];
  /** Index of each sample in the source dataset's train split. */
  sourceIndex: Int32Array;
  /** Labels trained on (noisy; in the four-class problem possibly a latent class 2 or 3). */
  labels: Int32Array;
  /** The dataset's labels. */
  originalLabels: Int32Array;
  /** Source labels the run selected (0..K-1), as the reference saves them. */
  selectedLabels: number[];
  /** Classes of the trained model: K, or in the four-class problem the largest label + 1. */
  classes: number;
}

function pick(values: Int32Array, positions: Int32Array): Int32Array {
  return Int32Array.from(positions, (p) => values[p]);
}

/**
 * Draw the training set of a run. Pure in the labels and options, so it can be recomputed or
 * compared with a saved record.
 *
 * @example
 * ```ts
 * declare const trainLabels: Int32Array;
 * const record = drawTrainingSet(trainLabels, {
 *   classes: 2, label_noise: [0.1, 0.3], val_split_prop: 0.2, seed: 6,
 * });
 * ```
 */
export function drawTrainingSet(
  sourceLabels: ArrayLike<number>,
  options: TrainingSetOptions,
): TrainingSetRecord {
  const K = options.classes;
  let sourceIndex: Int32Array = selectClasses(sourceLabels, K);
  let original: Int32Array = Int32Array.from(sourceIndex, (i) => sourceLabels[i]);
  const rng = new Random(options.seed);
  let labels: Int32Array = applyLabelNoise(original, K, options.label_noise, rng);
  const keepOnly = (positions: Int32Array) => {
    sourceIndex = pick(sourceIndex, positions);
    original = pick(original, positions);
    labels = pick(labels, positions);
  };
  if (typeof options.label_noise !== "number") keepOnly(balanceClasses(labels, K));
  if (options.sample_size) keepOnly(firstPerLabel(labels, options.sample_size));
  if (options.fourclass_problem) {
    if (K !== 2) throw new Error(`the four-class problem needs 2 classes, got ${K}`);
    labels = moveToLatentClasses(labels, options.fc_noise_degree ?? 0.5, rng);
  }
  if (labels.length === 0) {
    throw new Error(
      `the training set is empty (classes ${K}, label_noise ${options.label_noise}, ` +
        `sample_size ${options.sample_size ?? "all"}): check the data flags`,
    );
  }
  const { validation } = validationSplit(labels.length, options.val_split_prop, rng);
  const isValidation = new Uint8Array(labels.length);
  validation.forEach((position) => (isValidation[position] = 1));
  return {
    split: Array.from(isValidation, (v) => (v ? "validation" : "train")),
    sourceIndex,
    labels,
    originalLabels: original,
    selectedLabels: Array.from({ length: K }, (_, k) => k),
    // The reference takes the largest label + 1 in the four-class problem (4 unless no sample
    // moved, e.g. fc_noise_degree 0).
    classes: options.fourclass_problem ? Math.max(...labels) + 1 : K,
  };
}

/**
 * Check that a saved training set belongs to the dataset found now: every index exists and its
 * label is the saved original label. A mismatch is an error naming `where`.
 *
 * @example
 * ```ts
 * declare const record: TrainingSetRecord, trainLabels: Int32Array;
 * checkRecordAgainst(record, trainLabels, "results/runs/my_run/training_set.parquet");
 * ```
 */
export function checkRecordAgainst(
  record: TrainingSetRecord,
  sourceLabels: ArrayLike<number>,
  where: string,
): void {
  for (let i = 0; i < record.sourceIndex.length; i++) {
    const index = record.sourceIndex[i];
    if (
      index < 0 || index >= sourceLabels.length || sourceLabels[index] !== record.originalLabels[i]
    ) {
      throw new Error(
        `${where}: sample ${index} (row ${i}) ${
          index >= sourceLabels.length
            ? "is beyond the dataset"
            : "has another label in the dataset"
        }; the saved training set was drawn from a different copy or version of the dataset`,
      );
    }
  }
}
