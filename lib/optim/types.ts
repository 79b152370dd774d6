/**
 * The interface of the first-order optimizers and their saved state.
 *
 * @module
 */
import type { tf } from "../backend/mod.ts";

/** A parameter with its saved name. */
export interface NamedParameter {
  name: string;
  variable: tf.Variable;
}

/** A named float32 tensor of optimizer state (saved in checkpoints). */
export interface StateTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A first-order optimizer: one update from gradients, with saveable state. */
export interface Optimizer {
  /** Update every variable of `gradients` with learning rate `lr`. */
  step(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void;
  /** The state (momentum buffers, moments, step counts), named `<parameter>/<buffer>`. */
  exportState(parameters: NamedParameter[]): Promise<StateTensor[]>;
  /** Restore state saved by {@link Optimizer.exportState} for the same parameters. */
  importState(parameters: NamedParameter[], values: Map<string, Float32Array>): void;
  dispose(): void;
}
