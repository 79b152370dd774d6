/**
 * A finished run of a sweep read back from its run directory: its tables and figures.
 *
 * @module
 */
import { join } from "node:path";
import { type DataFrame, readParquet } from "../results/mod.ts";
import { RUN_FILES } from "../runs/mod.ts";
import type { SweepRun } from "../sweep/sweep.ts";

/** A finished run of a sweep, read back from its run directory. */
export interface SweepRunResult {
  uid: string;
  dir: string;
  /** True when the run was finished before this sweep and reused. */
  reused: boolean;
  history: DataFrame;
  /** One row: the configuration and the final metrics. */
  metrics: DataFrame;
  /** Paths of the run's figures, by name (each with .vl.json, .svg, .png). */
  figures: Record<string, string>;
}

/**
 * The figures saved in a run directory's `figures/`, by name (paths without extension).
 *
 * @example
 * ```ts
 * runFigures("results/runs/x"); // { features_train: "results/runs/x/figures/features_train", ... }
 * ```
 */
export function runFigures(dir: string): Record<string, string> {
  const figures: Record<string, string> = {};
  try {
    for (const entry of Deno.readDirSync(join(dir, "figures"))) {
      if (entry.isFile && entry.name.endsWith(".vl.json")) {
        const name = entry.name.slice(0, -".vl.json".length);
        figures[name] = join(dir, "figures", name);
      }
    }
  } catch { /* no figures */ }
  return figures;
}

/**
 * Read back a finished run of a sweep.
 *
 * @example
 * ```ts
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const result: SweepResult;
 * const run = readSweepRun(result.runs[0]);
 * ```
 */
export function readSweepRun(run: Pick<SweepRun, "uid" | "dir" | "status">): SweepRunResult {
  return {
    uid: run.uid,
    dir: run.dir,
    reused: run.status === "reused",
    history: readParquet(join(run.dir, RUN_FILES.history)),
    metrics: readParquet(join(run.dir, RUN_FILES.metrics)),
    figures: runFigures(run.dir),
  };
}
