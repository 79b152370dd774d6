/**
 * Per-epoch checkpoints of large-scale runs (format and atomic writes: checkpoint.ts).
 *
 * @module
 */
export * from "./checkpoint.ts";
