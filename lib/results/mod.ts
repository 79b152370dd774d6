/**
 * Result tables as polars DataFrames, written as Parquet atomically.
 *
 * @module
 */
import pl from "nodejs-polars";
import { writeFileAtomic } from "../io/atomic.ts";

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
 * Build a DataFrame from plain row objects; a key missing from a row is null there.
 *
 * @example
 * ```ts
 * const frame = rowsToFrame([{ epoch: 1, loss: 0.5 }, { epoch: 2, loss: 0.4 }]);
 * ```
 */
export function rowsToFrame(rows: Record<string, unknown>[]): DataFrame {
  if (rows.length === 0) return pl.DataFrame({});
  const columns: Record<string, unknown[]> = {};
  const keys = new Set(rows.flatMap((row) => Object.keys(row)));
  for (const key of keys) columns[key] = rows.map((row) => row[key] ?? null);
  return pl.DataFrame(columns);
}

/**
 * Write a JSON document atomically. JSON has no NaN or infinities: they are written as the
 * strings "NaN", "Infinity" and "-Infinity" (read back as numbers by {@link readJson}), so a
 * metric that came out NaN stays distinguishable from null, "not applicable".
 *
 * @example
 * ```ts
 * await writeJsonAtomic("results/summary.json", { dilation: 0.3 });
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(
    value,
    (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
    2,
  );
  await writeFileAtomic(path, text + "\n");
}

const NON_FINITE: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
};

/**
 * Read a JSON document written by {@link writeJsonAtomic}, with "NaN", "Infinity" and
 * "-Infinity" back as numbers.
 *
 * @example
 * ```ts
 * const metrics = readJson("results/runs/my_run/metrics.json") as Record<string, unknown>;
 * ```
 */
export function readJson(path: string): unknown {
  return JSON.parse(
    Deno.readTextFileSync(path),
    (_key, v) => (typeof v === "string" && v in NON_FINITE ? NON_FINITE[v] : v),
  );
}
