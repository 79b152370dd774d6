/**
 * The Gram matrix xᵀx of a batch, the kernel of the streaming second-moment accumulation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { hasNativeKernels } from "./blas_backend.ts";

/**
 * xᵀx. On the native backend one transposed product, which it computes as a symmetric rank-k
 * update (half the work); elsewhere with an explicit transpose, since tfjs-wasm's transposed
 * matMul is several times slower.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const gram = gramMatrix(tf.tensor2d([[1, 2], [3, 4]])); // [[10, 14], [14, 20]]
 * ```
 */
export function gramMatrix(x: tf.Tensor2D): tf.Tensor2D {
  return hasNativeKernels() ? tf.matMul(x, x, true, false) : tf.matMul(tf.transpose(x), x);
}
