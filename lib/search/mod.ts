/**
 * Hyperparameter search: the reference's random search and a TPE Bayesian optimizer over a
 * search space, early stopping by ASHA on per-epoch validation accuracy, bounded concurrency on
 * a local or Slurm executor, a resumable trial table, figures, and the best configuration
 * retrained and tested.
 *
 * @example
 * ```ts
 * import { runSearch } from "./mod.ts";
 * const result = await runSearch({
 *   name: "tiny", base: { epochs: 4, width: 16, depth: 2, loss: "LS", backend: "wasm" },
 *   algorithm: "random_search", trials: 12, resultsDir: "results/ho/tiny", concurrency: 2,
 * });
 * console.log(result.best?.result.test_acc);
 * ```
 *
 * @module
 */
export * from "./space.ts";
export * from "./tpe.ts";
export * from "./asha.ts";
export * from "./trials.ts";
export * from "./search.ts";
