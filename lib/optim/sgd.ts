/**
 * SGD with momentum and coupled weight decay, as torch.optim.SGD(momentum=0.9, weight_decay=wd).
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { activeBlas } from "../backend/blas_backend.ts";
import { heapView, onHeap, writableView } from "../backend/wasm_heap.ts";
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
   * const sgd = new Sgd(5e-4);
   * sgd.step(new Map([[weight, gradient]]), 0.1);
   * ```
   */
  step(gradients: Map<tf.Variable, tf.Tensor>, lr: number): void {
    const native = activeBlas();
    if (
      native &&
      [...gradients].every(([v, g]) => onHeap(native.backend, v) && onHeap(native.backend, g))
    ) {
      this.#stepInPlace(native, gradients, lr);
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

  #stepInPlace(
    { blas, backend }: NonNullable<ReturnType<typeof activeBlas>>,
    gradients: Map<tf.Variable, tf.Tensor>,
    lr: number,
  ): void {
    for (const [variable, gradient] of gradients) {
      let velocity = this.#velocity.get(variable);
      if (!velocity) {
        // Zero momentum: the first update below leaves v = g', as torch initialises it.
        velocity = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        this.#velocity.set(variable, velocity);
      }
      // Allocate (copies of shared storage) before taking views: allocation may grow the heap.
      writableView(backend, velocity);
      writableView(backend, variable);
      const n = variable.size;
      const theta = heapView(backend, variable);
      const v = heapView(backend, velocity);
      const g = heapView(backend, gradient);
      if (this.weightDecay) {
        blas.saxpby(n, this.weightDecay, theta, this.momentum, v); // v = momentum v + wd theta
        blas.saxpy(n, 1, g, v); // v += g
      } else {
        blas.saxpby(n, 1, g, this.momentum, v); // v = momentum v + g
      }
      blas.saxpy(n, -lr, v, theta); // theta -= lr v
    }
  }

  /**
   * Momentum buffers as `<parameter>/momentum_buffer` (absent before the first step).
   *
   * @example
   * ```ts
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
