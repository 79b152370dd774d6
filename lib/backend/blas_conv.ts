/**
 * 2-D convolutions (NHWC, any stride, dilation and padding) and both of their gradients as BLAS
 * matrix products (im2col), for the native CPU backend.
 *
 * The columns matrix has one row per output position and, per filter tap that reads the input
 * for at least one output, the C input values under it (zero where the tap falls in the
 * padding), copied as runs of consecutive values. Taps that only ever read padding are left out, which matters for the small feature
 * maps of deep layers (a 3 x 3 convolution of a 1 x 1 map with padding 1 uses only its centre).
 * Images are processed in chunks so the columns stay within {@link COLUMN_LIMIT} floats.
 *
 * - forward: Y = cols W;
 * - input gradient: dcols = dY W^T, scattered back (added) onto dx; for stride 1, the forward
 *   pass of the transposed convolution instead;
 * - filter gradient: dW = cols^T dY, summed over the chunks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { BlasProvider } from "./blas/provider.ts";
import { heapView } from "./wasm_heap.ts";

type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Conv2DInfo = tf.backend_util.Conv2DInfo;

/**
 * Most floats of one chunk's columns matrix (4 MiB): small enough to stay in the CPU caches
 * between being written and being multiplied (or, for the input gradient, between the product
 * and the scatter), which halves the time of the copies against whole-batch chunks; 1 MiB is
 * no faster and makes more BLAS calls, each of which waits for every BLAS thread to be
 * scheduled (slow when other processes hold the cores).
 */
const COLUMN_LIMIT = 1 << 20;

/** A convolution's used taps, how to fill the columns matrix, and its chunking. */
interface Plan {
  info: Conv2DInfo;
  /** Taps [kh, kw] that read the input for some output, by kh then kw. */
  taps: [number, number][];
  /** Columns per row: taps x input channels. */
  k: number;
  /** Output positions per image. */
  perImage: number;
  /** Images per chunk. */
  chunk: number;
  /**
   * Whether the columns matrix is the input itself (a 1 x 1 stride-1 convolution, or one whose
   * only used tap is the centre of a 1 x 1 map): then there is nothing to copy.
   */
  direct: boolean;
  /**
   * The columns of one image's rows as runs, 4 numbers each: the first column (from the start
   * of the image's block), the input offset (within the image) of the first copied value, the
   * zeros before it, the values copied; the run's remaining columns are zeros. A run is one kh
   * with all its taps when they read consecutive input columns (dilation 1), else one tap.
   */
  runs: Int32Array;
}

/** The tap indices t in [0, size) whose input o * stride + t * dilation - pad is in range. */
function reachingTaps(
  size: number,
  outSize: number,
  inSize: number,
  stride: number,
  dilation: number,
  pad: number,
): number[] {
  const taps: number[] = [];
  for (let t = 0; t < size; t++) {
    const offset = t * dilation - pad;
    // The first output whose input index is >= 0, then whether it is still inside.
    const first = Math.max(0, Math.ceil(-offset / stride));
    if (first < outSize && first * stride + offset < inSize) taps.push(t);
  }
  return taps;
}

function plan(info: Conv2DInfo): Plan {
  const { inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const rows = reachingTaps(info.filterHeight, outHeight, inHeight, sh, dh, top);
  const cols = reachingTaps(info.filterWidth, outWidth, inWidth, sw, dw, left);
  const taps = rows.flatMap((kh) => cols.map((kw): [number, number] => [kh, kw]));
  const k = taps.length * c;
  const perImage = outHeight * outWidth;
  // Consecutive taps (they are an interval) read consecutive input columns with dilation 1.
  const groups = dw === 1 && cols.length > 0 ? [cols] : cols.map((kw) => [kw]);
  const runs = new Int32Array(perImage * rows.length * groups.length * 4);
  let at = 0;
  for (let oh = 0; oh < outHeight; oh++) {
    for (let ow = 0; ow < outWidth; ow++) {
      let column = (oh * outWidth + ow) * k;
      for (const kh of rows) {
        const xi = oh * sh + kh * dh - top;
        for (const group of groups) {
          // Input columns of the group's first and last taps, clipped to the image.
          const first = ow * sw + group[0] * dw - left;
          const last = first + group.length - 1;
          const from = Math.max(first, 0);
          const to = Math.min(last, inWidth - 1);
          const inside = xi >= 0 && xi < inHeight && from <= to;
          runs[at++] = column;
          runs[at++] = inside ? (xi * inWidth + from) * c : 0;
          runs[at++] = inside ? (from - first) * c : 0;
          runs[at++] = inside ? (to - from + 1) * c : 0;
          column += group.length * c;
        }
      }
    }
  }
  let direct = k === c && perImage === inHeight * inWidth && runs.length === perImage * 4;
  for (let r = 0; direct && r < perImage; r++) {
    const [column, offset, lead, copied] = runs.subarray(r * 4, r * 4 + 4);
    direct = column === r * c && offset === r * c && lead === 0 && copied === c;
  }
  const chunk = direct
    ? info.batchSize
    : Math.max(1, Math.min(info.batchSize, Math.floor(COLUMN_LIMIT / (perImage * k))));
  return { info, taps, k, perImage, chunk, runs, direct };
}

/** Reusable host scratch buffers (one per role), grown on demand. */
const scratch = new Map<string, Float32Array>();
function buffer(role: string, size: number): Float32Array {
  let array = scratch.get(role);
  if (!array || array.length < size) {
    array = new Float32Array(size);
    scratch.set(role, array);
  }
  return array.subarray(0, size);
}

/** Length in columns of each run (all runs of a plan have the same length). */
function runLength(p: Plan): number {
  const { runs } = p;
  return runs.length > 4 ? runs[4] - runs[0] : p.k;
}

/** Runs at least this long are copied with `set` (a memcpy); shorter ones element by element. */
const SET_LENGTH = 32;

/** The columns matrix of images [first, first + count). */
function im2col(p: Plan, x: Float32Array, first: number, count: number): Float32Array {
  const { runs } = p;
  const imageSize = p.info.inHeight * p.info.inWidth * p.info.inChannels;
  if (p.direct) return x.subarray(first * imageSize, (first + count) * imageSize);
  const block = p.perImage * p.k;
  const length = runLength(p);
  const cols = buffer("columns", count * block);
  for (let n = 0; n < count; n++) {
    const image = (first + n) * imageSize;
    for (let r = 0; r < runs.length; r += 4) {
      const column = n * block + runs[r];
      const lead = runs[r + 2];
      const copied = runs[r + 3];
      const source = image + runs[r + 1];
      if (lead > 0) cols.fill(0, column, column + lead);
      if (copied >= SET_LENGTH) {
        cols.set(x.subarray(source, source + copied), column + lead);
      } else {
        for (let j = 0; j < copied; j++) cols[column + lead + j] = x[source + j];
      }
      if (lead + copied < length) cols.fill(0, column + lead + copied, column + length);
    }
  }
  return cols;
}

/** Adds the columns matrix of images [first, first + count) back onto their inputs. */
function col2imAdd(p: Plan, cols: Float32Array, dx: Float32Array, first: number, count: number) {
  const { runs } = p;
  const imageSize = p.info.inHeight * p.info.inWidth * p.info.inChannels;
  const block = p.perImage * p.k;
  for (let n = 0; n < count; n++) {
    const image = (first + n) * imageSize;
    for (let r = 0; r < runs.length; r += 4) {
      const column = n * block + runs[r] + runs[r + 2];
      const copied = runs[r + 3];
      const target = image + runs[r + 1];
      for (let j = 0; j < copied; j++) dx[target + j] += cols[column + j];
    }
  }
}

/** The filter rows of the used taps ([k, out]), or the filter itself when every tap is used. */
function usedFilterRows(p: Plan, w: Float32Array): Float32Array {
  const { filterWidth, inChannels: c, outChannels: o } = p.info;
  if (p.taps.length === p.info.filterHeight * filterWidth) return w;
  const rows = buffer("filter", p.k * o);
  p.taps.forEach(([kh, kw], t) => {
    const from = (kh * filterWidth + kw) * c * o;
    rows.set(w.subarray(from, from + c * o), t * c * o);
  });
  return rows;
}

function forward(blas: BlasProvider, p: Plan, x: Float32Array, w: Float32Array, y: Float32Array) {
  multiplyColumns(blas, p, x, p.k === 0 ? w : usedFilterRows(p, w), y);
}

/** y = columns(x) filter, for the used taps' filter rows ([k, out]). */
function multiplyColumns(
  blas: BlasProvider,
  p: Plan,
  x: Float32Array,
  filter: Float32Array,
  y: Float32Array,
) {
  const o = p.info.outChannels;
  if (p.k === 0) return void y.fill(0);
  for (let first = 0; first < p.info.batchSize; first += p.chunk) {
    const count = Math.min(p.chunk, p.info.batchSize - first);
    const rows = count * p.perImage;
    const cols = im2col(p, x, first, count);
    const out = y.subarray(first * p.perImage * o);
    blas.sgemm(false, false, rows, o, p.k, 1, cols, p.k, filter, o, 0, out, o);
  }
}

/**
 * For a stride-1, dilation-1 convolution whose padding is below the kernel size: the
 * convolution that maps its output gradient to its input gradient (the kernel flipped in both
 * directions, in and out channels swapped, padding kernel - 1 - pad on each side).
 */
function transposedInfo(info: Conv2DInfo): Conv2DInfo | undefined {
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const pads = [kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right];
  if (
    info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 ||
    info.dilationWidth !== 1 || pads.some((pad) => pad < 0)
  ) {
    return undefined;
  }
  const transposed = tf.backend_util.computeConv2DInfo(
    [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
    [kh, kw, info.outChannels, info.inChannels],
    1,
    1,
    [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]],
    undefined,
    false,
    "channelsLast",
  );
  const same = transposed.outHeight === info.inHeight && transposed.outWidth === info.inWidth;
  return same ? transposed : undefined;
}

/**
 * The rows of the transposed convolution's filter for its used taps: tap (kh, kw) of the
 * transposed convolution is the original's tap (KH - 1 - kh, KW - 1 - kw), transposed to
 * [out, in]. Only used taps are built (a 3 x 3 convolution of a 1 x 1 map uses one).
 */
function flippedFilterRows(
  blas: BlasProvider,
  info: Conv2DInfo,
  taps: [number, number][],
  w: Float32Array,
): Float32Array {
  const { filterHeight: kh, filterWidth: kw, inChannels: c, outChannels: o } = info;
  const rows = buffer("flipped", taps.length * c * o);
  taps.forEach(([h, v], t) => {
    const from = ((kh - 1 - h) * kw + (kw - 1 - v)) * c * o;
    blas.transpose(c, o, w.subarray(from, from + c * o), rows.subarray(t * c * o));
  });
  return rows;
}

/**
 * The input gradient: for stride-1 convolutions as the forward pass of the transposed
 * convolution (its im2col copies runs, where the scatter below adds element by element, and its
 * product has the long inner dimension); otherwise dcols = dY Wᵀ scattered back onto dx.
 */
function inputGradient(
  blas: BlasProvider,
  p: Plan,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array,
) {
  const transposed = transposedInfo(p.info);
  if (transposed) {
    const tp = plan(transposed);
    return multiplyColumns(blas, tp, dy, flippedFilterRows(blas, p.info, tp.taps, w), dx);
  }
  const o = p.info.outChannels;
  dx.fill(0);
  if (p.k === 0) return;
  const filter = usedFilterRows(p, w);
  for (let first = 0; first < p.info.batchSize; first += p.chunk) {
    const count = Math.min(p.chunk, p.info.batchSize - first);
    const rows = count * p.perImage;
    const dcols = buffer("columns", rows * p.k);
    const grad = dy.subarray(first * p.perImage * o);
    blas.sgemm(false, true, rows, p.k, o, 1, grad, o, filter, o, 0, dcols, p.k);
    col2imAdd(p, dcols, dx, first, count);
  }
}

function filterGradient(
  blas: BlasProvider,
  p: Plan,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
) {
  const { inChannels: c, outChannels: o, filterWidth } = p.info;
  const allTaps = p.taps.length === p.info.filterHeight * filterWidth;
  if (!allTaps) dw.fill(0);
  if (p.k === 0) return;
  const sums = allTaps ? dw : buffer("filter", p.k * o);
  for (let first = 0; first < p.info.batchSize; first += p.chunk) {
    const count = Math.min(p.chunk, p.info.batchSize - first);
    const rows = count * p.perImage;
    const cols = im2col(p, x, first, count);
    const grad = dy.subarray(first * p.perImage * o);
    blas.sgemm(true, false, p.k, o, rows, 1, cols, p.k, grad, o, first === 0 ? 0 : 1, sums, o);
  }
  if (allTaps) return;
  p.taps.forEach(([kh, kw], t) => {
    dw.set(sums.subarray(t * c * o, (t + 1) * c * o), (kh * filterWidth + kw) * c * o);
  });
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

function supported(attrs: ConvAttrs, ...tensors: TensorInfo[]): boolean {
  return attrs.dataFormat !== "NCHW" && tensors.every((t) => t.dtype === "float32") &&
    tensors.every((t) => tf.util.sizeFromShape(t.shape) > 0);
}

type ConvPass = (
  blas: BlasProvider,
  p: Plan,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
) => void;

/**
 * A kernel running one convolution pass on its two inputs (named `names`): `shapes` gives the
 * input and filter shapes of the convolution and the output shape (null: the convolution's).
 * Unsupported cases (not float32, NCHW, empty inputs) go to `fallback`.
 */
function convolutionKernel(
  names: [string, string],
  shapes: (
    a: TensorInfo,
    b: TensorInfo,
    attrs: Record<string, unknown>,
  ) => { input: number[]; filter: number[]; out: number[] | null },
  pass: ConvPass,
) {
  return (blas: BlasProvider, fallback?: tf.KernelFunc): tf.KernelFunc => (args: KernelArgs) => {
    const a = args.inputs[names[0]] as TensorInfo;
    const b = args.inputs[names[1]] as TensorInfo;
    const attrs = args.attrs as unknown as ConvAttrs;
    if (!supported(attrs, a, b)) {
      if (fallback) return fallback(args);
      throw new Error("convolutions support only float32 NHWC tensors here");
    }
    const backend = args.backend as unknown as BackendWasm;
    const { input, filter, out } = shapes(a, b, args.attrs as Record<string, unknown>);
    const info = convInfo(input, filter, attrs);
    const output = backend.makeOutput(out ?? info.outShape, "float32");
    pass(blas, plan(info), heapView(backend, a), heapView(backend, b), heapView(backend, output));
    return output;
  };
}

/**
 * Conv2D (inputs x, filter) through BLAS.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import type { BlasProvider } from "./blas/provider.ts";
 * declare const blas: BlasProvider, wasmConv2D: tf.KernelFunc;
 * tf.registerKernel({ kernelName: tf.Conv2D, backendName: "openblas",
 *   kernelFunc: conv2dKernel(blas, wasmConv2D) });
 * ```
 */
export const conv2dKernel = convolutionKernel(
  ["x", "filter"],
  (x, filter) => ({ input: x.shape, filter: filter.shape, out: null }),
  forward,
);

/**
 * Conv2DBackpropInput (inputs dy, filter; the input gradient) through BLAS.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import type { BlasProvider } from "./blas/provider.ts";
 * declare const blas: BlasProvider, wasmConv2DBackpropInput: tf.KernelFunc;
 * tf.registerKernel({ kernelName: tf.Conv2DBackpropInput, backendName: "openblas",
 *   kernelFunc: conv2dInputGradientKernel(blas, wasmConv2DBackpropInput) });
 * ```
 */
export const conv2dInputGradientKernel = convolutionKernel(
  ["dy", "filter"],
  (_dy, filter, attrs) => {
    const input = attrs.inputShape as number[];
    return { input, filter: filter.shape, out: input };
  },
  inputGradient,
);

/**
 * Conv2DBackpropFilter (inputs x, dy; the filter gradient) through BLAS.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import type { BlasProvider } from "./blas/provider.ts";
 * declare const blas: BlasProvider;
 * tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: "openblas",
 *   kernelFunc: conv2dFilterGradientKernel(blas) });
 * ```
 */
export const conv2dFilterGradientKernel = convolutionKernel(
  ["x", "dy"],
  (x, _dy, attrs) => {
    const filter = attrs.filterShape as number[];
    return { input: x.shape, filter, out: filter };
  },
  filterGradient,
);
