/**
 * Optimizers and learning-rate schedules (docs/reference.md#losses-and-optimization): SGD with
 * momentum and Adam, both with coupled weight decay, L-BFGS with a strong-Wolfe line search, and
 * the step and multistep schedules.
 *
 * @module
 */
export * from "./adam.ts";
export * from "./first_order_optimizer.ts";
export * from "./lbfgs.ts";
export * from "./schedule.ts";
export * from "./sgd.ts";
export * from "./types.ts";
