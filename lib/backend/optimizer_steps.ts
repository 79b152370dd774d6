/**
 * Optimizer updates fused and in place on the native CPU backend: the parameter, its optimizer
 * state and its gradient are read and written where they live, in the WebAssembly heap, instead
 * of by tensor ops that each allocate a new tensor. The optimizers (lib/optim) call these when
 * {@link canStepInPlace} says every tensor of the step is on the native heap.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBlas } from "./blas_backend.ts";
import { heapView, onHeap, writableView } from "./wasm_heap.ts";

/**
 * Whether the active backend is a native one and every tensor is float32 on its heap, so the
 * in-place steps below apply.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const weight: tf.Variable, gradient: tf.Tensor;
 * if (canStepInPlace([weight, gradient])) console.log("fused update");
 * ```
 */
export function canStepInPlace(tensors: Iterable<tf.Tensor>): boolean {
  const native = activeBlas();
  if (!native) return false;
  for (const tensor of tensors) if (!onHeap(native.backend, tensor)) return false;
  return true;
}

function nativeBackend() {
  const native = activeBlas();
  if (!native) throw new Error("in-place optimizer step without a native backend");
  return native;
}

/** Hyperparameters of one SGD update. */
export interface SgdStep {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/**
 * One SGD update in place, in three BLAS passes (two without decay): v = momentum v + wd theta
 * + g; theta -= lr v. A zero `velocity` gives torch's first step (v = g'). Needs
 * {@link canStepInPlace} of the three tensors.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const weight: tf.Variable, velocity: tf.Variable, gradient: tf.Tensor;
 * sgdStepInPlace(weight, velocity, gradient, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * ```
 */
export function sgdStepInPlace(
  variable: tf.Variable,
  velocity: tf.Variable,
  gradient: tf.Tensor,
  { lr, momentum, weightDecay }: SgdStep,
): void {
  const { blas, backend } = nativeBackend();
  // Allocate (copies of shared storage) before taking views: allocation may grow the heap.
  writableView(backend, velocity);
  writableView(backend, variable);
  const n = variable.size;
  const theta = heapView(backend, variable);
  const v = heapView(backend, velocity);
  const g = heapView(backend, gradient);
  if (weightDecay) {
    blas.saxpby(n, weightDecay, theta, momentum, v); // v = momentum v + wd theta
    blas.saxpy(n, 1, g, v); // v += g
  } else {
    blas.saxpby(n, 1, g, momentum, v); // v = momentum v + g
  }
  blas.saxpy(n, -lr, v, theta); // theta -= lr v
}

/** Hyperparameters of one Adam update, with the step's bias corrections. */
export interface AdamStep {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** sqrt(1 - beta2^t). */
  rootCorrection2: number;
}

/**
 * One Adam update in place, one pass over the parameter and moment storage: g' = g + wd theta;
 * m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
 * theta -= stepSize m / (sqrt(v) / rootCorrection2 + eps). Needs {@link canStepInPlace} of the
 * four tensors.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const weight: tf.Variable, m: tf.Variable, v: tf.Variable, gradient: tf.Tensor;
 * adamStepInPlace(weight, m, v, gradient, {
 *   beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, stepSize: 1e-2, rootCorrection2: 0.03,
 * });
 * ```
 */
export function adamStepInPlace(
  variable: tf.Variable,
  first: tf.Variable,
  second: tf.Variable,
  gradient: tf.Tensor,
  { beta1, beta2, epsilon, weightDecay, stepSize, rootCorrection2 }: AdamStep,
): void {
  const { backend } = nativeBackend();
  // Allocate (copies of shared storage) before taking views: allocation may grow the heap.
  writableView(backend, first);
  writableView(backend, second);
  writableView(backend, variable);
  const theta = heapView(backend, variable);
  const m = heapView(backend, first);
  const v = heapView(backend, second);
  const g = heapView(backend, gradient);
  for (let i = 0; i < theta.length; i++) {
    const decayed = g[i] + weightDecay * theta[i];
    const firstMoment = beta1 * m[i] + (1 - beta1) * decayed;
    const secondMoment = beta2 * v[i] + (1 - beta2) * decayed * decayed;
    m[i] = firstMoment;
    v[i] = secondMoment;
    theta[i] -= stepSize * firstMoment / (Math.sqrt(secondMoment) / rootCorrection2 + epsilon);
  }
}
