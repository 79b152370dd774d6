/**
 * The paper's experiments, for the notebooks and `deno task reproduce`: the noise sweep of the
 * memorization-dilation notebook (CE vs LS over label noise), conventional label noise per
 * dataset, the latent noise class (four-class problem) and large-scale runs (NC metrics over
 * epochs). Each is a sweep of runs (lib/sweep) with its tables and figures.
 *
 * @module
 */
export * from "./compare_losses.ts";
export * from "./comparison_prose.ts";
export * from "./noise_summary_figures.ts";
export * from "./read_sweep_run.ts";
export * from "./experiments.ts";
export * from "./latent_class.ts";
export * from "./pairwise.ts";
export * from "./findings.ts";
export { failureReport } from "../sweep/sweep.ts";
export { summaryTable } from "../sweep/seed_summary.ts";
