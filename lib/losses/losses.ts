/**
 * Training losses on logits (docs/reference.md#losses-and-optimization), averaged over the batch.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";

/** The `--loss` values (the reference's loss names). */
export const LOSS_NAMES = ["CrossEntropy", "LS", "LR", "MSE"] as const;
/** A loss name. */
export type LossName = typeof LOSS_NAMES[number];

/**
 * Short loss names for labels and figures: CE, LS, LR, MSE.
 *
 * @example
 * ```ts
 * shortLoss("CrossEntropy"); // "CE"
 * ```
 */
export function shortLoss(loss: unknown): string {
  return loss === "CrossEntropy" ? "CE" : String(loss);
}

/** A batch loss: logits (batch x K) and integer labels (batch) to a scalar. */
export type LossFunction = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;

/**
 * Cross-entropy: mean of -log p_y.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
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
 * import { tf } from "../backend/mod.ts";
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
 * The label-relaxation target r of docs/reference.md#losses-and-optimization (a constant: no gradient flows through it):
 * r_y = 1 - alpha and r_k = alpha p_k / sum_{j != y} p_j for k != y.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const r = labelRelaxationTarget(tf.tensor2d([[2, 0, 0]]), tf.tensor1d([0], "int32"), 0.1);
 * // [[0.9, 0.05, 0.05]]
 * ```
 */
export function labelRelaxationTarget(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  alpha: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const oneHot = tf.cast(tf.oneHot(labels, logits.shape[1]), "float32");
    const others = tf.mul(p, tf.sub(1, oneHot));
    const rest = tf.sum(others, 1, true);
    const relaxed = tf.div(tf.mul(others, alpha), rest);
    return tf.add(tf.mul(oneHot, 1 - alpha), relaxed) as tf.Tensor2D;
  });
}

/**
 * Label relaxation (Lienen and Hüllermeier 2021) with parameter alpha: per sample, 0 where
 * p_y > 1 - alpha, else KL(r || p) with r from {@link labelRelaxationTarget} held constant;
 * averaged over the batch. The gradient with respect to the logits is therefore
 * (p - r) / batch on the samples not yet relaxed, 0 elsewhere (written out as a custom gradient
 * because tfjs has no stop-gradient).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const loss = labelRelaxation(0.1)(tf.tensor2d([[0, 0]]), tf.tensor1d([0], "int32"));
 * // p_y = 0.5 <= 0.9: KL([0.9, 0.1] || [0.5, 0.5]) = 0.368
 * ```
 */
export function labelRelaxation(alpha: number): LossFunction {
  return (logits, labels) => {
    // Samples with p_y <= 1 - alpha contribute; the others are relaxed (loss 0).
    const activeOf = (z: tf.Tensor2D) => {
      const py = tf.sum(tf.mul(tf.softmax(z), tf.oneHot(labels, z.shape[1])), 1);
      return tf.cast(tf.lessEqual(py, 1 - alpha), "float32");
    };
    const op = tf.customGrad(
      // deno-lint-ignore no-explicit-any
      ((z: tf.Tensor2D, save: any) => {
        save([z]);
        const target = labelRelaxationTarget(z, labels, alpha);
        // r log r with 0 log 0 = 0 (r_k is 0 when the other probabilities underflow).
        const rLogR = tf.where(
          tf.greater(target, 0),
          tf.mul(target, tf.log(tf.maximum(target, 1e-30))),
          tf.zerosLike(target),
        );
        const kl = tf.sum(tf.sub(rLogR, tf.mul(target, tf.logSoftmax(z))), 1);
        return {
          value: tf.mean(tf.mul(kl, activeOf(z))),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const zs = saved[0] as tf.Tensor2D;
            const perSample = tf.div(tf.expandDims(activeOf(zs), 1), zs.shape[0]);
            const difference = tf.sub(tf.softmax(zs), labelRelaxationTarget(zs, labels, alpha));
            return [tf.mul(tf.mul(difference, perSample), dy)];
          },
        };
      }) as unknown as Parameters<typeof tf.customGrad>[0],
    ) as unknown as (z: tf.Tensor2D) => tf.Scalar;
    return op(logits);
  };
}

/**
 * Mean squared error against one-hot targets, averaged over all batch x K entries (PyTorch's
 * MSELoss on one_hot(y)).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * const loss = meanSquaredError(tf.tensor2d([[1, 1]]), tf.tensor1d([0], "int32")); // 0.5
 * ```
 */
export function meanSquaredError(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(labels, logits.shape[1]), "float32");
    return tf.mean(tf.squaredDifference(logits, oneHot)) as tf.Scalar;
  });
}

/**
 * The separated weight decay of `--sep_decay` (docs/reference.md#losses-and-optimization): (wd/2)(||W||^2 + ||b||^2) on the
 * classifier plus (fd/2)||H||^2 on the batch's features (summed, not averaged, as the reference
 * does). The optimizer then applies no weight decay of its own.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import type { Mlp } from "../models/mod.ts";
 * declare const features: tf.Tensor2D, model: Mlp;
 * const penalty = separatedDecay(features, model.classifier, 5e-4, 1e-4);
 * ```
 */
export function separatedDecay(
  features: tf.Tensor2D,
  classifier: { weight: tf.Tensor; bias?: tf.Tensor },
  weightDecay: number,
  featureDecay: number,
): tf.Scalar {
  return tf.tidy(() => {
    let weights = tf.sum(tf.square(classifier.weight));
    if (classifier.bias) weights = tf.add(weights, tf.sum(tf.square(classifier.bias)));
    return tf.add(
      tf.mul(weights, weightDecay / 2),
      tf.mul(tf.sum(tf.square(features)), featureDecay / 2),
    ) as tf.Scalar;
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
export function lossFor(
  config: { loss: LossName; ls_alpha: number; lr_alpha?: number },
): LossFunction {
  if (config.loss === "CrossEntropy") return crossEntropy;
  if (config.loss === "LS") return labelSmoothing(config.ls_alpha);
  if (config.loss === "LR") return labelRelaxation(config.lr_alpha ?? 0.1);
  if (config.loss === "MSE") return meanSquaredError;
  throw new Error(`unknown loss '${config.loss}': use ${LOSS_NAMES.join(", ")}`);
}
