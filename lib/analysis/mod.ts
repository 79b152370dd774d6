/**
 * The paper's comparison, computed from one row per run: the memorization check (did every run
 * fit its noisy labels?), LS minus CE dilation and test accuracy at matched memorization with
 * paired t-intervals over seeds, raw and scale-free, and the verdict table. Pure functions on
 * plain rows: no tensors, no files.
 *
 * @example
 * ```ts
 * import { differenceTable, formatVerdictTable, pairRuns, verdictTable } from "./mod.ts";
 * const runs = [{ loss: "LS", label_noise: 0, seed: 1, memorization: NaN, dilation: 0.2,
 *   clean_centroid_distance: 3, test_acc: 0.99 }];
 * console.log(formatVerdictTable(verdictTable(differenceTable(pairRuns(runs)))));
 * ```
 *
 * @module
 */
export * from "./comparison.ts";
export * from "./comparison_figures.ts";
export * from "./interpolate.ts";
export * from "./memorized.ts";
export * from "./t_interval.ts";
