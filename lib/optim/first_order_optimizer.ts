/**
 * The `--optimizer` names and the first-order optimizer a name stands for.
 *
 * @module
 */
import { Adam } from "./adam.ts";
import { Sgd } from "./sgd.ts";
import type { Optimizer } from "./types.ts";

/** The `--optimizer` values. */
export const OPTIMIZER_NAMES = ["SGD", "Adam", "LBFGS"] as const;
/** An optimizer name. */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/**
 * The first-order optimizer `name` with coupled weight decay `weightDecay` (L-BFGS is not a
 * per-gradient optimizer: use `Lbfgs`).
 *
 * @example
 * ```ts
 * const optimizer = firstOrderOptimizer("Adam", 5e-4);
 * ```
 */
export function firstOrderOptimizer(name: OptimizerName, weightDecay: number): Optimizer {
  if (name === "SGD") return new Sgd(weightDecay);
  if (name === "Adam") return new Adam(weightDecay);
  throw new Error(`${name} is not a first-order optimizer: use SGD or Adam`);
}
