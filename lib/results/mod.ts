/**
 * Result tables as polars DataFrames, written as Parquet atomically.
 *
 * @module
 */
import pl from "nodejs-polars";
import { writeFileAtomic } from "../io/atomic.ts";
import { readJsonFile } from "../io/json.ts";

export { pl };

/** A polars DataFrame. */
export type DataFrame = pl.DataFrame;

/**
 * Write a DataFrame as Parquet under a temporary name, then rename it into place.
 *
 * @example
 * ```ts
 * await writeParquetAtomic(pl.DataFrame({ a: [1, 2] }), "results/table.parquet");
 * ```
 */
export async function writeParquetAtomic(frame: DataFrame, path: string): Promise<void> {
  await writeFileAtomic(path, new Uint8Array(frame.writeParquet()));
}

/**
 * Read a Parquet file into a DataFrame, with an error naming the file when it is missing.
 *
 * @example
 * ```ts
 * const history = readParquet("results/runs/my_run/history.parquet");
 * ```
 */
export function readParquet(path: string): DataFrame {
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(`${path} not found: was the run finished? (rerun it, or pass --force)`);
  }
  return pl.readParquet(path);
}

/**
 * Columns that count or index things: stored as integers when every value is a whole number
 * (configuration fields such as `seed` and `epochs`, epoch numbers, labels, sample counts).
 * Means and standard deviations over seeds (`_mean`, `_std`) are never integers, so a column's
 * type depends on its name only, never on the values of one table.
 */
const INTEGER_COLUMN =
  /^(seed|seeds|classes|epochs?|width|depth|batch_size|patience|sample_size|fixdim|history_size|eval_every|gpu_id|index|label|original_label|class|rows|cols|runs|n)$|_count(_(?!.*_(mean|std)$)|$)/;

/**
 * Build a DataFrame from plain row objects. One missing-value convention: a key missing from a
 * row, null, and NaN (a metric that could not be measured, e.g. memorization without noisy
 * samples) are all null. Counting and indexing columns ({@link INTEGER_COLUMN}) whose values are
 * all whole numbers are Int64, so a seed reads 42, not 42.0.
 *
 * @example
 * ```ts
 * const frame = rowsToFrame([{ epoch: 1, loss: 0.5 }, { epoch: 2, loss: NaN }]);
 * // epoch: i64 [1, 2]; loss: f64 [0.5, null]
 * ```
 */
export function rowsToFrame(rows: Record<string, unknown>[]): DataFrame {
  if (rows.length === 0) return pl.DataFrame({});
  const keys = new Set(rows.flatMap((row) => Object.keys(row)));
  return columnsToFrame(
    Object.fromEntries([...keys].map((key) => [key, rows.map((row) => row[key])])),
  );
}

/**
 * Build a DataFrame from named columns, with the conventions of {@link rowsToFrame} (null for
 * missing and NaN values, counting and indexing columns as Int64).
 *
 * @example
 * ```ts
 * const frame = columnsToFrame({ index: [4, 9], f0: [0.5, NaN] }); // index: i64; f0: [0.5, null]
 * ```
 */
export function columnsToFrame(columns: Record<string, readonly unknown[]>): DataFrame {
  const series = Object.entries(columns).map(([key, column]) => {
    const values = column.map((value) =>
      value === undefined || (typeof value === "number" && Number.isNaN(value)) ? null : value
    );
    const present = values.filter((value) => value !== null);
    const whole = present.length > 0 &&
      present.every((value) => typeof value === "number" && Number.isInteger(value));
    return whole && INTEGER_COLUMN.test(key)
      ? pl.Series(key, values, pl.Int64)
      : pl.Series(key, values);
  });
  return pl.DataFrame(series);
}

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

/**
 * Write a JSON document atomically (NaN and infinities as null, as JSON requires).
 *
 * @example
 * ```ts
 * await writeJsonAtomic("results/summary.json", { dilation: 0.3 });
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(
    value,
    (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
    2,
  );
  await writeFileAtomic(path, text + "\n");
}

/**
 * Read a JSON document (a run's `args.json`, `metrics.json`).
 *
 * @example
 * ```ts
 * const metrics = readJson("results/runs/my_run/metrics.json") as Record<string, unknown>;
 * ```
 */
export function readJson(path: string): unknown {
  return readJsonFile(path);
}
