/**
 * Sweeps: a typed list of run configurations (a grid over any flag), run with bounded
 * parallelism in worker subprocesses, finished runs reused, failures reported without stopping
 * the others, progress shown as a terminal bar or a live Jupyter display, and a summary over
 * seeds.
 *
 * @example
 * ```ts
 * import { grid, type RunnerRegistry, runSweep } from "./mod.ts";
 * declare const RUNNERS: RunnerRegistry; // memdil's: lib/experiment/runners/runner_registry.ts
 * const result = await runSweep({
 *   name: "ce_vs_ls",
 *   resultsDir: "results/ce_vs_ls",
 *   runs: grid({ epochs: 2, width: 32, depth: 3, backend: "wasm" }, {
 *     loss: ["CrossEntropy", "LS"],
 *     label_noise: [0, 0.2],
 *     seed: [1, 2],
 *   }),
 * }, { registry: RUNNERS });
 * console.log(result.overSeeds);
 * ```
 *
 * @module
 */
export * from "./grid.ts";
export * from "./runner.ts";
export * from "./pool.ts";
export * from "./progress.ts";
export * from "./seed_summary.ts";
export * from "./columns.ts";
export * from "./sweep.ts";
export * from "./file.ts";
export * from "./executor.ts";
export * from "./executor_slurm.ts";
export {
  decodeMessage,
  encodeMessage,
  MESSAGE_PREFIX,
  type WorkerJob,
  type WorkerMessage,
} from "./worker_main.ts";
