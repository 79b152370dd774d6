/**
 * The training loop (train_model.ts) and a model's predictions on a whole split (predict.ts).
 *
 * @module
 */
export * from "./predict.ts";
export * from "./train_model.ts";
// The optimizer and schedule moved to lib/optim; re-exported for existing callers.
export { Sgd, stepDecayLr } from "../optim/mod.ts";
