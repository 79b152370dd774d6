/**
 * Experiments: one simple-model run end to end, its evaluation, and the noise sweep.
 *
 * @module
 */
export * from "./evaluate.ts";
export * from "./run.ts";
