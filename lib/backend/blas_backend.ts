/**
 * The native CPU backend: tfjs-wasm's tensor storage and kernels, with the kernels that dominate
 * training and evaluation (matrix products, plain, transposed, batched and fused with bias and
 * ReLU; 2-D convolutions and both their gradients; matrix transposes; row gathers) replaced by calls into a {@link BlasProvider} that reads and writes the tensors where
 * they live, in the WebAssembly heap, without copies.
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
 * const blas = activeBlas();
 * if (blas) console.log(blas.description);
 * ```
 */
export function activeBlas(): { blas: BlasProvider; backend: BackendWasm } | undefined {
  const blas = providers.get(tf.getBackend());
  return blas ? { blas, backend: tf.backend() as unknown as BackendWasm } : undefined;
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

/**
 * Gather along axis 0 (rows of the training set into a batch) as row copies; tfjs-wasm's
 * general gather takes milliseconds for a 128 x 784 batch.
 */
function gatherKernel(_blas: BlasProvider, fallback: tf.KernelFunc): tf.KernelFunc {
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

/** Kernels replaced by BLAS calls, by kernel name (the wasm kernel serves the rest). */
const NATIVE_KERNELS: Record<
  string,
  (blas: BlasProvider, fallback: tf.KernelFunc) => tf.KernelFunc
> = {
  [tf.BatchMatMul]: batchMatMulKernel,
  [tf._FusedMatMul]: fusedMatMulKernel,
  [tf.Transpose]: transposeKernel,
  [tf.GatherV2]: gatherKernel,
  [tf.Conv2D]: conv2dKernel,
  [tf.Conv2DBackpropInput]: conv2dInputGradientKernel,
};

/**
 * Register the tfjs backend `blas.name` on top of the (initialised) wasm backend `wasm`: every
 * wasm kernel, with the heavy ones computed by `blas`. A name is registered once per process;
 * later calls with the same name change nothing.
 *
 * @example
 * ```ts
 * registerBlasBackend(openOpenBlas(openBlasPath(), 2), wasmBackend);
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
