/**
 * Result tables as polars DataFrames, built from rows or columns with one convention for missing
 * values and integer columns.
 *
 * @module
 */
import pl from "nodejs-polars";

export { pl };

/** A polars DataFrame. */
export type DataFrame = pl.DataFrame;

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
