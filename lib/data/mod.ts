/**
 * Datasets for memdil experiments: locate, decode, cache, select classes, corrupt labels, split,
 * preprocess. The datasets themselves are listed in `registry.ts`.
 *
 * @module
 */
export * from "./acquire.ts";
export * from "./cache.ts";
export * from "./cifar.ts";
export * from "./download.ts";
export * from "./fashion_mnist.ts";
export * from "./idx.ts";
export * from "./idx_dataset.ts";
export * from "./matlab.ts";
export * from "./mnist.ts";
export * from "./noise.ts";
export * from "./preprocess.ts";
export * from "./random.ts";
export * from "./registry.ts";
export * from "./svhn.ts";
export * from "./training_set.ts";
export * from "./run_data.ts";
