/**
 * Adam with coupled weight decay, as torch.optim.Adam(betas=(0.9, 0.999), eps=1e-8,
 * weight_decay=wd): the decay is added to the gradient before the moments (not AdamW).
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { adamStepInPlace, canStepInPlace } from "../backend/optimizer_steps.ts";
import type { NamedParameter, Optimizer, StateTensor } from "./types.ts";

interface Moments {
  first: tf.Variable;
  second: tf.Variable;
  step: number;
}

/** Adam with the weight decay added to the gradient. */
export class Adam implements Optimizer {
  readonly beta1 = 0.9;
  readonly beta2 = 0.999;
  readonly epsilon = 1e-8;
  #moments = new Map<tf.Variable, Moments>();
  constructor(readonly weightDecay: number) {}

  /**
   * One update per variable: g' = g + wd theta; m = b1 m + (1 - b1) g';
   * v = b2 v + (1 - b2) g'^2; t += 1;
   * theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). On the native CPU backend
   * the update is one pass over the parameter and moment storage, in place.
   *
   * @example
   * ```ts
   * import { tf } from "../backend/mod.ts";
   * declare const weight: tf.Variable, gradient: tf.Tensor;
   * const adam = new Adam(5e-4);
   * adam.step(new Map([[weight, gradient]]), 1e-3);
   * ```
   */
  step(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void {
    if (canStepInPlace([...gradients].flat())) {
      this.#stepInPlace(gradients, lr);
      return;
    }
    tf.tidy(() => {
      for (const [variable, gradient] of gradients) {
        const g = this.weightDecay
          ? tf.add(gradient, tf.mul(variable, this.weightDecay))
          : gradient;
        let state = this.#moments.get(variable);
        if (!state) {
          state = {
            first: tf.variable(tf.zerosLike(variable), false),
            second: tf.variable(tf.zerosLike(variable), false),
            step: 0,
          };
          this.#moments.set(variable, state);
        }
        state.step += 1;
        state.first.assign(tf.add(tf.mul(state.first, this.beta1), tf.mul(g, 1 - this.beta1)));
        state.second.assign(
          tf.add(tf.mul(state.second, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)),
        );
        const correction1 = 1 - this.beta1 ** state.step;
        const correction2 = 1 - this.beta2 ** state.step;
        const denominator = tf.add(
          tf.div(tf.sqrt(state.second), Math.sqrt(correction2)),
          this.epsilon,
        );
        variable.assign(
          tf.sub(variable, tf.mul(tf.div(state.first, denominator), lr / correction1)),
        );
      }
    });
  }

  #stepInPlace(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this;
    for (const [variable, gradient] of gradients) {
      let state = this.#moments.get(variable);
      if (!state) {
        state = tf.tidy(() => ({
          first: tf.variable(tf.zerosLike(variable), false),
          second: tf.variable(tf.zerosLike(variable), false),
          step: 0,
        }));
        this.#moments.set(variable, state);
      }
      state.step += 1;
      adamStepInPlace(variable, state.first, state.second, gradient, {
        beta1,
        beta2,
        epsilon,
        weightDecay,
        stepSize: lr / (1 - beta1 ** state.step),
        rootCorrection2: Math.sqrt(1 - beta2 ** state.step),
      });
    }
  }

  /**
   * Moments and step counts as `<parameter>/exp_avg`, `/exp_avg_sq`, `/step`.
   *
   * @example
   * ```ts
   * import type { Model } from "../models/mod.ts";
   * declare const adam: Adam, model: Model;
   * const tensors = await adam.exportState(model.trainable());
   * ```
   */
  async exportState(parameters: NamedParameter[]): Promise<StateTensor[]> {
    const saved: StateTensor[] = [];
    for (const { name, variable } of parameters) {
      const state = this.#moments.get(variable);
      if (!state) continue;
      // Asynchronous reads: WebGPU under Deno has no synchronous read-back.
      saved.push(
        {
          name: `${name}/exp_avg`,
          shape: variable.shape,
          values: await state.first.data() as Float32Array,
        },
        {
          name: `${name}/exp_avg_sq`,
          shape: variable.shape,
          values: await state.second.data() as Float32Array,
        },
        { name: `${name}/step`, shape: [1], values: Float32Array.of(state.step) },
      );
    }
    return saved;
  }

  /**
   * Restore state saved by {@link Adam.exportState}.
   *
   * @example
   * ```ts
   * import type { Model } from "../models/mod.ts";
   * declare const adam: Adam, model: Model, values: Map<string, Float32Array>;
   * adam.importState(model.trainable(), values);
   * ```
   */
  importState(parameters: NamedParameter[], values: Map<string, Float32Array>): void {
    this.dispose();
    for (const { name, variable } of parameters) {
      const first = values.get(`${name}/exp_avg`);
      const second = values.get(`${name}/exp_avg_sq`);
      const step = values.get(`${name}/step`);
      if (!first || !second || !step) continue;
      if (first.length !== variable.size || second.length !== variable.size) {
        throw new Error(`optimizer state of '${name}' has the wrong size`);
      }
      this.#moments.set(variable, {
        first: tf.variable(tf.tensor(first, variable.shape), false),
        second: tf.variable(tf.tensor(second, variable.shape), false),
        step: step[0],
      });
    }
  }

  /** Release the moment buffers. */
  dispose(): void {
    this.#moments.forEach((m) => {
      m.first.dispose();
      m.second.dispose();
    });
    this.#moments.clear();
  }
}
