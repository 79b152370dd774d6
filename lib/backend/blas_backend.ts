/**
 * The native CPU backend: tfjs-wasm's tensor storage and kernels, with the kernels that dominate
 * training and evaluation (matrix products, plain, transposed, batched and fused with bias and
 * ReLU; 2-D convolutions and both their gradients; sums and means; transposes) replaced by calls into a {@link BlasProvider} that reads and writes the tensors where
 * they live, in the WebAssembly heap, without copies. Training-mode batch normalization gets
 * fused kernels of its own (`batch_norm.ts`).
 *
 * Sharing the wasm backend's instance keeps one heap for both names, so tensors move between
 * `wasm` and the native backend without conversion and tests can compare the two in one
 * process.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { BlasProvider } from "./blas/provider.ts";
import {
  conv2dFilterGradientKernel,
  conv2dInputGradientKernel,
  conv2dKernel,
} from "./blas_conv.ts";
import { heapView } from "./wasm_heap.ts";
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  batchNormTrainingGradKernel,
  batchNormTrainingKernel,
  registerBatchNormGradient,
} from "./batch_norm.ts";
import { aliasKernel, gatherKernel, maxPoolGradKernel, tileKernel } from "./heap_kernels.ts";

type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The BLAS of each registered native backend, by backend name. */
const providers = new Map<string, BlasProvider>();

/**
 * The BLAS behind the active backend, or undefined when the active backend is not a native one
 * (callers then use ordinary tfjs ops).
 *
 * @example
 * ```ts
 * const native = activeBlas();
 * if (native) console.log(native.blas.description);
 * ```
 */
export function activeBlas(): { blas: BlasProvider; backend: BackendWasm } | undefined {
  const blas = providers.get(tf.getBackend());
  return blas ? { blas, backend: tf.backend() as unknown as BackendWasm } : undefined;
}

/**
 * Whether the active backend is a native one: its matrix products with transposed operands,
 * convolution gradients and training-mode batch normalization (`batchNormTraining`) are
 * fast kernels of its own, so callers use plain tfjs ops rather than their workarounds for the
 * wasm and CPU backends.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * declare const x: tf.Tensor2D;
 * const gram = hasNativeKernels() ? tf.matMul(x, x, true, false) : tf.matMul(tf.transpose(x), x);
 * ```
 */
export function hasNativeKernels(): boolean {
  return providers.has(tf.getBackend());
}

/** Operand sizes of a (batched) matrix product, as tfjs' BatchMatMul defines them. */
interface ProductShape {
  m: number;
  n: number;
  k: number;
  batchA: number;
  batchB: number;
  outShape: number[];
}

function productShape(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(
      `matMul: inner dimensions ${k} and ${kb} of shapes [${a.shape}] and [${b.shape}] ` +
        `(transposeA=${transposeA}, transposeB=${transposeB}) must match`,
    );
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  return {
    m,
    n,
    k,
    batchA: tf.util.sizeFromShape(a.shape.slice(0, -2)),
    batchB: tf.util.sizeFromShape(b.shape.slice(0, -2)),
    outShape: [...outer, m, n],
  } satisfies ProductShape;
}

/** Whether BLAS can compute this product: float32, no empty operand, simple batch broadcast. */
function blasCanMultiply(a: TensorInfo, b: TensorInfo, shape: ProductShape): boolean {
  return a.dtype === "float32" && b.dtype === "float32" &&
    shape.m * shape.n * shape.k > 0 &&
    (shape.batchA === shape.batchB || shape.batchA === 1 || shape.batchB === 1);
}

/** out = op(a) op(b) for every batch, into `out` (already allocated with `shape.outShape`). */
function multiplyInto(
  blas: BlasProvider,
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  shape: ProductShape,
  beta: number,
): void {
  const { m, n, k, batchA, batchB } = shape;
  const av = heapView(backend, a);
  const bv = heapView(backend, b);
  const cv = heapView(backend, out);
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  if (a.dataId === b.dataId && transposeA && !transposeB && batchA === 1 && beta === 0) {
    // AᵀA (the second moments of the metrics): symmetric, so half the work, then mirrored.
    blas.ssyrkUpper(m, k, 1, av, lda, 0, cv, n);
    for (let i = 1; i < m; i++) {
      for (let j = 0; j < i; j++) cv[i * n + j] = cv[j * n + i];
    }
    return;
  }
  if (batchB === 1 && !transposeA) {
    // Every batch of A times the same B: one product with batchA * m rows.
    blas.sgemm(false, transposeB, batchA * m, n, k, 1, av, lda, bv, ldb, beta, cv, n);
    return;
  }
  const batch = Math.max(batchA, batchB);
  for (let i = 0; i < batch; i++) {
    blas.sgemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      1,
      batchA === 1 ? av : av.subarray(i * m * k),
      lda,
      batchB === 1 ? bv : bv.subarray(i * k * n),
      ldb,
      beta,
      cv.subarray(i * m * n),
      n,
    );
  }
}

function batchMatMulKernel(blas: BlasProvider, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const shape = productShape(a, b, transposeA, transposeB);
    if (!blasCanMultiply(a, b, shape)) return fallback(args);
    const backend = args.backend as unknown as BackendWasm;
    const out = backend.makeOutput(shape.outShape, "float32");
    multiplyInto(blas, backend, a, b, out, transposeA, transposeB, shape, 0);
    return out;
  };
}

function fusedMatMulKernel(blas: BlasProvider, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const { transposeA, transposeB, activation } = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
    };
    const shape = productShape(a, b, transposeA, transposeB);
    const simpleBias = bias === undefined ||
      (bias.dtype === "float32" && tf.util.sizeFromShape(bias.shape) === shape.n);
    if (
      !blasCanMultiply(a, b, shape) || !simpleBias || preluActivationWeights !== undefined ||
      (activation !== "linear" && activation !== "relu")
    ) {
      return fallback(args);
    }
    const backend = args.backend as unknown as BackendWasm;
    const out = backend.makeOutput(shape.outShape, "float32");
    let beta = 0;
    if (bias) {
      // Start every row from the bias, then accumulate the product onto it.
      const rows = heapView(backend, out);
      rows.set(heapView(backend, bias));
      for (let filled = shape.n; filled < rows.length; filled *= 2) {
        rows.copyWithin(filled, 0, Math.min(filled, rows.length - filled));
      }
      beta = 1;
    }
    multiplyInto(blas, backend, a, b, out, transposeA, transposeB, shape, beta);
    if (activation === "relu") {
      const values = heapView(backend, out);
      for (let i = 0; i < values.length; i++) if (!(values[i] > 0)) values[i] = 0;
    }
    return out;
  };
}

/** Transpose of a matrix (rank 2 after dropping size-1 dimensions) through BLAS. */
function transposeKernel(blas: BlasProvider, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { perm } = args.attrs as { perm: number[] };
    const kept = perm.filter((axis) => x.shape[axis] !== 1);
    if (x.dtype !== "float32" || kept.length !== 2 || kept[0] < kept[1]) return fallback(args);
    const backend = args.backend as unknown as BackendWasm;
    const out = backend.makeOutput(perm.map((axis) => x.shape[axis]), "float32");
    blas.transpose(
      x.shape[kept[1]],
      x.shape[kept[0]],
      heapView(backend, x),
      heapView(backend, out),
    );
    return out;
  };
}

/** Ones for reductions as matrix-vector products, grown on demand. */
let ones = new Float32Array(0);
function onesOf(size: number): Float32Array {
  if (ones.length < size) ones = new Float32Array(size).fill(1);
  return ones;
}

/**
 * Below this many values a reduction runs on the host: waking BLAS threads costs more than the
 * sum (and on a busy machine a sleeping thread can take milliseconds to wake).
 */
const BLAS_REDUCTION_SIZE = 1 << 22;

/** Sums (times alpha) of a rows x cols matrix over its rows (columns = true) or its columns. */
function hostReduce(
  values: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
  columns: boolean,
  alpha: number,
): void {
  if (columns) {
    const sums = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0, at = r * cols; c < cols; c++) sums[c] += values[at + c];
    }
    for (let c = 0; c < cols; c++) out[c] = sums[c] * alpha;
  } else {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0, at = r * cols; c < cols; c++) sum += values[at + c];
      out[r] = sum * alpha;
    }
  }
}

/**
 * Sum or mean of float32 values over leading axes (column sums: batch-norm statistics and their
 * gradients) or trailing axes (row sums): on the host, or as a matrix-vector product with ones
 * for large tensors. tfjs-wasm
 * transposes the whole tensor first when the axes are not the innermost ones.
 */
function reductionKernel(kind: "sum" | "mean") {
  return (blas: BlasProvider, fallback: tf.KernelFunc): tf.KernelFunc => (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const rank = x.shape.length;
    const leading = axes.every((a, i) => a === i);
    const trailing = axes.every((a, i) => a === rank - axes.length + i);
    const size = tf.util.sizeFromShape(x.shape);
    if (x.dtype !== "float32" || size === 0 || axes.length === 0 || !(leading || trailing)) {
      return fallback(args);
    }
    const reduced = tf.util.sizeFromShape(axes.map((a) => x.shape[a]));
    const kept = size / reduced;
    const backend = args.backend as unknown as BackendWasm;
    const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const out = backend.makeOutput(
      keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape,
      "float32",
    );
    const alpha = kind === "mean" ? 1 / reduced : 1;
    const values = heapView(backend, x);
    const result = heapView(backend, out);
    if (size < BLAS_REDUCTION_SIZE) {
      hostReduce(
        values,
        result,
        leading ? reduced : kept,
        leading ? kept : reduced,
        leading,
        alpha,
      );
    } else if (leading) {
      // x is reduced x kept: out = alpha x^T 1.
      blas.sgemv(true, reduced, kept, alpha, values, kept, onesOf(reduced), 0, result);
    } else {
      blas.sgemv(false, kept, reduced, alpha, values, reduced, onesOf(reduced), 0, result);
    }
    return out;
  };
}

/** Kernels replaced by BLAS calls, by kernel name (the wasm kernel serves the rest). */
const NATIVE_KERNELS: Record<
  string,
  (blas: BlasProvider, fallback: tf.KernelFunc) => tf.KernelFunc
> = {
  [tf.BatchMatMul]: batchMatMulKernel,
  [tf._FusedMatMul]: fusedMatMulKernel,
  [tf.Transpose]: transposeKernel,
  [tf.Conv2D]: conv2dKernel,
  [tf.Conv2DBackpropInput]: conv2dInputGradientKernel,
  [tf.Sum]: reductionKernel("sum"),
  [tf.Mean]: reductionKernel("mean"),
  // Heap copies rather than BLAS, but as slow on tfjs-wasm as the products were.
  [tf.GatherV2]: (_blas, fallback) => gatherKernel(fallback),
  [tf.Tile]: (_blas, fallback) => tileKernel(fallback),
  [tf.MaxPoolGrad]: (_blas, fallback) => maxPoolGradKernel(fallback),
  [tf.Identity]: (_blas, fallback) => aliasKernel(fallback),
  [tf.Cast]: (_blas, fallback) => aliasKernel(fallback),
};

/**
 * Register the tfjs backend `blas.name` on top of the (initialised) wasm backend `wasm`: every
 * wasm kernel, with the heavy ones computed by `blas`. A name is registered once per process;
 * later calls with the same name change nothing.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import type { BlasProvider } from "./blas/provider.ts";
 * declare const openBlas: BlasProvider, wasmBackend: BackendWasm;
 * registerBlasBackend(openBlas, wasmBackend);
 * await tf.setBackend("openblas");
 * ```
 */
export function registerBlasBackend(blas: BlasProvider, wasm: BackendWasm): void {
  const name = blas.name;
  if (providers.has(name)) return;
  providers.set(name, blas);
  // tfjs-wasm has no filter-gradient kernel: this one has no wasm fallback.
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: name,
    kernelFunc: conv2dFilterGradientKernel(blas),
  });
  // Training-mode batch normalization, fused (tfjs has no such kernel).
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING,
    backendName: name,
    kernelFunc: batchNormTrainingKernel as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING_GRAD,
    backendName: name,
    kernelFunc: batchNormTrainingGradKernel as unknown as tf.KernelFunc,
  });
  registerBatchNormGradient();
  for (const config of tf.getKernelsForBackend("wasm")) {
    const native = NATIVE_KERNELS[config.kernelName];
    tf.registerKernel({
      ...config,
      backendName: name,
      kernelFunc: native ? native(blas, config.kernelFunc) : config.kernelFunc,
    });
  }
  tf.registerBackend(name, () => wasm as unknown as tf.KernelBackend, 1);
}
