/**
 * Kernels of the native CPU backend that are plain copies on the wasm heap (no BLAS), replacing
 * tfjs-wasm kernels that are as slow as its matrix products were: a row gather (batching the
 * training set), tile (batch-norm gradients) and the max-pool gradient; identity and same-dtype
 * casts share the input's storage instead of copying it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapView } from "./wasm_heap.ts";

type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * GatherV2 along axis 0 as row copies (tfjs-wasm's general gather takes milliseconds for a
 * 128 x 784 batch); other axes go to `fallback`.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const wasmGather: tf.KernelFunc;
 * tf.registerKernel({ kernelName: tf.GatherV2, backendName: "openblas",
 *   kernelFunc: gatherKernel(wasmGather) });
 * ```
 */
export function gatherKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const rows = x.shape[0];
    if (
      tf.util.parseAxisParam(axis, x.shape)[0] !== 0 || batchDims !== 0 ||
      indices.dtype !== "int32" || x.dtype === "string" || x.dtype === "complex64" ||
      tf.util.sizeFromShape(x.shape) === 0
    ) {
      return fallback(args);
    }
    const backend = args.backend as unknown as BackendWasm;
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(out);
    const index = backend.typedArrayFromHeap(indices);
    for (let i = 0; i < index.length; i++) {
      const row = index[i];
      if (!(row >= 0 && row < rows)) {
        backend.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`);
      }
      target.set(source.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
    }
    return out;
  };
}

/** Repeat `target[at, at + block)` so it fills `target[at, at + block * times)`. */
function repeatBlock(target: tf.TypedArray, at: number, block: number, times: number): void {
  const total = block * times;
  for (let filled = block; filled < total; filled *= 2) {
    target.copyWithin(at + filled, at, at + Math.min(filled, total - filled));
  }
}

/**
 * Tile by block copies: each axis is filled once from the input and then doubled in place
 * (tfjs-wasm's tile costs tens of milliseconds for a batch-norm gradient's [128, 8, 8, 64]).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const wasmTile: tf.KernelFunc;
 * tf.registerKernel({ kernelName: tf.Tile, backendName: "openblas",
 *   kernelFunc: tileKernel(wasmTile) });
 * ```
 */
export function tileKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as { reps: number[] };
    const outShape = x.shape.map((size, i) => size * reps[i]);
    if (
      x.dtype === "string" || x.dtype === "complex64" || x.shape.length === 0 ||
      tf.util.sizeFromShape(outShape) === 0
    ) {
      return fallback(args);
    }
    const backend = args.backend as unknown as BackendWasm;
    const out = backend.makeOutput(outShape, x.dtype);
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(out);
    const rank = x.shape.length;
    // Sizes of one input and one output slice below each axis.
    const inStride = x.shape.map((_, d) => tf.util.sizeFromShape(x.shape.slice(d + 1)));
    const outStride = outShape.map((_, d) => tf.util.sizeFromShape(outShape.slice(d + 1)));
    const fill = (d: number, from: number, at: number) => {
      if (d === rank - 1) {
        target.set(source.subarray(from, from + x.shape[d]), at);
      } else {
        for (let i = 0; i < x.shape[d]; i++) {
          fill(d + 1, from + i * inStride[d], at + i * outStride[d]);
        }
      }
      repeatBlock(target, at, x.shape[d] * outStride[d], reps[d]);
    };
    fill(0, 0, 0);
    return out;
  };
}

/**
 * MaxPoolGrad: each output's gradient goes to the first maximum of its window (scanning rows,
 * then columns), as tfjs' own backends choose it. The forward output holds each window's
 * maximum, so the scan looks for the first input equal to it (a comparison whose outcome the
 * CPU predicts, unlike a running maximum's).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const wasmMaxPoolGrad: tf.KernelFunc;
 * tf.registerKernel({ kernelName: tf.MaxPoolGrad, backendName: "openblas",
 *   kernelFunc: maxPoolGradKernel(wasmMaxPoolGrad) });
 * ```
 */
export function maxPoolGradKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { dy, input, output } = args.inputs as {
      dy: TensorInfo;
      input: TensorInfo;
      output: TensorInfo;
    };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: "valid" | "same" | number;
      dimRoundingMode?: "floor" | "round" | "ceil";
    };
    if ([dy, input, output].some((t) => t?.dtype !== "float32")) return fallback(args);
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const backend = args.backend as unknown as BackendWasm;
    const out = backend.makeOutput(input.shape, "float32");
    const x = heapView(backend, input);
    const maxima = heapView(backend, output);
    const gradient = heapView(backend, dy);
    const dx = heapView(backend, out).fill(0);
    const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
    const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const { top, left } = info.padInfo;
    // Offsets (from the window's first cell) of the window's cells, in scan order.
    const cells = new Int32Array(filterHeight * filterWidth);
    let at = 0;
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const h0 = Math.max(0, oh * strideHeight - top);
        const h1 = Math.min(inHeight, oh * strideHeight - top + filterHeight);
        for (let ow = 0; ow < outWidth; ow++, at += c) {
          const w0 = Math.max(0, ow * strideWidth - left);
          const w1 = Math.min(inWidth, ow * strideWidth - left + filterWidth);
          let count = 0;
          for (let xi = h0; xi < h1; xi++) {
            for (let xj = w0; xj < w1; xj++) cells[count++] = ((xi - h0) * inWidth + xj - w0) * c;
          }
          const base = ((n * inHeight + h0) * inWidth + w0) * c;
          for (let i = 0; i < c; i++) {
            const best = maxima[at + i];
            for (let j = 0; j < count; j++) {
              const where = base + cells[j] + i;
              if (x[where] === best) {
                dx[where] += gradient[at + i];
                break;
              }
            }
          }
        }
      }
    }
    return out;
  };
}

/**
 * Identity, and Cast to the input's own dtype, as a second reference to the input's storage
 * (as Reshape does) rather than tfjs-wasm's copy: gradients pass through hundreds of these per
 * ResNet-18 step. In-place writers copy shared storage first (`writableView`). Other casts go
 * to `fallback`.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const wasmIdentity: tf.KernelFunc;
 * tf.registerKernel({ kernelName: tf.Identity, backendName: "openblas",
 *   kernelFunc: aliasKernel(wasmIdentity) });
 * ```
 */
export function aliasKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const dtype = (args.attrs as { dtype?: tf.DataType } | undefined)?.dtype ?? x.dtype;
    if (dtype !== x.dtype || x.dtype === "string") return fallback(args);
    (args.backend as unknown as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
