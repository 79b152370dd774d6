/**
 * The models of docs/reference.md#models: the reference MLP (`mlp.ts`), ResNet-18/34/50 and VGG-11/13/16/19
 * (`resnet.ts`, `vgg.ts`), the fixed simplex-ETF classifier (`etf.ts`), `buildModel` from a
 * configuration (`build.ts`) and the torchsummary-style summary (`model_summary.ts`). Parameters are
 * explicit tf.Variables drawn on the host from the run's seed, so initial weights are identical
 * on every backend.
 *
 * @module
 */
export * from "./layers.ts";
export * from "./etf.ts";
export * from "./mlp.ts";
export * from "./resnet.ts";
export * from "./vgg.ts";
export * from "./model_summary.ts";
export * from "./build.ts";
