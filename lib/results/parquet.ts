/**
 * Result tables written as Parquet atomically and read back with an error naming a missing file.
 *
 * @module
 */
import pl from "nodejs-polars";
import { writeFileAtomic } from "../io/atomic.ts";
import type { DataFrame } from "./data_frame.ts";

/**
 * Write a DataFrame as Parquet under a temporary name, then rename it into place.
 *
 * @example
 * ```ts
 * import { pl } from "./data_frame.ts";
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
