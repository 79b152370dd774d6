/**
 * Training losses on logits (docs/reference.md#losses-and-optimization): cross-entropy, label
 * smoothing, label relaxation, MSE, the separated feature decay, and the loss a run's settings
 * name (`losses.ts`).
 *
 * @module
 */
export * from "./losses.ts";
