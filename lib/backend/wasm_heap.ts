/**
 * Zero-copy access to tensors of the wasm backend (and of the native backend that shares its
 * instance): views on their storage in the WebAssembly heap, and in-place writes to variables.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type TensorInfo = tf.TensorInfo;

/**
 * A Float32Array view of a float32 tensor's storage in the wasm heap. Take it after the last
 * allocation of the kernel: growing the heap detaches older views.
 *
 * @example
 * ```ts
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { tf } from "../backend/mod.ts";
 * declare const backend: BackendWasm, tensor: tf.Tensor;
 * const values = heapView(backend, tensor); // writes go straight to the tensor
 * ```
 */
export function heapView(backend: BackendWasm, tensor: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(tensor) as Float32Array;
}

/**
 * A view of a variable's storage that may be written in place: when other tensors share the
 * storage (a variable assigned from a tensor still alive, a reshape of it), the variable first
 * gets a private copy, so no other tensor sees the write. Take views of other tensors after
 * this call (the copy may grow the heap).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { activeBlas } from "./blas_backend.ts";
 * declare const weight: tf.Variable;
 * const { backend } = activeBlas()!;
 * writableView(backend, weight).fill(0); // weight is now zero, nothing else changed
 * ```
 */
export function writableView(backend: BackendWasm, variable: tf.Variable): Float32Array {
  if (backend.refCount(variable.dataId) > 1) {
    const copy = backend.makeOutput(variable.shape, "float32");
    heapView(backend, copy).set(heapView(backend, variable));
    const tensor = tf.engine().makeTensorFromTensorInfo(copy);
    variable.assign(tensor);
    tensor.dispose();
  }
  return heapView(backend, variable);
}

/**
 * Whether `tensor` is float32 and stored by `backend` (so its heap view is valid).
 *
 * @example
 * ```ts
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { tf } from "../backend/mod.ts";
 * declare const backend: BackendWasm, gradient: tf.Tensor;
 * if (onHeap(backend, gradient)) heapView(backend, gradient);
 * ```
 */
export function onHeap(backend: BackendWasm, tensor: tf.Tensor): boolean {
  return tensor.dtype === "float32" && backend.dataIdMap.has(tensor.dataId);
}
