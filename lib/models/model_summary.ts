/**
 * A model summary as the reference prints with torchsummary at the start of training: every
 * layer with its output shape and parameter count, then the totals.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import type { LayerTrace, Model } from "./layers.ts";

/**
 * Trace one evaluation-mode forward pass of a batch of two zero inputs (as torchsummary does)
 * and return the layer rows.
 *
 * @example
 * ```ts
 * import type { Model } from "./layers.ts";
 * declare const model: Model;
 * const rows = traceModel(model); // [{ layer: "Conv2d", shape: [-1, 64, 16, 16], params: 9408 }, ...]
 * ```
 */
export function traceModel(model: Model): LayerTrace[] {
  const trace: LayerTrace[] = [];
  tf.tidy(() => {
    model.forward(tf.zeros([2, model.config.inputSize]), false, trace);
  });
  return trace;
}

/**
 * The summary table: layers numbered in call order as torchsummary does, output shapes with -1
 * for the batch, parameter counts, totals (trainable and frozen) and sizes in MB (float32).
 *
 * @example
 * ```ts
 * import type { Model } from "./layers.ts";
 * declare const model: Model;
 * console.log(modelSummary(model));
 * ```
 */
export function modelSummary(model: Model): string {
  const rows = traceModel(model);
  const total = model.parameterCount();
  const trainable = model.trainable().reduce((sum, p) => sum + p.variable.size, 0);
  const line = "-".repeat(64);
  const format = (n: number) => n.toLocaleString("en-US");
  const out = [
    line,
    `${"Layer (type)".padStart(20)}  ${"Output Shape".padStart(25)} ${"Param #".padStart(15)}`,
    "=".repeat(64),
  ];
  rows.forEach((row, i) => {
    const name = `${row.layer}-${i + 1}`;
    out.push(
      `${name.padStart(20)}  ${JSON.stringify(row.shape).replaceAll(",", ", ").padStart(25)} ${
        format(row.params).padStart(15)
      }`,
    );
  });
  const megabytes = (values: number) => (values * 4 / 2 ** 20).toFixed(2);
  const activations = rows.reduce(
    (sum, row) => sum + row.shape.slice(1).reduce((p, d) => p * d, 1),
    0,
  );
  out.push(
    "=".repeat(64),
    `Total params: ${format(total)}`,
    `Trainable params: ${format(trainable)}`,
    `Non-trainable params: ${format(total - trainable)}`,
    line,
    `Input size (MB): ${megabytes(model.config.inputSize)}`,
    `Forward/backward pass size (MB): ${megabytes(2 * activations)}`,
    `Params size (MB): ${megabytes(total)}`,
    line,
  );
  return out.join("\n");
}
