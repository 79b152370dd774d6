/**
 * Compute backends: the TensorFlow.js API (tf.ts), the backend names (backend_name.ts) and the
 * choice and initialisation of the backend every other module uses (init_backend.ts).
 *
 * @module
 */
export { tf } from "./tf.ts";
export * from "./backend_name.ts";
export * from "./init_backend.ts";
