/**
 * The TensorFlow.js API every module uses, with every gradient registered.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's package entry registers no gradients (its ESM gradient files do not load in
// Deno); the umbrella package's bundle registers them all, in the shared global registry.
import "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";

export { tf };
