/**
 * The paper's comparison, computed from one row per run: the memorization check (did every run
 * fit its noisy labels?), the reference's sum measure of memorization, treatment - reference
 * dilation and test accuracy at matched memorization, the trade-off's slopes and excess
 * dilation, paired t-intervals, p-values and Holm's correction over seeds, the three-part verdict
 * and its figures. Generic over the pair of losses compared (LS against CE by default). Pure
 * functions on plain rows: no tensors, no files.
 *
 * @example
 * ```ts
 * import { endpointTable, formatVerdictTable, pairRuns, seedTradeOffs, verdictTable } from "./mod.ts";
 * const runs = [{ loss: "LS", label_noise: 0, seed: 1, memorization: 0, memorization_per_sample: NaN,
 *   dilation: 0.2, clean_mean_square: 0.05, clean_centroid_distance: 3, test_acc: 0.99 }];
 * const paired = pairRuns(runs);
 * console.log(formatVerdictTable(verdictTable(endpointTable(seedTradeOffs(runs, paired), paired))));
 * ```
 *
 * @module
 */
export * from "./paired_comparison.ts";
export * from "./comparison_figures.ts";
export * from "./holm.ts";
export * from "./interpolate.ts";
export * from "./least_squares.ts";
export * from "./level_summary.ts";
export * from "./memorized.ts";
export * from "./reference_memorization.ts";
export * from "./t_interval.ts";
