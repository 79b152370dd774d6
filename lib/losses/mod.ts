/**
 * Training losses on logits (SPEC section 6), averaged over the batch.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";

/** Loss names this build implements (the reference's `--loss` values). */
export type LossName = "CrossEntropy" | "LS";

/** A batch loss: logits (batch x K) and integer labels (batch) to a scalar. */
export type LossFunction = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;

/**
 * Cross-entropy: mean of -log p_y.
 *
 * @example
 * ```ts
 * const loss = crossEntropy(tf.tensor2d([[2, 0]]), tf.tensor1d([0], "int32"));
 * // -log(e^2 / (e^2 + 1)) = 0.1269
 * ```
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return labelSmoothing(0)(logits, labels);
}

/**
 * Label smoothing with parameter alpha: target q = (1 - alpha) onehot(y) + alpha / K,
 * loss = mean of -sum_k q_k log p_k.
 *
 * @example
 * ```ts
 * const loss = labelSmoothing(0.1)(tf.tensor2d([[2, 0]]), tf.tensor1d([0], "int32"));
 * ```
 */
export function labelSmoothing(alpha: number): LossFunction {
  return (logits, labels) =>
    tf.tidy(() => {
      const classes = logits.shape[1];
      const oneHot = tf.cast(tf.oneHot(labels, classes), "float32");
      const target = tf.add(tf.mul(oneHot, 1 - alpha), alpha / classes);
      return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    });
}

/**
 * The loss a configuration asks for.
 *
 * @example
 * ```ts
 * const loss = lossFor({ loss: "LS", ls_alpha: 0.1 });
 * ```
 */
export function lossFor(config: { loss: LossName; ls_alpha: number }): LossFunction {
  if (config.loss === "CrossEntropy") return crossEntropy;
  if (config.loss === "LS") return labelSmoothing(config.ls_alpha);
  throw new Error(`unknown loss '${config.loss}': use CrossEntropy or LS`);
}
