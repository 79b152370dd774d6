/**
 * A model's predictions on a whole split (features and logits, in evaluation mode) and their
 * top-1 accuracy.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import type { Model } from "../models/mod.ts";

/** Features and logits of a split, computed in evaluation mode. */
export interface Predictions {
  features: Float32Array;
  logits: Float32Array;
  featureDim: number;
  classes: number;
}

const EVAL_BATCH = 1000;

/**
 * Forward a whole split in evaluation mode, in chunks, returning host arrays.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * import type { RunData } from "../data/mod.ts";
 * declare const model: Model, data: RunData;
 * const { features, logits } = await predict(model, data.test.inputs, data.test.count);
 * ```
 */
export async function predict(
  model: Model,
  inputs: Float32Array,
  count: number,
): Promise<Predictions> {
  const { featureDim, classes, inputSize } = model.config;
  const features = new Float32Array(count * featureDim);
  const logits = new Float32Array(count * classes);
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const end = Math.min(start + EVAL_BATCH, count);
    const [f, l] = tf.tidy(() => {
      const x = tf.tensor2d(inputs.subarray(start * inputSize, end * inputSize), [
        end - start,
        inputSize,
      ]);
      const out = model.forward(x, false);
      return [out.features, out.logits];
    });
    features.set(await f.data() as Float32Array, start * featureDim);
    logits.set(await l.data() as Float32Array, start * classes);
    tf.dispose([f, l]);
  }
  return { features, logits, featureDim, classes };
}

/**
 * Top-1 accuracy of logits (count x K) against labels.
 *
 * @example
 * ```ts
 * accuracy(new Float32Array([2, 0, 0, 1]), Int32Array.from([0, 0]), 2); // 0.5
 * ```
 */
export function accuracy(logits: Float32Array, labels: Int32Array, classes: number): number {
  if (labels.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    }
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}
