/**
 * SGD with momentum and coupled weight decay, as torch.optim.SGD(momentum=0.9, weight_decay=wd).
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { canStepInPlace, sgdStepInPlace } from "../backend/optimizer_steps.ts";
import type { NamedParameter, Optimizer, StateTensor } from "./types.ts";

/** SGD with momentum 0.9 and weight decay added to the gradient, as torch.optim.SGD. */
export class Sgd implements Optimizer {
  readonly momentum = 0.9;
  #velocity = new Map<tf.Variable, tf.Variable>();
  constructor(readonly weightDecay: number) {}

  /**
   * Apply one update: g' = g + wd theta; v = momentum v + g' (v = g' on the first step, as
   * torch initialises the buffer); theta -= lr v. On the native CPU backend the update runs in
   * place on the parameter and momentum storage, in three BLAS passes (two without decay)
   * instead of six tensor ops that each allocate a new tensor.
   *
   * @example
   * ```ts
   * import { tf } from "../backend/mod.ts";
   * declare const weight: tf.Variable, gradient: tf.Tensor;
   * const sgd = new Sgd(5e-4);
   * sgd.step(new Map([[weight, gradient]]), 0.1);
   * ```
   */
  step(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void {
    if (canStepInPlace([...gradients].flat())) {
      this.#stepInPlace(gradients, lr);
      return;
    }
    tf.tidy(() => {
      for (const [variable, gradient] of gradients) {
        const decayed = this.weightDecay
          ? tf.add(gradient, tf.mul(variable, this.weightDecay))
          : gradient;
        let velocity = this.#velocity.get(variable);
        if (!velocity) {
          velocity = tf.variable(decayed, false);
          this.#velocity.set(variable, velocity);
        } else {
          velocity.assign(tf.add(tf.mul(velocity, this.momentum), decayed));
        }
        variable.assign(tf.sub(variable, tf.mul(velocity, lr)));
      }
    });
  }

  #stepInPlace(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void {
    const step = { lr, momentum: this.momentum, weightDecay: this.weightDecay };
    for (const [variable, gradient] of gradients) {
      let velocity = this.#velocity.get(variable);
      if (!velocity) {
        // Zero momentum: the first update below leaves v = g', as torch initialises it.
        velocity = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        this.#velocity.set(variable, velocity);
      }
      sgdStepInPlace(variable, velocity, gradient, step);
    }
  }

  /**
   * Momentum buffers as `<parameter>/momentum_buffer` (absent before the first step).
   *
   * @example
   * ```ts
   * import type { Model } from "../models/mod.ts";
   * declare const sgd: Sgd, model: Model;
   * const tensors = await sgd.exportState(model.trainable());
   * ```
   */
  async exportState(parameters: NamedParameter[]): Promise<StateTensor[]> {
    const saved: StateTensor[] = [];
    for (const { name, variable } of parameters) {
      const velocity = this.#velocity.get(variable);
      if (!velocity) continue;
      // Asynchronous reads: WebGPU under Deno has no synchronous read-back.
      const values = await velocity.data() as Float32Array;
      saved.push({ name: `${name}/momentum_buffer`, shape: velocity.shape, values });
    }
    return saved;
  }

  /**
   * Restore momentum buffers saved by {@link Sgd.exportState}.
   *
   * @example
   * ```ts
   * import type { Model } from "../models/mod.ts";
   * declare const sgd: Sgd, model: Model, values: Map<string, Float32Array>;
   * sgd.importState(model.trainable(), values);
   * ```
   */
  importState(parameters: NamedParameter[], values: Map<string, Float32Array>): void {
    this.dispose();
    for (const { name, variable } of parameters) {
      const saved = values.get(`${name}/momentum_buffer`);
      if (!saved) continue;
      if (saved.length !== variable.size) {
        throw new Error(`optimizer state '${name}/momentum_buffer' has the wrong size`);
      }
      this.#velocity.set(variable, tf.variable(tf.tensor(saved, variable.shape), false));
    }
  }

  /** Release the momentum buffers. */
  dispose(): void {
    this.#velocity.forEach((v) => v.dispose());
    this.#velocity.clear();
  }
}
