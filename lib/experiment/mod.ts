/**
 * Experiments: one simple-model run end to end, its evaluation, and the noise sweep.
 *
 * @module
 */
export * from "./comparison.ts";
export * from "./evaluate.ts";
export * from "./run.ts";
export * from "./sweep.ts";
