/**
 * The order a reader of a results table wants its columns in.
 *
 * @module
 */

/**
 * The columns a reader of a results table looks for first, in this order: what was varied
 * (dataset, model, loss, noise, seed, ...) and the headline metrics (also as `_mean` over seeds).
 */
export const READER_COLUMNS: readonly string[] = [
  "dataset",
  "model",
  "loss",
  "label_noise",
  "fc_noise_degree",
  "fourclass_twofeatures",
  "seed",
  "seeds",
  "epochs",
  "test_acc",
  "test_acc_mean",
  "test_acc_pct",
  "test_acc_pct_mean",
  "train_acc",
  "train_acc_pct",
  "train_acc_pct_mean",
  "nc1_train",
  "nc1_train_mean",
  "dilation_train",
  "dilation_train_mean",
  "memorization_train",
  "memorization_train_mean",
];

/**
 * Column names with {@link READER_COLUMNS} first (those present, in that order), then the
 * others in their order.
 *
 * @example
 * ```ts
 * readerOrder(["uid", "nc1_train", "loss"]); // ["loss", "nc1_train", "uid"]
 * ```
 */
export function readerOrder(columns: readonly string[]): string[] {
  const first = READER_COLUMNS.filter((name) => columns.includes(name));
  return [...first, ...columns.filter((name) => !first.includes(name))];
}
