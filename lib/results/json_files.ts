/**
 * JSON documents of runs and sweeps, written atomically.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import { readJsonFile } from "../io/json.ts";

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
